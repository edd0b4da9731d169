/**
 * Gofer's Prometheus metrics: one registry per server, every metric defined here with its labels, so the README's
 * list and this file say the same. Label values are bounded: namespaces, pipelines, statuses, HTTP route
 * patterns, engine operations and extension ids; never a run, a task execution or a token.
 *
 * Counters and histograms are fed where things happen (the run loop's events, the engine wrapper, the HTTP hook,
 * the log store); gauges of what is, not what happened (queue depth, tasks running, listeners, extension states)
 * are read when Prometheus scrapes, from storage or from the process, so any replica answers them truly.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** Seconds, from a quick engine call to an hour-long task. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
/** Seconds, for what is fast unless something is wrong (HTTP requests, transactions). */
const FAST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What a gauge reads at scrape time; each returns label sets with values. */
export interface ScrapeSources {
  queuedRuns(): Promise<Array<{ namespace: string; pipeline: string; count: number }>>;
  runningTasks(): Promise<number>;
  eventStreams(): number;
  logFollowers(): number;
  extensions(): Array<{ extension: string; state: string; restarts: number }>;
  /** 1 when this replica runs the work (always, on SQLite). */
  leads(): boolean;
}

export class GoferMetrics {
  readonly registry = new Registry();
  readonly runsStarted: Counter<"namespace" | "pipeline">;
  readonly runsFinished: Counter<"namespace" | "pipeline" | "status">;
  readonly runDuration: Histogram<"namespace" | "pipeline" | "status">;
  readonly runQueued: Histogram<"namespace" | "pipeline">;
  readonly taskDuration: Histogram<"namespace" | "pipeline" | "status">;
  readonly engineCall: Histogram<"operation">;
  readonly engineErrors: Counter<"operation">;
  readonly imagePull: Histogram<"outcome">;
  readonly logBytes: Counter;
  readonly logLines: Counter;
  readonly extensionHealthFailures: Counter<"extension">;
  readonly httpRequest: Histogram<"method" | "route" | "status">;
  readonly transaction: Histogram<"outcome">;

