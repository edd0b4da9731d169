/**
 * The interval extension: starts a run of each subscribed pipeline every `every`, on a drift-free schedule with a
 * jittered start (see schedule.ts).
 */
import {
  defineExtension,
  type ExtensionContext,
  type ExtensionDefinition,
  ExtensionError,
  type SubscriptionKey,
} from "@gofer/sdk/extension";
import { formatDuration } from "./duration.ts";
import { type FireInfo, IntervalTimers, realClock, type TimerClock } from "./interval-timers.ts";
import { DEFAULT_MIN_INTERVAL, parseEvery, parseMinInterval } from "./params.ts";

const DOCUMENTATION = `Starts a run of the pipeline at a fixed interval.

Subscribe with \`every\`, a Go-style duration (\`30s\`, \`5m\`, \`1h30m\`):

    gofer pipeline subscription create my-pipeline interval every-5m -s every=5m

The schedule does not drift: fire n is due at start + jitter + n·every on a monotonic clock, so a pipeline on
\`every=1h\` still runs 24 times a day after weeks. The first run happens at a uniformly random point within
the first period (the start jitter), and so does the first run after every restart of the extension: pipelines
subscribed at the same moment, or replayed together when Gofer restarts the extension, do not all fire at once.
If the extension is stalled for longer than a period, the missed runs are skipped, not started in a burst.
Runs get no variables. A run that Gofer refuses to start is logged and the schedule goes on.`;

/** Tests pass a clock and random source to drive the schedule. */
export interface IntervalExtensionOptions {
  clock?: TimerClock;
  random?: () => number;
}

interface IntervalSubscription extends SubscriptionKey {
  every: string;
}

const subscriptionName = (key: SubscriptionKey) =>
  `${key.namespaceId}/${key.pipelineId}/${key.subscriptionId}`;

export function createIntervalExtension(options: IntervalExtensionOptions = {}): ExtensionDefinition {
  const clock = options.clock ?? realClock;
  const subscriptions = new Map<string, IntervalSubscription>();
  let minIntervalMs = 0;
  let context: ExtensionContext | undefined;

  const onFire = (fire: FireInfo) => {
    const subscription = subscriptions.get(fire.key);
    if (!subscription || !context) return;
    const log = context.log;
    const fields = { subscription: fire.key, fire: fire.n, late_ms: Math.round(fire.firedAt - fire.dueAt) };
    log.debug("interval due: starting a run", fields);
    context
      .startRun({ namespaceId: subscription.namespaceId, pipelineId: subscription.pipelineId })
      .then((runId) => log.debug("started run", { ...fields, run_id: runId }))
      .catch((error: unknown) =>
        log.warn("run not started; the schedule goes on", {
          ...fields,
          error: error instanceof Error ? error.message : String(error),
        }),
      );
  };
  const timers = new IntervalTimers({ onFire, clock, ...(options.random ? { random: options.random } : {}) });

  return defineExtension({
    documentation: {
      body: DOCUMENTATION,
      configParams: [
        {
          key: "min_interval",
          required: false,
          documentation:
            `The shortest \`every\` a subscription may ask for, as a Go-style duration (default ` +
            `\`${DEFAULT_MIN_INTERVAL}\`). Subscriptions asking for less are refused.`,
        },
      ],
      subscriptionParams: [
        {
          key: "every",
          required: true,
          documentation:
            "How often to start a run, as a Go-style duration: `30s`, `5m`, `1h30m`. " +
            "At least the extension's min_interval.",
        },
      ],
    },

    setup(ctx) {
      const minInterval = parseMinInterval(ctx.config("min_interval"));
      if (!minInterval.ok) throw new Error(`GOFER_EXTENSION_CONFIG_MIN_INTERVAL: ${minInterval.problem}`);
      minIntervalMs = minInterval.value;
      context = ctx;
      ctx.signal.addEventListener("abort", () => timers.clear(), { once: true });
      ctx.log.info("interval extension ready", { min_interval: formatDuration(minIntervalMs) });
    },

    subscribe(subscription, ctx) {
      context = ctx;
      const every = subscription.params.every ?? "";
      const period = parseEvery(every, minIntervalMs);
      if (!period.ok) throw new ExtensionError(400, "INVALID_SUBSCRIPTION", period.problem);
      const key = subscriptionName(subscription);
      subscriptions.set(key, {
        namespaceId: subscription.namespaceId,
        pipelineId: subscription.pipelineId,
        subscriptionId: subscription.subscriptionId,
        every,
      });
      const entry = timers.set(key, period.value);
      ctx.log.info("schedule set", {
        subscription: key,
        every,
        first_run_in_ms: Math.round(entry.nextAt - clock.now()),
      });
    },

    unsubscribe(key) {
      const name = subscriptionName(key);
      subscriptions.delete(name);
      timers.delete(name);
    },

    debug() {
      const now = clock.now();
      const wallNow = Date.now();
      const lines = [
        `min_interval ${formatDuration(minIntervalMs)}; ${timers.size} subscription(s)`,
        ...timers
          .entries()
          .sort((a, b) => a.key.localeCompare(b.key))
          .map((entry) => {
            const inMs = Math.max(0, entry.nextAt - now);
            const at = new Date(wallNow + inMs).toISOString();
            const every = subscriptions.get(entry.key)?.every ?? formatDuration(entry.periodMs);
            return `${entry.key}: every ${every}, next run at ${at} (in ${formatDuration(Math.round(inMs / 1000) * 1000)}), ${entry.fired} fired`;
          }),
      ];
      return lines.join("\n");
    },

    shutdown() {
      timers.clear();
      subscriptions.clear();
    },
  });
}
