/**
 * What live event streams cost the run loop, and how fast they hear of a change.
 *
 * One real server on the Docker engine runs a fan-out of BENCH_TASKS (100) parallel `true` tasks (run-loop's
 * fan-out shape), in alternating rounds with no listeners and with BENCH_LISTENERS (500) WebSocket listeners on
 * GET /api/events; the order flips every round (off-on, on-off, ...) so neither side always runs second. A run
 * is timed from its POST to its `completed_run` event, heard by one control socket that is open in both kinds
 * of round. Prints whether every listener got every event, the delivery latency over every (listener, event),
 * what a run cost the server thread (CPU, event-loop busy time) and the listener thread (CPU), and last the
 * median run times and their ratio with/without listeners (target ≤ 1.10). Usage:
 * `npm run bench -- event-stream`; knobs BENCH_LISTENERS, BENCH_TASKS, BENCH_ROUNDS (3). The quick look the
 * test command takes: `BENCH_LISTENERS=5 BENCH_TASKS=3 BENCH_ROUNDS=1 npm run bench -- event-stream`.
 *
 * Where the listeners live: the server runs in this process's main thread, so the listeners run in a worker
 * thread (this same file, started with `isMainThread` false) with an event loop of their own: what the run
 * times is the server's event loop, not the clients'. A worker rather than a child process: the same isolation
 * of event loops and heaps, one clock, and nothing to reap. The listeners still share the machine's cores with
 * the server and the engine (and their wake-ups, one per frame, are the kernel's work too), which is why the
 * listener thread's CPU is printed. During a run a listener only notes the arrival time and keeps the frame;
 * frames are parsed after the run, to keep the clients' CPU out of the measured window as far as it can be.
 *
 * Latency: an event's `emitted` is `Date.now()` when its row is inserted, so whole milliseconds, taken before
 * its transaction commits. Latency "from emission" is arrival (wall clock, sub-millisecond) minus `emitted`:
 * it includes the commit and overstates by up to 1 ms, which is fine beside the tens of ms a fan-out to 500
 * sockets takes, not for a few listeners. So the spread "from first arrival" (arrival minus the earliest arrival
 * of the same event at any listener: one clock, sub-millisecond) is printed too: the part the fan-out adds.
 *
 * Every listener must receive every event stored during the run (by id, from the first event after the POST up
 * to the run's `completed_run`), each exactly once and in id order; otherwise the figures are still printed and
 * the exit status is 1.
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { WebSocket } from "ws";
import { countSetting } from "./support/settings.ts";

interface WorkerSetup {
  url: string;
  token: string;
}

/** Commands to the listener thread, and its answers. */
type ToListeners =
  | { type: "connect"; count: number }
  | { type: "collect"; expected: { id: number; emitted: number }[] }
  | { type: "disconnect" };

interface Collected {
  /** Arrival minus `emitted`, ms, for every (listener, expected event). */
  fromEmission: Float64Array;
  /** Arrival minus the event's first arrival at any listener, ms. */
  fromFirst: Float64Array;
  /** Frames each listener received, whether expected or not. */
  counts: number[];
  problems: string[];
  /** CPU the listener thread used from the moment all were connected until asked to collect, ms. */
  cpu: number;
}

type FromListeners =
  | { type: "connected" }
  | { type: "collected"; result: Collected }
  | { type: "disconnected" }
  | { type: "failed"; message: string };

const LISTENERS = countSetting("BENCH_LISTENERS", 500);
const TASKS = countSetting("BENCH_TASKS", 100);
const ROUNDS = countSetting("BENCH_ROUNDS", 3);
/** No run of the benchmark waits longer than this for anything; it fails instead. */
const PATIENCE_MS = 300_000;
/** How many sockets the listener thread opens at once. */
const CONNECT_BATCH = 100;

/** What one run cost, in ms: wall time, and the server thread's CPU and event-loop busy time. */
interface Sample {
  took: number;
  cpu: number;
  busy: number;
}

function sortedTogether(arrays: Float64Array[]): Float64Array {
  const all = new Float64Array(arrays.reduce((sum, array) => sum + array.length, 0));
  let offset = 0;
  for (const array of arrays) {
    all.set(array, offset);
    offset += array.length;
  }
  return all.sort();
}

const quantile = (values: Float64Array, q: number) =>
  values[Math.min(values.length - 1, Math.floor(q * values.length))] ?? Number.NaN;