  constructor(sources: ScrapeSources) {
    const registers = [this.registry];
    processMetrics(registers);
    this.runsStarted = new Counter({
      name: "gofer_runs_started_total",
      help: "Runs admitted and started.",
      labelNames: ["namespace", "pipeline"],
      registers,
    });
    this.runsFinished = new Counter({
      name: "gofer_runs_finished_total",
      help: "Runs completed, by final status.",
      labelNames: ["namespace", "pipeline", "status"],
      registers,
    });
    this.runDuration = new Histogram({
      name: "gofer_run_duration_seconds",
      help: "From a run's start (admission) to its completion.",
      labelNames: ["namespace", "pipeline", "status"],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.runQueued = new Histogram({
      name: "gofer_run_queued_seconds",
      help: "How long a run waited in the queue before it started.",
      labelNames: ["namespace", "pipeline"],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.taskDuration = new Histogram({
      name: "gofer_task_duration_seconds",
      help: "From a task attempt's start to its completion, by final status.",
      labelNames: ["namespace", "pipeline", "status"],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.engineCall = new Histogram({
      name: "gofer_engine_call_seconds",
      help: "Calls to the container engine (scheduler), by operation.",
      labelNames: ["operation"],
      buckets: FAST_BUCKETS,
      registers,
    });
    this.engineErrors = new Counter({
      name: "gofer_engine_errors_total",
      help: "Failed calls to the container engine, by operation.",
      labelNames: ["operation"],
      registers,
    });
    this.imagePull = new Histogram({
      name: "gofer_image_pull_seconds",
      help: "Image pulls by the Docker backend, by outcome (pulled, failed).",
      labelNames: ["outcome"],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.logBytes = new Counter({
      name: "gofer_log_bytes_total",
      help: "Bytes of task output stored in task logs.",
      registers,
    });
    this.logLines = new Counter({
      name: "gofer_log_lines_total",
      help: "Lines of task output stored in task logs.",
      registers,
    });
    this.extensionHealthFailures = new Counter({
      name: "gofer_extension_health_check_failures_total",
      help: "Health checks an extension did not answer.",
      labelNames: ["extension"],
      registers,
    });
    this.httpRequest = new Histogram({
      name: "gofer_http_request_duration_seconds",
      help: "API requests, by method, route pattern and status code.",
      labelNames: ["method", "route", "status"],
      buckets: FAST_BUCKETS,
      registers,
    });
    this.transaction = new Histogram({
      name: "gofer_db_transaction_seconds",
      help: "Database transactions of state changes, by outcome (committed, rolled_back).",
      labelNames: ["outcome"],
      buckets: FAST_BUCKETS,
      registers,
    });
    new Gauge({
      name: "gofer_runs_queued",
      help: "Runs waiting to start, by pipeline.",
      labelNames: ["namespace", "pipeline"],
      registers,
      async collect() {
        this.reset();
        for (const row of await sources.queuedRuns()) {
          this.set({ namespace: row.namespace, pipeline: row.pipeline }, row.count);
        }
      },
    });
    new Gauge({
      name: "gofer_tasks_running",
      help: "Task executions being started or running.",
      registers,
      async collect() {
        this.set(await sources.runningTasks());
      },
    });
    new Gauge({
      name: "gofer_event_stream_connections",
      help: "Clients following the event stream on this replica.",
      registers,
      collect() {
        this.set(sources.eventStreams());
      },
    });
    new Gauge({
      name: "gofer_log_followers",
      help: "Clients following a task log on this replica.",
      registers,
      collect() {
        this.set(sources.logFollowers());
      },
    });
    new Gauge({
      name: "gofer_extension_up",
      help: "1 for each extension's current state (processing, running, failed, disabled …), on the leading replica.",
      labelNames: ["extension", "state"],
      registers,
      collect() {
        this.reset();
        for (const { extension, state } of sources.extensions()) this.set({ extension, state }, 1);
      },
    });
    new Counter({
      name: "gofer_extension_restarts_total",
      help: "Restarts of each extension since this replica began supervising it.",
      labelNames: ["extension"],
      registers,
      collect() {
        this.reset();
        for (const { extension, restarts } of sources.extensions()) this.inc({ extension }, restarts);
      },
    });
    new Gauge({
      name: "gofer_replica_leader",
      help: "1 when this replica runs the work (always, on one server), 0 on a follower.",
      registers,
      collect() {
        this.set(sources.leads() ? 1 : 0);
      },
    });
  }

  /** The exposition, in Prometheus' text format. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * The process's own health, in the standard `process_*` names. prom-client's default set is not used: three of
 * its gauges end in `_total`, which `promtool check metrics` rejects.
 */
function processMetrics(registers: Registry[]): void {
  const started = Date.now() / 1000 - process.uptime();
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  new Gauge({
    name: "process_start_time_seconds",
    help: "When the process started, in seconds since the epoch.",
    registers,
    collect() {
      this.set(started);
    },
  });
  new Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory of the process.",
    registers,
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  new Gauge({
    name: "nodejs_heap_used_bytes",
    help: "JavaScript heap in use.",
    registers,
    collect() {
      this.set(process.memoryUsage().heapUsed);
    },
  });
  new Counter({
    name: "process_cpu_seconds_total",
    help: "CPU time the process used, user and system.",
    registers,
    collect() {
      const { user, system } = process.cpuUsage();
      this.reset();
      this.inc((user + system) / 1e6);
    },
  });
  new Gauge({
    name: "nodejs_eventloop_delay_p99_seconds",
    help: "The 99th percentile of the event loop's delay since the last scrape.",
    registers,
    collect() {
      this.set(loopDelay.percentile(99) / 1e9);
      loopDelay.reset();
    },
  });
}
