/**
 * The contract every container backend implements: Docker (`docker/`), Docker Swarm (`swarm/`) and Kubernetes
 * (`kubernetes/`). "Container" below means the backend's unit of work: a container, a one-shot swarm service, a
 * pod. The orchestrator, recovery and the extension supervisor only ever talk to this interface, and
 * `test/scheduler-conformance.test.ts` holds every backend to the same behaviour:
 *
 * - **Start** pulls per policy and starts; a start that fails leaves nothing behind, and an image that cannot be
 *   had is a `failed` {@link SchedulerError} naming it. Everything started carries `gofer.managed=true` plus the
 *   given labels, and {@link Scheduler.listManaged} finds it by them: recovery depends on that.
 * - **Exit** is observed with {@link Scheduler.wait}, which answers again (at once) for an exited container and
 *   says `not_found` for one that is gone.
 * - **Logs** come demultiplexed, in order, complete (a last line without newline included), each piece with the
 *   opaque {@link LogCursor} position after it; asking with `after` resumes exactly there, in a follower or a
 *   plain read, so capture survives a restart of Gofer or of the engine without losing or repeating a line.
 *   A start with `captureOutput` may hand the output back live ({@link LiveOutput}); its positions resume the
 *   same way.
 * - **Stop** sends SIGTERM and kills after the grace period; the exit code stays observable. **Remove** of a
 *   missing container succeeds.
 * - **Failures** are {@link SchedulerError}s whose message is fit to show a user (it becomes a task's
 *   `status_reason.description`) and whose `kind` says whether retrying can help.
 *
 * - **Exec** (optional: backends that cannot run a process inside a running container leave it out) starts a
 *   command inside a running container, for attaching a terminal to a task.
 *
 * A backend never touches storage.
 */

/** Credentials for a private registry, as a task's `registry_auth` declares them. */
export interface RegistryAuth {
  user: string;
  pass: string;
}

/** Everything a backend needs to start one container. */
export interface ContainerSpec {
  /** A name unique among the containers Gofer manages (made in `container-labels.ts`). */
  name: string;
  image: string;
  /** The final, interpolated environment. */
  env: Record<string, string>;
  /** Replaces the image's ENTRYPOINT when set. */
  entrypoint?: string[] | null;
  /** Replaces the image's CMD when set. */
  command?: string[] | null;
  /** Every container Gofer creates carries `gofer.managed=true` plus the labels given here (`container-labels.ts`). */
  labels: Record<string, string>;
  registryAuth?: RegistryAuth | null;
  /** Pull even when the image is present locally. Otherwise pull only when it is missing. */
  alwaysPull: boolean;
  /** Limits the task declared (an extension of v0); a backend applies what it can and ignores what is absent. */
  resources?: ContainerResources;
  /**
   * Hand the container's output from its first byte back with the start ({@link StartedContainer.output}), for
   * the one reader that captures it. Backends that cannot leave `output` unset, and the caller follows
   * {@link Scheduler.logs} instead.
   */
  captureOutput?: boolean;
  /**
   * Abandons the start (a cancelled task): a pull in progress is dropped and no container is started. Backends
   * that cannot stop a pull midway honour it between steps; the caller removes a container that still appears.
   */
  signal?: AbortSignal;
  /**
   * For long-running services (extensions): the TCP port the container listens on. The backend makes it
   * reachable from Gofer and reports where in {@link StartedContainer.serviceAddress}.
   */
  servicePort?: number;
  /**
   * Runs the command under a minimal init (Docker's `docker-init`, tini) that forwards signals and reaps
   * zombies, so the command is not PID 1: PID 1 ignores every signal it has no handler for, and a
   * `sh -c "sleep 300"` would sit out a stop's whole grace period. Set for tasks, which run whatever their
   * authors wrote. Left off for extensions: they are purpose-built services that handle SIGTERM themselves
   * (the SDK's kit does), and their image decides how it starts (it may bring its own init), as it does under
   * a plain `docker run`. Kubernetes has no per-container init: the pod shares one process namespace instead, so
   * the pause container is PID 1 (see `pod-translation.ts`).
   */
  init?: boolean;
}

/** CPU and memory a container may use; Kubernetes also requests them. */
export interface ContainerResources {
  /** CPU cores, fractions allowed (0.5 is half a core). */
  cpu?: number;
  /** Bytes of memory. */
  memoryBytes?: number;
}

/** What `start` hands back: the backend's own handle for the container. */
export interface StartedContainer {
  id: string;
  /** `host:port` where Gofer reaches the container's `servicePort`; set only when one was asked for. */
  serviceAddress?: string;
  /** The container's output from its first byte, when `captureOutput` asked for it (see {@link LiveOutput}). */
  output?: LiveOutput;
}

/**
 * Output delivered as the container writes it (Docker: the attach stream, as `docker run` reads it), each piece
 * with its position, so that a reader interrupted part-way resumes with {@link Scheduler.logs} `after` it. The
 * container may wait for it to be read, as it waits for a full pipe: the receiver must read it to its end or
 * `close` it.
 */
