/**
 * The cron extension: one croner job per subscription starts a run of the pipeline at each scheduled time. With
 * `catch_up=true` the scheduled time of the last tick handled is kept in the extension's object store, and a
 * subscription replayed after downtime that missed a tick starts exactly one run for it.
 */
import { GoferApiError } from "@gofer/sdk/client";
import {
  defineExtension,
  type ExtensionContext,
  type ExtensionDefinition,
  ExtensionError,
  type SubscriptionKey,
} from "@gofer/sdk/extension";
import { Cron } from "croner";
import {
  type CronSettings,
  cronOptions,
  DEFAULT_SECONDS,
  latestTickAtOrBefore,
  missedTicks,
  parseCronParams,
} from "./cron-params.ts";
import { decodeLastFire, encodeLastFire, lastFireKey } from "./last-fire.ts";

const DOCUMENTATION = `Starts a run of the pipeline on a cron schedule.

Subscribe with \`expression\`: 5 fields (minute hour day-of-month month day-of-week), standard cron, or 6 fields
with the year last (minute hour day-of-month month day-of-week year), as Gofer's cron extension read them. In the
6-field form a day must match both day-of-month and day-of-week, as in Gofer; in the 5-field form either is enough
(prefix day-of-week with \`+\` to require both). Names (\`MON-FRI\`, \`JAN\`), ranges, lists, steps (\`*/15\`), \`L\`,
\`W\`, \`#\` and the nicknames \`@hourly\`, \`@daily\`, \`@weekly\`, \`@monthly\`, \`@yearly\` are understood. Years run
1970-2100 (\`2030\`, \`2026-2028\`, \`2026,2028\`, \`*/2\` counting from 1970). Runs fire at second 0 unless
\`seconds\` holds a seconds field such as \`*/30\`. Times, the year included, are in UTC unless \`timezone\` names an
IANA zone such as \`Europe/Berlin\`.

    gofer pipeline subscription create my-pipeline cron nightly -s expression="0 3 * * *" -s timezone=Europe/Berlin
    gofer pipeline subscription create my-pipeline cron xmas-2030 -s expression="0 1 25 12 * 2030"

Each run gets GOFER_EXTENSION_CRON_SCHEDULED_TIME, the scheduled time it stands for (ISO 8601, UTC).

Scheduled times that pass while the extension is not running are skipped. With \`catch_up=true\` the extension
remembers, in its object store, the last scheduled time it handled; when Gofer replays the subscription after a
restart and one or more scheduled times were missed, it starts exactly one run (for the latest missed time) and
logs that it did.`;

interface CronJob {
  key: SubscriptionKey;
  settings: CronSettings;
  job: Cron;
  fired: number;
}

const subscriptionName = (key: SubscriptionKey) =>
  `${key.namespaceId}/${key.pipelineId}/${key.subscriptionId}`;
const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));
const isNotFound = (error: unknown) => error instanceof GoferApiError && error.status === 404;

export interface CronExtensionOptions {
  /** Wall clock, for tests. */
  now?: () => Date;
}

