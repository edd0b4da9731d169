/**
 * The chaos test: proof that a Gofer server survives `kill -9` at any moment.
 *
 * Starts the server as a child process on a fresh data dir, registers pipelines of busybox tasks that print
 * numbered lines (parallel, chained, failing on purpose with skipped and `any` dependents, queued), starts runs
 * staggered over time and SIGKILLs the server at seeded random moments, restarting it each time. Once every run
 * is complete it checks that each run and task ended as its pipeline says it must, that every log holds each
 * line exactly once and in order, that no task got two containers (Docker's own event log), and that nothing
 * is left running; then stops the server with SIGTERM and cleans up.
 *
 * With `--replicas N` the same runs go through haproxy to N replicas on one private PostgreSQL (scripts/chaos/
 * targets.ts): each kill takes down one replica (the leader half of the time), restarted after a random pause,
 * and the summary adds the time from each kill of the leader to another replica leading. An interval extension
 * keeps starting runs of its own pipeline throughout; it must still be firing at the end.
 *
 *   node scripts/chaos.ts [--kills N] [--runs N] [--seed S] [--keep] [--deadline SECONDS] [--replicas N]
 *
 * Exit code 0 only when every check passes; 1 with the violations listed; 2 for a bad command line.
 */
import { GoferApiError, GoferClient, GoferConnectionError } from "@gofer/sdk/client";
import {
  type EventWatch,
  imageExists,
  listContainers,
  removeContainer,
  watchEvents,
} from "./chaos/engine.ts";
import { checkExtensionStillFiring, startExtensionTicks } from "./chaos/extension-ticks.ts";
import { drawSchedule, parseOptions, seededRandom } from "./chaos/options.ts";
import { IMAGE, PIPELINES, pipelineConfig } from "./chaos/pipelines.ts";
import { printSummary } from "./chaos/summary.ts";
import { type ChaosTarget, replicaServers, singleServer } from "./chaos/targets.ts";
import { type StartRecord, type Verification, verify, waitForCompletion } from "./chaos/verify.ts";

const NS = "default";

const options = parseOptions(process.argv.slice(2));
const began = Date.now();
const deadline = began + options.deadlineMs;
const say = (text: string) =>
  process.stdout.write(`chaos [+${((Date.now() - began) / 1000).toFixed(1)}s] ${text}\n`);

/** Aborted by the global deadline or a signal; every wait in the test gives up when it is. */
const stop = new AbortController();
let phase = "starting";
const deadlineTimer = setTimeout(
  () => stop.abort(new Error(`the global deadline of ${options.deadlineMs / 1000} s passed while ${phase}`)),
  options.deadlineMs,
);

// If cleanup itself hangs, the server must still not outlive the test.
const lastResort = setTimeout(() => {
  process.stderr.write("chaos: cleanup did not finish a minute after the deadline; killing the server\n");
  process.exit(1);
}, options.deadlineMs + 60_000);
lastResort.unref();