export interface LiveOutput {
  chunks: AsyncIterable<LogChunk>;
  /** Stops reading; the container goes on and its output stays readable through {@link Scheduler.logs}. */
  close(): void;
}

/** One piece of a container's output, already demultiplexed. Never split or joined into lines here. */
export interface LogChunk {
  stream: "stdout" | "stderr";
  data: Buffer;
  /** Where the output resumes right after this piece (pass it as `after`). Backends that can resume set it. */
  position?: LogCursor;
}

/**
 * A position in a container's output, opaque to callers: each backend gives it the shape it needs to resume
 * exactly (engine timestamps and how much to skip after one; see the backends' log-position modules) and checks
 * the one it is handed. It survives JSON, since capture keeps it on disk to resume after a restart.
 */
export type LogCursor = { readonly [key: string]: string | number | undefined };

export interface LogOptions {
  /** Keep the stream open until the container exits. */
  follow: boolean;
  /** Only output produced at or after this time (Unix epoch milliseconds). */
  sinceMs?: number;
  /** Only the last this many lines (the engine counts them); for reads without `follow`. */
  tailLines?: number;
  /** Only output after this position (exclusive): how log capture resumes without losing or repeating a piece. */
  after?: LogCursor;
  /** Ends the stream early, e.g. when the reader went away; the iterator then finishes quietly. */
  signal?: AbortSignal;
}

/** A managed container as seen by the backend, for recovery and reaping. */
export interface ManagedContainer {
  id: string;
  name: string;
  labels: Record<string, string>;
  /** `running` while the process lives; `exited` once it has stopped; anything else is backend-specific. */
  state: string;
}

/** A command to run inside a running container. */
export interface ExecOptions {
  command: string[];
  /** A terminal: output comes as one stream (as "stdout") and the size can be set with `resize`. */
  tty: boolean;
}

/** A process running inside a container, attached. */
export interface ExecSession {
  /** The process's stdin; ending it closes stdin. */
  input: NodeJS.WritableStream;
  /** The process's output, in order, until it ends. */
  output: AsyncIterable<LogChunk>;
  /** The exit code once the process has ended (null when the backend cannot tell). */
  exit(): Promise<number | null>;
  /** Sets the terminal's size (with `tty`). */
  resize(columns: number, rows: number): Promise<void>;
  /** Detaches; the process ends when its stdin closes, as a shell does. */
  close(): void;
}

export interface ExitResult {
  exitCode: number;
}

export interface Scheduler {
  /**
   * Pulls the image per policy, creates and starts the container. Throws {@link SchedulerError} when the image
   * cannot be pulled or the container cannot be created or started; a half-created container is removed first.
   */
  start(spec: ContainerSpec): Promise<StartedContainer>;
  /**
   * Resolves once the container has exited, with its exit code. Event-driven: no polling delay. Aborting the
   * signal abandons the wait (the container is untouched) and rejects.
   */
  wait(id: string, options?: { signal?: AbortSignal }): Promise<ExitResult>;
  /** The container's output in order. With `follow`, the iterator ends when the container exits. */
  logs(id: string, options: LogOptions): AsyncIterable<LogChunk>;
  /** Asks the container to stop (SIGTERM), kills it after `timeoutSeconds`. Stopping a stopped container is a no-op. */
  stop(id: string, timeoutSeconds: number): Promise<void>;
  /** Removes the container. Removing a missing container is a no-op. */
  remove(id: string): Promise<void>;
  /** Every container carrying `gofer.managed=true` and all the given labels. */
  listManaged(labels?: Record<string, string>): Promise<ManagedContainer[]>;
  /** Runs a command inside a running container (see {@link ExecSession}); absent where the backend cannot. */
  exec?(id: string, options: ExecOptions): Promise<ExecSession>;
  /**
   * The host a service container should bind its `servicePort` on: loopback when it shares the host's network
   * (so it is not exposed beyond this machine), every interface when the backend forwards a port to it.
   */
  serviceBindHost(): string;
  /**
   * Tells `listener` of every image pull the backend itself makes (how long, whether it got the image); absent
   * where the orchestrator pulls (Swarm, Kubernetes) and Gofer cannot see it.
   */
  observeImagePulls?(listener: (seconds: number, pulled: boolean) => void): void;
  /**
   * True where the backend hands over stdout and stderr as one stream (Kubernetes' pod logs): every chunk then
   * says `stdout`, and a log records no stream for its lines rather than a wrong one.
   */
  readonly mergesStreams?: boolean;
}

/**
 * What went wrong, for callers that react differently: `unavailable` (the engine did not answer, the
 * connection broke, or it answered with a server error, as one shutting down or starting does: worth
 * retrying), `not_found` (the container is gone), `failed` (anything else, such as a request it refused).
 */
export type SchedulerErrorKind = "unavailable" | "not_found" | "failed";

/** A failure of the backend itself (pull, create, engine unreachable), as opposed to a task that exits non-zero. */
export class SchedulerError extends Error {
  override name = "SchedulerError";
  readonly kind: SchedulerErrorKind;

  constructor(message: string, options: { cause?: unknown; kind?: SchedulerErrorKind } = {}) {
    super(message, { cause: options.cause });
    this.kind = options.kind ?? "failed";
  }
}