export function createCronExtension(options: CronExtensionOptions = {}): ExtensionDefinition {
  const now = options.now ?? (() => new Date());
  const jobs = new Map<string, CronJob>();

  const rememberFire = async (entry: CronJob, scheduled: Date, context: ExtensionContext) => {
    const body = encodeLastFire({ lastFire: scheduled, ...entry.settings });
    await context.client.objects.extension.put(context.id, lastFireKey(entry.key), body, { force: true });
  };

  /** Starts one run for `scheduled`; with catch_up, records it first so a crash right after cannot repeat it. */
  const fire = async (entry: CronJob, scheduled: Date, context: ExtensionContext) => {
    const name = subscriptionName(entry.key);
    if (entry.settings.catchUp) {
      await rememberFire(entry, scheduled, context).catch((error: unknown) =>
        context.log.warn("could not record the last fire time; a restart may miss or repeat this tick", {
          subscription: name,
          error: errorText(error),
        }),
      );
    }
    entry.fired += 1;
    const variables = { GOFER_EXTENSION_CRON_SCHEDULED_TIME: scheduled.toISOString() };
    try {
      const runId = await context.startRun(entry.key, variables);
      context.log.debug("started run", {
        subscription: name,
        scheduled: variables.GOFER_EXTENSION_CRON_SCHEDULED_TIME,
        run_id: runId,
      });
    } catch (error) {
      context.log.warn("run not started; the schedule goes on", {
        subscription: name,
        error: errorText(error),
      });
    }
  };

  /** With catch_up: one run if a tick was missed since the stored last fire; a first subscribe stores now. */
  const catchUp = async (entry: CronJob, context: ExtensionContext) => {
    const name = subscriptionName(entry.key);
    let stored: Uint8Array | undefined;
    try {
      stored = await context.client.objects.extension.get(context.id, lastFireKey(entry.key));
    } catch (error) {
      if (!isNotFound(error)) {
        context.log.warn("could not read the last fire time; not catching up", {
          subscription: name,
          error: errorText(error),
        });
        return;
      }
    }
    const record = stored && decodeLastFire(stored);
    const current = now();
    const missed = record && missedTicks(entry.settings, record.lastFire, current);
    if (jobs.get(name) !== entry) return;
    if (!missed) {
      if (!record) await rememberFire(entry, current, context);
      return;
    }
    context.log.info("scheduled time(s) missed while the extension was down; starting one catch-up run", {
      subscription: name,
      last_fire: record.lastFire.toISOString(),
      first_missed: missed.first.toISOString(),
      latest_missed: missed.latest.toISOString(),
    });
    await fire(entry, missed.latest, context);
  };

  const stop = (name: string) => {
    const entry = jobs.get(name);
    entry?.job.stop();
    jobs.delete(name);
    return entry;
  };

  return defineExtension({
    documentation: {
      body: DOCUMENTATION,
      configParams: [],
      subscriptionParams: [
        {
          key: "expression",
          required: true,
          documentation:
            'When to start a run: a cron expression of 5 fields ("0 3 * * *"), or 6 with the year last as in ' +
            'Gofer ("0 1 25 12 * 2030"), or a nickname such as "@hourly".',
        },
        {
          key: "seconds",
          required: false,
          documentation:
            'The seconds field, for more than one run a minute: "*/30" with expression "* * * * *" runs every ' +
            '30 seconds. Default "0".',
        },
        {
          key: "timezone",
          required: false,
          documentation:
            'The IANA time zone the expression is read in, such as "Europe/Berlin". Default UTC.',
        },
        {
          key: "catch_up",
          required: false,
          documentation:
            '"true" to start one run after downtime that missed a scheduled time; default "false" (missed times ' +
            "are skipped).",
        },
      ],
    },

    setup(context) {
      context.signal.addEventListener("abort", () => {
        for (const name of [...jobs.keys()]) stop(name);
      });
    },

    subscribe(subscription, context) {
      const settings = parseCronParams(subscription.params, now());
      if (!settings.ok) throw new ExtensionError(400, "INVALID_SUBSCRIPTION", settings.problem);
      const name = subscriptionName(subscription);
      stop(name);
      const key = {
        namespaceId: subscription.namespaceId,
        pipelineId: subscription.pipelineId,
        subscriptionId: subscription.subscriptionId,
      };
      const job = new Cron(
        settings.value.pattern,
        { ...cronOptions(settings.value), unref: true },
        async (self) => {
          const scheduled = latestTickAtOrBefore(self, now()) ?? now();
          await fire(entry, scheduled, context);
        },
      );
      const entry: CronJob = { key, settings: settings.value, job, fired: 0 };
      jobs.set(name, entry);
      context.log.info("schedule set", {
        subscription: name,
        expression: settings.value.expression,
        seconds: settings.value.seconds,
        timezone: settings.value.timezone,
        catch_up: settings.value.catchUp,
        next_run: job.nextRun()?.toISOString(),
      });
      // Run after answering: the catch-up talks to Gofer, which is waiting for this subscribe to finish.
      if (settings.value.catchUp) {
        setImmediate(() => {
          catchUp(entry, context).catch((error: unknown) =>
            context.log.warn("catch-up failed", { subscription: name, error: errorText(error) }),
          );
        });
      }
    },

    // The stored last fire time goes too, even when this process never saw the subscription (Gofer may
    // unsubscribe before replaying it after a restart); after answering, as Gofer is waiting for this request.
    unsubscribe(key, context) {
      const name = subscriptionName(key);
      stop(name);
      setImmediate(() => {
        context.client.objects.extension.delete(context.id, lastFireKey(key)).catch((error: unknown) => {
          if (!isNotFound(error)) {
            context.log.warn("could not delete the last fire time", {
              subscription: name,
              error: errorText(error),
            });
          }
        });
      });
    },

    debug() {
      const lines = [`${jobs.size} subscription(s)`];
      for (const [name, entry] of [...jobs.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
        const { expression, seconds, timezone, catchUp } = entry.settings;
        const next = entry.job.nextRun()?.toISOString() ?? "never";
        const atSeconds = seconds === DEFAULT_SECONDS ? "" : `, seconds "${seconds}"`;
        lines.push(
          `${name}: "${expression}"${atSeconds} in ${timezone}${catchUp ? ", catch_up" : ""}, next run at ${next}, ${entry.fired} fired`,
        );
      }
      return lines.join("\n");
    },

    shutdown() {
      for (const name of [...jobs.keys()]) stop(name);
    },
  });
}