const median = (values: number[]) => quantile(Float64Array.from(values).sort(), 0.5);
const rounds = (values: number[]) => values.map((value) => value.toFixed(0)).join(",");
const latency = (label: string, values: Float64Array) =>
  `${label}: p50 ${quantile(values, 0.5).toFixed(2)} ms, p99 ${quantile(values, 0.99).toFixed(2)} ms, ` +
  `max ${(values.at(-1) ?? Number.NaN).toFixed(2)} ms`;

const headersFor = (token: string) => ({ "gofer-api-version": "v0", authorization: `Bearer ${token}` });

function listenerThread({ url, token }: WorkerSetup): void {
  const port = parentPort;
  if (!port) throw new Error("the listener thread needs a parent");
  const clock = () => performance.timeOrigin + performance.now();

  interface Listener {
    socket: WebSocket;
    frames: Buffer[];
    arrivals: number[];
  }
  let listeners: Listener[] = [];
  let cpuMark = process.threadCpuUsage();

  const open = (): Promise<Listener> =>
    new Promise((resolve, reject) => {
      const socket = new WebSocket(`${url.replace("http", "ws")}/api/events`, { headers: headersFor(token) });
      const listener: Listener = { socket, frames: [], arrivals: [] };
      socket.on("message", (data: Buffer) => {
        listener.arrivals.push(clock());
        listener.frames.push(data);
      });
      socket.once("open", () => resolve(listener));
      // Stays on after the opening: a socket that fails later shows up as missing events.
      socket.on("error", reject);
      socket.once("unexpected-response", (_request, response) =>
        reject(new Error(`/api/events refused with HTTP ${response.statusCode}`)),
      );
    });

  const connect = async (count: number) => {
    for (let begun = 0; begun < count; begun += CONNECT_BATCH) {
      const batch = Math.min(CONNECT_BATCH, count - begun);
      listeners.push(...(await Promise.all(Array.from({ length: batch }, open))));
    }
    cpuMark = process.threadCpuUsage();
  };

  /** Waits until every listener heard `lastId`, then checks and measures what each heard up to it. */
  const collect = async (expected: { id: number; emitted: number }[]): Promise<Collected> => {
    const cpuUsed = process.threadCpuUsage(cpuMark);
    const lastId = expected.at(-1)?.id ?? 0;
    const ids = listeners.map(() => [] as number[]);
    const parse = () => {
      listeners.forEach((listener, index) => {
        const heard = ids[index] ?? [];
        for (let frame = heard.length; frame < listener.frames.length; frame += 1)
          heard.push(Number(JSON.parse(String(listener.frames[frame])).id));
      });
    };
    const deadline = Date.now() + 30_000;
    for (;;) {
      parse();
      if (ids.every((heard) => heard.some((id) => id >= lastId)) || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const position = new Map(expected.map((event, index) => [event.id, index]));
    const first = new Float64Array(expected.length).fill(Number.POSITIVE_INFINITY);
    const problems: string[] = [];
    const arrivalsByListener = listeners.map((listener, index) => {
      const heard = ids[index] ?? [];
      const ofRun = heard
        .map((id, frame) => ({ id, at: listener.arrivals[frame] ?? 0 }))
        .filter((entry) => position.has(entry.id));
      const inOrder = ofRun.every((entry, order) => entry.id === expected[order]?.id);
      if (ofRun.length !== expected.length || !inOrder) {
        problems.push(
          `listener ${index} heard ${ofRun.length} of ${expected.length} events of the run` +
            `${inOrder ? "" : ", out of order or repeated"}`,
        );
      }
      for (const entry of ofRun) {
        const slot = position.get(entry.id) ?? 0;
        first[slot] = Math.min(first[slot] ?? Number.POSITIVE_INFINITY, entry.at);
      }
      return ofRun;
    });
    const fromEmission: number[] = [];
    const fromFirst: number[] = [];
    for (const ofRun of arrivalsByListener) {
      for (const entry of ofRun) {
        const slot = position.get(entry.id) ?? 0;
        fromEmission.push(entry.at - (expected[slot]?.emitted ?? 0));
        fromFirst.push(entry.at - (first[slot] ?? entry.at));
      }
    }
    return {
      fromEmission: Float64Array.from(fromEmission),
      fromFirst: Float64Array.from(fromFirst),
      counts: listeners.map((listener) => listener.frames.length),
      problems,
      cpu: (cpuUsed.user + cpuUsed.system) / 1000,
    };
  };

  const disconnect = async () => {
    await Promise.all(
      listeners.map(
        ({ socket }) =>
          new Promise<void>((resolve) => {
            if (socket.readyState === WebSocket.CLOSED) return resolve();
            socket.once("close", () => resolve());
            socket.close();
          }),
      ),
    );
    listeners = [];
  };

  port.on("message", (command: ToListeners) => {
    const answer = (message: FromListeners) => port.postMessage(message);
    const work =
      command.type === "connect"
        ? connect(command.count).then((): FromListeners => ({ type: "connected" }))
        : command.type === "collect"
          ? collect(command.expected).then((result): FromListeners => ({ type: "collected", result }))
          : disconnect().then((): FromListeners => ({ type: "disconnected" }));
    work.then(answer, (error: unknown) => answer({ type: "failed", message: String(error) }));
  });
}

async function benchmark(): Promise<void> {
  const { deployPipeline, pipelineConfig, shTask, startRun } = await import(
    "../packages/gofer/test/support/pipelines.ts"
  );
  const { startTestServer } = await import("../packages/gofer/test/support/test-server.ts");
  const { pageEvents } = await import("../packages/gofer/src/storage/events-store.ts");

  const within = <T>(promise: Promise<T>, what: string): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer in ${PATIENCE_MS} ms`)), PATIENCE_MS);
    });
    return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
  };

  /** The control socket: the id of each run's `completed_run` event, as soon as it is heard. */
  const completions = (url: string, token: string) => {
    const socket = new WebSocket(`${url.replace("http", "ws")}/api/events`, { headers: headersFor(token) });
    const waiting = new Map<number, (eventId: number) => void>();
    const seen = new Map<number, number>();
    socket.on("message", (data) => {
      const event = JSON.parse(String(data));
      const completed = event.kind.completed_run;
      if (completed?.pipeline_id !== "bench-events") return;
      seen.set(completed.run_id, Number(event.id));
      waiting.get(completed.run_id)?.(Number(event.id));
    });
    return {
      ready: new Promise<void>((resolve, reject) => {
        socket.once("open", () => resolve());
        socket.once("error", reject);
      }),
      done: (runId: number) =>
        new Promise<number>((resolve) => {
          const eventId = seen.get(runId);
          if (eventId !== undefined) resolve(eventId);
          else waiting.set(runId, resolve);
        }),
      close: () => socket.close(),
    };
  };

  const server = await startTestServer({ GOFER_WEB_API__TASK_EXECUTION_STOP_TIMEOUT: "5" });
  const thread = new Worker(new URL(import.meta.url), {
    workerData: { url: server.url, token: server.token } satisfies WorkerSetup,
  });
  let threadFailure: Error | undefined;
  let answered: ((message: FromListeners) => void) | undefined;
  thread.on("message", (message: FromListeners) => answered?.(message));
  thread.on("error", (error) => {
    threadFailure = error;
    answered?.({ type: "failed", message: String(error) });
  });
  const ask = async <T extends FromListeners["type"]>(
    command: ToListeners,
    expect: T,
  ): Promise<Extract<FromListeners, { type: T }>> => {
    if (threadFailure) throw threadFailure;
    const reply = new Promise<FromListeners>((resolve) => {
      answered = resolve;
    });
    thread.postMessage(command);
    const message = await within(reply, `listener thread (${command.type})`);
    if (message.type === "failed") throw new Error(`listener thread: ${message.message}`);
    if (message.type !== expect)
      throw new Error(`listener thread answered ${message.type} to ${command.type}`);
    return message as Extract<FromListeners, { type: T }>;
  };
  const watch = completions(server.url, server.token);

  try {
    await watch.ready;
    await deployPipeline(
      server,
      pipelineConfig(
        "bench-events",
        Array.from({ length: TASKS }, (_, index) => shTask(`t${index}`, "true")),
      ),
    );
    const lastEventId = async () =>
      Number((await pageEvents(server.service.db, { limit: 1, reverse: true }))[0]?.id ?? 0);

    /**
     * One timed run, the CPU and event-loop busy time of this thread (the server's) during it, and the events
     * stored from its POST to its `completed_run`.
     */
    const timedRun = async (): Promise<Sample & { expected: { id: number; emitted: number }[] }> => {
      const before = await lastEventId();
      const cpuBefore = process.threadCpuUsage();
      const loopBefore = performance.eventLoopUtilization();
      const began = performance.now();
      const runId = await startRun(server, "bench-events");
      const completedId = await within(watch.done(runId), `run ${runId}`);
      const took = performance.now() - began;
      const cpu = process.threadCpuUsage(cpuBefore);
      const busy = performance.eventLoopUtilization(loopBefore).active;
      const expected = (
        await pageEvents(server.service.db, { afterId: before, limit: completedId - before, reverse: false })
      ).map((event) => ({ id: Number(event.id), emitted: event.emitted }));
      return { took, cpu: (cpu.user + cpu.system) / 1000, busy, expected };
    };

    await timedRun(); // warm-up: image, caches and the pipeline's first run are paid for before any round.

    const unlistened: Sample[] = [];
    const listened: Sample[] = [];
    const listenerCpu: number[] = [];
    const fromEmission: Float64Array[] = [];
    const fromFirst: Float64Array[] = [];
    const perListener: number[] = [];
    const eventsPerRun: number[] = [];
    const problems: string[] = [];
    const unlistenedRound = async () => {
      unlistened.push(await timedRun());
    };
    const listenedRound = async (round: number) => {
      await ask({ type: "connect", count: LISTENERS }, "connected");
      const run = await timedRun();
      listened.push(run);
      eventsPerRun.push(run.expected.length);
      const { result } = await ask({ type: "collect", expected: run.expected }, "collected");
      fromEmission.push(result.fromEmission);
      fromFirst.push(result.fromFirst);
      listenerCpu.push(result.cpu);
      perListener.push(...result.counts);
      problems.push(...result.problems.map((problem) => `round ${round}: ${problem}`));
      await ask({ type: "disconnect" }, "disconnected");
    };
    for (let round = 0; round < ROUNDS; round += 1) {
      if (round % 2 === 0) {
        await unlistenedRound();
        await listenedRound(round);
      } else {
        await listenedRound(round);
        await unlistenedRound();
      }
    }

    const emission = sortedTogether(fromEmission);
    const spread = sortedTogether(fromFirst);
    for (const problem of problems.slice(0, 20)) process.stderr.write(`${problem}\n`);
    if (problems.length > 20) process.stderr.write(`... and ${problems.length - 20} more\n`);
    const checked =
      problems.length === 0
        ? "every listener received every event of its run exactly once and in order"
        : `${problems.length} listener(s) did NOT receive every event of the run exactly once and in order`;
    const figure = (samples: Sample[], key: keyof Sample) => median(samples.map((sample) => sample[key]));
    const compared = (key: keyof Sample, what: string) =>
      `${what}: median ${figure(unlistened, key).toFixed(0)} ms with no listeners, ` +
      `${figure(listened, key).toFixed(0)} ms with ${LISTENERS} (rounds: without ` +
      `${rounds(unlistened.map((sample) => sample[key]))}; with ${rounds(listened.map((sample) => sample[key]))})`;
    const lines = [
      `events: ${eventsPerRun.join(",")} stored per listened run; each listener received ` +
        `${Math.min(...perListener)}..${Math.max(...perListener)} frames per run; ${emission.length} deliveries ` +
        `measured; ${checked}`,
      latency(`delivery latency from emission (${LISTENERS} listeners; 1 ms resolution)`, emission),
      latency("delivery spread from the event's first arrival at any listener (sub-ms)", spread),
      compared("cpu", "server thread CPU per run"),
      compared("busy", "server event loop busy per run"),
      `listener thread CPU per listened run: median ${median(listenerCpu).toFixed(0)} ms (rounds: ${rounds(listenerCpu)})`,
      compared("took", `fan-out of ${TASKS} parallel tasks, POST to completed_run`),
      `ratio run time with/without listeners ${(figure(listened, "took") / figure(unlistened, "took")).toFixed(3)} ` +
        `(target ≤ 1.10)${problems.length === 0 ? "" : "; delivery check FAILED"}`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
    if (problems.length > 0) process.exitCode = 1;
  } finally {
    watch.close();
    await thread.terminate();
    await server.stop();
  }
}

if (isMainThread) await benchmark();
else listenerThread(workerData as WorkerSetup);