function sleepUntil(at: number): Promise<void> {
  return new Promise((wake, fail) => {
    stop.signal.throwIfAborted();
    const timer = setTimeout(done, Math.max(0, at - Date.now()));
    function done() {
      stop.signal.removeEventListener("abort", aborted);
      wake();
    }
    function aborted() {
      clearTimeout(timer);
      fail(stop.signal.reason);
    }
    stop.signal.addEventListener("abort", aborted, { once: true });
  });
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function main(): Promise<number> {
  const random = seededRandom(options.seed);
  const schedule = drawSchedule(
    options,
    PIPELINES.map((spec) => spec.id),
    random,
  );
  const replay =
    `node scripts/chaos.ts --kills ${options.kills} --runs ${options.runs} --seed ${options.seed}` +
    `${options.replicas > 0 ? ` --replicas ${options.replicas}` : ""}`;
  say(`seed ${options.seed}: ${options.kills} kills, ${options.runs} runs (replay: ${replay})`);
  if (!(await imageExists(IMAGE))) {
    say(`the task image ${IMAGE} is missing; build it with: npm run images`);
    return 1;
  }

  const server: ChaosTarget =
    options.replicas > 0
      ? await replicaServers(options.replicas, options.runs)
      : await singleServer(options.runs);
  process.on("exit", () => server.killNow());
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (stop.signal.aborted) {
        server.killNow();
        process.exit(130);
      }
      stop.abort(new Error(`interrupted by ${signal} while ${phase}`));
    });
  }

  const violations: string[] = [];
  const starts = new Map<string, StartRecord>(
    PIPELINES.map((spec) => [spec.id, { attempts: 0, acknowledged: new Map(), interrupted: 0 }]),
  );
  const killTimes: number[] = [];
  const bootTimes: number[] = [];
  const adoptionTimes: number[] = [];
  let instanceId = "";
  let verification: Verification | undefined;
  let leftover: { running: number; exited: number } | undefined;
  let removed = 0;
  let shutdown = "not reached";
  let events: EventWatch | undefined;

  try {
    bootTimes.push(await server.start());
    say(server.describe());
    const { secret: token } = await new GoferClient({ baseUrl: server.url }).tokens.bootstrap();
    const client = new GoferClient({ baseUrl: server.url, token, timeoutMs: 10_000 });
    instanceId = await server.instanceId();
    for (const spec of PIPELINES) {
      const registered = await client.configs.register(NS, spec.id, pipelineConfig(spec));
      await client.configs.deploy(NS, spec.id, registered.version);
    }
    if (options.replicas > 0) await startExtensionTicks(client);
    events = await watchEvents(Math.floor(Date.now() / 1000) - 1, {
      type: ["container"],
      label: [`gofer.instance=${instanceId}`],
    });
    say(`instance ${instanceId}; ${PIPELINES.length} pipelines deployed; chaos begins`);

    const startRun = async (pipelineId: string, at: number) => {
      // Past the deadline the start is dropped; the abort itself is reported by the main flow.
      const due = await sleepUntil(at).then(
        () => true,
        () => false,
      );
      if (!due) return;
      const record = starts.get(pipelineId);
      if (!record) return;
      record.attempts += 1;
      const killsBefore = killTimes.length;
      try {
        const run = await client.runs.start(NS, pipelineId);
        record.acknowledged.set(run.run_id, Date.now());
      } catch (error) {
        // A kill can cut a request off (one server), or the leader it was handed to (replicas: 503).
        const cutOff =
          error instanceof GoferConnectionError ||
          (error instanceof GoferApiError && error.errorCode === "LEADER_UNAVAILABLE");
        if (cutOff && killTimes.length > killsBefore) record.interrupted += 1;
        else if (error instanceof GoferApiError) {
          violations.push(`starting a run of ${pipelineId} answered ${error.status}: ${error.message}`);
        } else violations.push(`starting a run of ${pipelineId} failed with no kill: ${messageOf(error)}`);
      }
    };

    phase = "crashing the server";
    const requests: Promise<void>[] = [];
    for (const [index, interval] of schedule.entries()) {
      const upAt = Date.now();
      for (const { pipeline, offsetMs } of interval.starts)
        requests.push(startRun(pipeline, upAt + offsetMs));
      await sleepUntil(upAt + interval.durationMs);
      const exited = server.unexpectedExit();
      if (exited) throw new Error(`the server ${exited}`);
      if (index === schedule.length - 1) break;
      const containers = await listContainers(`gofer.instance=${instanceId}`);
      const running = containers.filter((container) => container.State === "running").length;
      killTimes.push(Date.now());
      const crash = await server.crash(random);
      bootTimes.push(crash.bootMs);
      if (crash.adoptionMs !== undefined) adoptionTimes.push(crash.adoptionMs);
      const requested = [...starts.values()].reduce((sum, record) => sum + record.attempts, 0);
      say(
        `kill ${killTimes.length}/${options.kills} of ${crash.victim} after ${interval.durationMs} ms up` +
          `${interval.early ? " (during boot)" : ""}: ${running} task container(s) running, ` +
          `${requested} run(s) requested so far; ` +
          `${crash.adoptionMs !== undefined ? `another replica led after ${crash.adoptionMs} ms; ` : ""}` +
          `answering again after ${crash.bootMs} ms`,
      );
    }
    await Promise.all(requests);

    phase = "waiting for the runs to finish";
    say("no more kills; waiting for every run to finish");
    const drainStarted = Date.now();
    const drainDeadline = Math.min(deadline - 60_000, drainStarted + 60_000 + options.runs * 1000);
    const { incomplete, stalled } = await waitForCompletion(
      client,
      drainDeadline,
      30_000,
      () => server.unexpectedExit(),
      stop.signal,
    );
    stop.signal.throwIfAborted();
    if (incomplete.length > 0) {
      const waited = ((Date.now() - drainStarted) / 1000).toFixed(0);
      const why = stalled ? "nothing changed for 30 s" : "the deadline passed";
      violations.push(
        `${incomplete.length} run(s) not complete ${waited} s after the last kill phase (${why})`,
      );
      say(`gave up waiting (${why}): ${incomplete.length} run(s) still incomplete`);
    } else say(`every run complete after ${((Date.now() - drainStarted) / 1000).toFixed(1)} s`);

    phase = "verifying";
    if (options.replicas > 0)
      violations.push(...(await checkExtensionStillFiring(client, killTimes.at(-1) ?? 0)));
    leftover = await leftoverContainers(instanceId);
    verification = await verify({ client, url: server.url, token, events, starts, killTimes });
    violations.push(...verification.violations);
    if (leftover.running > 0)
      violations.push(`${leftover.running} task container(s) still running at the end`);
  } catch (error) {
    violations.push(`aborted: ${messageOf(stop.signal.aborted ? stop.signal.reason : error)}`);
  } finally {
    phase = "cleaning up";
    events?.close();
    const stopped = await server.stop();
    shutdown = `SIGTERM → ${stopped.exit} in ${stopped.ms} ms`;
    if (!stopped.clean && !server.unexpectedExit()) violations.push(`graceful shutdown failed: ${shutdown}`);
    if (instanceId)
      removed = await removeAll(instanceId).catch((error: unknown) => {
        say(`cleanup: ${messageOf(error)}`);
        return 0;
      });
  }

  const failed = violations.length > 0;
  printSummary({
    seed: options.seed,
    plannedKills: options.kills,
    began,
    violations,
    verification,
    starts,
    killTimes,
    bootTimes,
    adoptionTimes,
    leftover,
    removed,
    shutdown,
    schedule,
  });
  if (failed) {
    process.stdout.write(`\nserver log (last 60 lines):\n${server.logTail(60)}\n`);
    process.stdout.write(`\nreplay: ${replay}${options.keep ? "" : " --keep"}\n`);
  }
  const kept = await server.cleanup(options.keep);
  if (kept) say(`kept ${kept}`);
  return failed ? 1 : 0;
}

/** Waits (up to 10 s) for the containers of finished tasks to stop, then counts what is left. */
async function leftoverContainers(instanceId: string): Promise<{ running: number; exited: number }> {
  const until = Date.now() + 10_000;
  for (;;) {
    const containers = await listContainers(`gofer.instance=${instanceId}`);
    const running = containers.filter((container) => container.State === "running").length;
    if (running === 0 || Date.now() > until) return { running, exited: containers.length - running };
    await new Promise((wake) => setTimeout(wake, 250));
  }
}

async function removeAll(instanceId: string): Promise<number> {
  const containers = await listContainers(`gofer.instance=${instanceId}`);
  for (const container of containers) await removeContainer(container.Id);
  return containers.length;
}

main().then(
  (code) => {
    clearTimeout(deadlineTimer);
    process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(
      `chaos: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
