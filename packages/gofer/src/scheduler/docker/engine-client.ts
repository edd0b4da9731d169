/**
 * A thin, typed client for the slice of the Docker Engine API that Gofer uses, over `node:http`.
 *
 * Only the request and response fields Gofer reads or writes are declared. The client knows HTTP and the engine's
 * conventions (status codes, streamed answers); it knows nothing about tasks or runs.
 */
import http, { type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import type { Duplex, Readable } from "node:stream";

const DEFAULT_HOST = "unix:///var/run/docker.sock";

/** Socket errors meaning no engine answers at the address, as opposed to a connection lost mid-request. */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ENOENT",
  "EACCES",
  "ENOTSOCK",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
]);

export interface EngineClientOptions {
  /** `unix:///path/to/docker.sock` or `tcp://host:port`. Defaults to `DOCKER_HOST`, then the standard socket. */
  host?: string;
  /**
   * Pins the API version (e.g. `"1.41"`). Unpinned requests get the engine's own version, which keeps working
   * across engines that raise their minimum supported version; the fields used here are stable across versions.
   */
  apiVersion?: string;
}

/** The engine answered with a non-success status, or reported an error inside a streamed answer. */
export class EngineError extends Error {
  override name = "EngineError";
  /** The HTTP status; 200 when the error arrived inside a streamed answer (e.g. a pull). */
  readonly status: number;
  /** The engine's own explanation, fit to show a user. */
  readonly engineMessage: string;

  constructor(status: number, engineMessage: string, request: string) {
    super(`Docker engine answered ${status} to ${request}: ${engineMessage}`);
    this.status = status;
    this.engineMessage = engineMessage;
  }
}

/** No engine answers at the configured address. */
export class EngineUnreachableError extends Error {
  override name = "EngineUnreachableError";
  readonly host: string;

  constructor(host: string, cause: Error) {
    super(`Docker engine unreachable at ${host}: ${cause.message}`, { cause });
    this.host = host;
  }
}

export interface ExecCreateBody {
  Cmd: string[];
  Tty: boolean;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Env?: string[];
}

export interface EngineVersion {
  Version: string;
  ApiVersion: string;
  MinAPIVersion: string;
  Os: string;
  Arch: string;
}

export interface ImageInspect {
  Id: string;
  RepoTags: string[] | null;
}

export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface ContainerCreateBody {
  Image: string;
  Env?: string[];
  Labels?: Record<string, string>;
  Entrypoint?: string[];
  Cmd?: string[];
  HostConfig?: {
    NetworkMode?: string;
    PortBindings?: Record<string, Array<{ HostIp: string; HostPort: string }>>;
    /** CPU quota in units of 10⁻⁹ CPUs. */
    NanoCpus?: number;
    /** Memory limit in bytes. */
    Memory?: number;
    /** Memory plus swap, in bytes; equal to `Memory` allows no swap. */
    MemorySwap?: number;
    /** Run the command under the engine's init (`docker run --init`). */
    Init?: boolean;
  };
  ExposedPorts?: Record<string, Record<string, never>>;
}

export interface ContainerCreateResult {
  Id: string;
  Warnings: string[] | null;
}

export interface ContainerWaitResult {
  StatusCode: number;
  Error?: { Message: string } | null;
}

export interface ContainerInspect {
  Id: string;
  /** With a leading slash, as the engine reports it. */
  Name: string;
  State: {
    Status: string;
    Running: boolean;
    ExitCode: number;
    StartedAt: string;
    FinishedAt: string;
  };
  Config: { Image: string; Labels: Record<string, string> | null; Env?: string[] | null };
  HostConfig?: { NanoCpus?: number; Memory?: number; MemorySwap?: number; Init?: boolean | null };
  NetworkSettings?: { Ports?: Record<string, Array<{ HostIp: string; HostPort: string }> | null> | null };
}

export interface ContainerSummary {
  Id: string;
  /** With leading slashes, as the engine reports them. */
  Names: string[];
  Image: string;
  Labels: Record<string, string> | null;
  State: string;
  Status: string;
}

export interface ContainerLogsOptions {
  follow: boolean;
  stdout: boolean;
  stderr: boolean;
  timestamps?: boolean;
  /** Unix seconds, fractional allowed (`"1700000000.123456789"`). */
  since?: string;
  /** Only the last this many lines. */
  tail?: number;
}

export interface ContainerListOptions {
  /** Include stopped containers. */
  all: boolean;
  /** Every `key=value` here must match. */
  labels?: Record<string, string>;
}

/** The engine's own state, as far as Gofer reads it. */
export interface EngineInfo {
  Swarm: {
    /** Empty when the engine is not part of a swarm. */
    NodeID: string;
    /** `inactive`, `pending`, `active`, `error` or `locked`. */
    LocalNodeState: string;
    /** Whether this node is a manager, which alone can create services. */
    ControlAvailable: boolean;
  };
}

/** A swarm service's definition: the slice of `ServiceSpec` Gofer writes. */
export interface ServiceSpec {
  Name: string;
  Labels?: Record<string, string>;
  TaskTemplate: {
    ContainerSpec: {
      Image: string;
      /** The container's entrypoint. */
      Command?: string[];
      /** The container's command (arguments to the entrypoint). */
      Args?: string[];
      Env?: string[];
      /** Labels of the task's container. */
      Labels?: Record<string, string>;
      /** Run the command under the engine's init (`docker service create --init`). */
      Init?: boolean;
    };
    RestartPolicy?: { Condition: "none" | "on-failure" | "any" };
    Resources?: { Limits?: { NanoCPUs?: number; MemoryBytes?: number } };
    Placement?: { Constraints?: string[] };
    Networks?: Array<{ Target: string }>;
  };
  Mode?: { Replicated?: { Replicas: number } };
  EndpointSpec?: {
    Ports?: Array<{ Protocol: "tcp" | "udp"; TargetPort: number; PublishMode: "ingress" | "host" }>;
  };
}

export interface ServiceInspect {
  ID: string;
  /** The version an update must name, so that concurrent updates cannot overwrite each other. */
  Version: { Index: number };
  CreatedAt: string;
  /** As the engine stores it: what Gofer sent plus defaults (and network names resolved to ids). */
  Spec: ServiceSpec;
}

/**
 * A task's lifecycle, in order; `complete` and what follows it are final. Tasks the orchestrator wants gone have
 * the desired state `remove`.
 */
export type TaskState =
  | "new"
  | "allocated"
  | "pending"
  | "assigned"
  | "accepted"
  | "preparing"
  | "ready"
  | "starting"
  | "running"
  | "complete"
  | "shutdown"
  | "failed"
  | "rejected"
  | "remove"
  | "orphaned";

/** One run of a service's container on some node. */
export interface SwarmTask {
  ID: string;
  ServiceID: string;
  /** Empty until the task is assigned to a node. */
  NodeID?: string;
  CreatedAt: string;
  DesiredState: TaskState;
  Status: {
    Timestamp: string;
    State: TaskState;
    Message?: string;
    /** Why the task failed, was rejected, or cannot be scheduled yet. */
    Err?: string;
    ContainerStatus?: { ContainerID?: string; PID?: number; ExitCode?: number };
    PortStatus?: { Ports?: Array<{ Protocol: string; TargetPort: number; PublishedPort?: number }> };
  };
}

type Address = { socketPath: string } | { host: string; port: number };

interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  headers?: OutgoingHttpHeaders;
  /** Statuses outside 2xx that mean success for this call (e.g. 304 on start). */
  accept?: readonly number[];
  /** Abandons the request (and its open answer); the call rejects with an AbortError. */
  signal?: AbortSignal;
}

export class EngineClient {
  /** The address as configured, for error messages. */
  readonly host: string;
  readonly #address: Address;
  readonly #prefix: string;
  // One keep-alive pool: container starts come in bursts and a fresh connection per call would dominate.
  readonly #agent = new http.Agent({ keepAlive: true });

  constructor(options: EngineClientOptions = {}) {
    // An empty setting means unset, as it does for the docker CLI.
    this.host = options.host || process.env.DOCKER_HOST || DEFAULT_HOST;
    this.#address = parseHost(this.host);
    this.#prefix = options.apiVersion === undefined ? "" : `/v${options.apiVersion}`;
  }

  /**
   * Destroys every connection, failing requests still in flight. Idle connections never keep the process alive,
   * so this is only for a clean shutdown.
   */
  close(): void {
    this.#agent.destroy();
  }

  async ping(): Promise<void> {
    await this.#send("GET", "/_ping");
  }

  async version(): Promise<EngineVersion> {
    return this.#json<EngineVersion>("GET", "/version");
  }

  /** The image, or `null` when it is not present locally. */
  async inspectImage(image: string): Promise<ImageInspect | null> {
    const { status, body } = await this.#send("GET", `/images/${encodeURI(image)}/json`, { accept: [404] });
    return status === 404 ? null : parseJson<ImageInspect>(body);
  }

  /** Pulls `image`, resolving once the engine reports the pull complete and rejecting on any in-stream error. */
  async pullImage(
    image: string,
    credentials?: RegistryCredentials | null,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    const { name, tag } = splitReference(image);
    const request = `POST /images/create (${image})`;
    const response = await this.#open("POST", "/images/create", {
      query: { fromImage: name, tag },
      headers: registryAuthHeaders(credentials),
      signal: options.signal,
    });
    // Throwing out of the loop destroys the response, dropping whatever the engine would still send.
    for await (const message of jsonLines(response)) {
      const failure = streamError(message);
      if (failure !== null) throw new EngineError(response.statusCode ?? 200, failure, request);
    }
  }

  async createContainer(name: string, body: ContainerCreateBody): Promise<ContainerCreateResult> {
    return this.#json<ContainerCreateResult>("POST", "/containers/create", { query: { name }, body });
  }

  /** Starting a running container succeeds. */
  async startContainer(id: string): Promise<void> {
    await this.#send("POST", `${containerPath(id)}/start`, { accept: [304] });
  }

  /** Resolves when the container is no longer running; the request stays open as long as that takes. */
  async waitContainer(id: string, options: { signal?: AbortSignal } = {}): Promise<ContainerWaitResult> {
    return this.#json<ContainerWaitResult>("POST", `${containerPath(id)}/wait`, { signal: options.signal });
  }

  async inspectContainer(id: string): Promise<ContainerInspect> {
    return this.#json<ContainerInspect>("GET", `${containerPath(id)}/json`);
  }

  /** The raw multiplexed log stream (see log-demux.ts); the caller consumes or destroys it. */
  async containerLogs(id: string, options: ContainerLogsOptions): Promise<Readable> {
    return this.#open("GET", `${containerPath(id)}/logs`, {
      query: {
        follow: options.follow,
        stdout: options.stdout,
        stderr: options.stderr,
        timestamps: options.timestamps ?? false,
        since: options.since,
        tail: options.tail,
      },
    });
  }

  /**
   * SIGTERM, then SIGKILL after `timeoutSeconds`; resolves once the container has stopped. Stopping a stopped
   * container succeeds.
   */
  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    await this.#send("POST", `${containerPath(id)}/stop`, { query: { t: timeoutSeconds }, accept: [304] });
  }

  async killContainer(id: string, signal = "SIGKILL"): Promise<void> {
    await this.#send("POST", `${containerPath(id)}/kill`, { query: { signal } });
  }

  /** Removing a missing container succeeds. */
  async removeContainer(id: string, options: { force: boolean; volumes: boolean }): Promise<void> {
    await this.#send("DELETE", containerPath(id), {
      query: { force: options.force, v: options.volumes },
      accept: [404],
    });
  }

  async listContainers(options: ContainerListOptions): Promise<ContainerSummary[]> {
    return this.#json<ContainerSummary[]>("GET", "/containers/json", {
      query: { all: options.all, filters: labelFilters(options.labels) },
    });
  }

  /** Creates a process to run inside a running container; returns its exec id. */
  async createExec(id: string, body: ExecCreateBody): Promise<string> {
    const created = await this.#json<{ Id: string }>("POST", `${containerPath(id)}/exec`, { body });
    return created.Id;
  }

  /**
   * Starts an exec and hands back the connection the engine hijacks for it: the process's stdin one way, its
   * output the other (multiplexed like logs unless it has a TTY).
   */
  startExec(execId: string, tty: boolean): Promise<Duplex> {
    return this.#hijack(`/exec/${encodeURIComponent(execId)}/start`, "POST /exec/start", {
      Detach: false,
      Tty: tty,
    });
  }

  /**
   * Attaches to a container's stdout and stderr as `docker run` does (multiplexed like logs): made before the
   * start, the stream holds everything the container writes. The engine waits for this reader as for a pipe,
   * so the caller reads it to its end or destroys it.
   */
  attachContainer(id: string): Promise<Duplex> {
    const search = toSearch({ stream: true, stdout: true, stderr: true });
    return this.#hijack(`${containerPath(id)}/attach${search}`, "POST /containers/attach");
  }

  /** A request whose connection the engine takes over (`101 UPGRADED`) for a raw stream both ways. */
  #hijack(path: string, request: string, body?: unknown): Promise<Duplex> {
    const payload = body === undefined ? "" : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request({
        ...this.#address,
        // A hijacked connection can never go back to the keep-alive pool.
        agent: false,
        method: "POST",
        path: `${this.#prefix}${path}`,
        headers: {
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
          "Content-Length": Buffer.byteLength(payload),
          Connection: "Upgrade",
          Upgrade: "tcp",
        },
      });
      req.on("upgrade", (_response, socket, head) => {
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      req.on("response", (response) => {
        readAll(response).then(
          (text) =>
            reject(
              new EngineError(
                response.statusCode ?? 0,
                engineMessage(text, response.statusCode ?? 0),
                request,
              ),
            ),
          reject,
        );
      });
      req.on("error", (error: NodeJS.ErrnoException) =>
        reject(
          error.code !== undefined && UNREACHABLE_CODES.has(error.code)
            ? new EngineUnreachableError(this.host, error)
            : error,
        ),
      );
      req.end(payload);
    });
  }

  async inspectExec(execId: string): Promise<{ Running: boolean; ExitCode: number | null }> {
    return this.#json("GET", `/exec/${encodeURIComponent(execId)}/json`);
  }

  async resizeExec(execId: string, columns: number, rows: number): Promise<void> {
    await this.#send("POST", `/exec/${encodeURIComponent(execId)}/resize`, {
      query: { w: columns, h: rows },
    });
  }

  async info(): Promise<EngineInfo> {
    return this.#json<EngineInfo>("GET", "/info");
  }

  /**
   * Creates a swarm service; returns its id. The credentials travel with the service so that whichever node
   * runs its task can pull the image.
   */
  async createService(spec: ServiceSpec, credentials?: RegistryCredentials | null): Promise<string> {
    const created = await this.#json<{ ID: string }>("POST", "/services/create", {
      body: spec,
      headers: registryAuthHeaders(credentials),
    });
    return created.ID;
  }

  async inspectService(id: string): Promise<ServiceInspect> {
    return this.#json<ServiceInspect>("GET", servicePath(id));
  }

  /** Replaces the service's spec; fails when `version` is no longer the service's current one. */
  async updateService(id: string, version: number, spec: ServiceSpec): Promise<void> {
    await this.#send("POST", `${servicePath(id)}/update`, { query: { version }, body: spec });
  }

  /** Removing a missing service succeeds. */
  async removeService(id: string): Promise<void> {
    await this.#send("DELETE", servicePath(id), { accept: [404] });
  }

  async listServices(options: { labels?: Record<string, string> } = {}): Promise<ServiceInspect[]> {
    return this.#json<ServiceInspect[]>("GET", "/services", {
      query: { filters: labelFilters(options.labels) },
    });
  }

  /** The tasks of one service, past and present; a missing service is a 404. */
  async listTasks(serviceId: string, options: { signal?: AbortSignal } = {}): Promise<SwarmTask[]> {
    return this.#json<SwarmTask[]>("GET", "/tasks", {
      query: { filters: JSON.stringify({ service: [serviceId] }) },
      signal: options.signal,
    });
  }

  /**
   * The raw multiplexed log stream of a service's tasks, framed like a container's (see log-demux.ts), without
   * the task details the engine can put in front of each line. The caller consumes or destroys it.
   */
  async serviceLogs(id: string, options: ContainerLogsOptions): Promise<Readable> {
    return this.#open("GET", `${servicePath(id)}/logs`, {
      query: {
        follow: options.follow,
        stdout: options.stdout,
        stderr: options.stderr,
        timestamps: options.timestamps ?? false,
        details: false,
        since: options.since,
        tail: options.tail,
      },
    });
  }

  async #json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return parseJson<T>((await this.#send(method, path, options)).body);
  }

  /** A request whose whole answer is read into memory. */
  async #send(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<{ status: number; body: Buffer }> {
    const response = await this.#open(method, path, options);
    return { status: response.statusCode ?? 0, body: await readAll(response) };
  }

  /** Resolves with the response once its headers arrive; rejects with the engine's message on failure. */
  #open(method: string, path: string, options: RequestOptions): Promise<IncomingMessage> {
    const search = toSearch(options.query);
    const request = `${method} ${path}`;
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: OutgoingHttpHeaders = { ...options.headers };
    if (payload !== undefined) {
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = Buffer.byteLength(payload);
    }
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          ...this.#address,
          agent: this.#agent,
          method,
          path: `${this.#prefix}${path}${search}`,
          headers,
          signal: options.signal,
        },
        (response) => {
          const status = response.statusCode ?? 0;
          if ((status >= 200 && status < 300) || options.accept?.includes(status)) {
            resolve(response);
            return;
          }
          readAll(response).then(
            (body) => reject(new EngineError(status, engineMessage(body, status), request)),
            reject,
          );
        },
      );
      req.on("error", (error: NodeJS.ErrnoException) => {
        reject(
          error.code !== undefined && UNREACHABLE_CODES.has(error.code)
            ? new EngineUnreachableError(this.host, error)
            : error,
        );
      });
      req.end(payload);
    });
  }
}

function parseHost(host: string): Address {
  if (host.startsWith("unix://")) {
    const socketPath = host.slice("unix://".length);
    if (socketPath === "") throw new Error(`DOCKER_HOST "${host}" names no socket`);
    return { socketPath };
  }
  if (host.startsWith("tcp://")) {
    const url = new URL(`http://${host.slice("tcp://".length)}`);
    // URL keeps IPv6 literals bracketed; http.request wants them bare.
    return {
      host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: url.port === "" ? 2375 : Number(url.port),
    };
  }
  throw new Error(`unsupported DOCKER_HOST "${host}": expected unix:///path or tcp://host:port`);
}

function containerPath(id: string): string {
  return `/containers/${encodeURIComponent(id)}`;
}

function servicePath(id: string): string {
  return `/services/${encodeURIComponent(id)}`;
}

/** The `filters` parameter matching every `key=value` label given, or none when there are none. */
function labelFilters(labels: Record<string, string> = {}): string | undefined {
  const label = Object.entries(labels).map(([key, value]) => `${key}=${value}`);
  return label.length > 0 ? JSON.stringify({ label }) : undefined;
}

function registryAuthHeaders(credentials: RegistryCredentials | null | undefined): OutgoingHttpHeaders {
  if (!credentials) return {};
  const auth = { username: credentials.username, password: credentials.password };
  return { "X-Registry-Auth": Buffer.from(JSON.stringify(auth)).toString("base64url") };
}

function toSearch(query: RequestOptions["query"]): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    params.set(key, typeof value === "boolean" ? (value ? "1" : "0") : String(value));
  }
  const search = params.toString();
  return search === "" ? "" : `?${search}`;
}

/**
 * Splits an image reference into the `fromImage` and `tag` the pull endpoint takes. A reference without a tag
 * or digest means `latest`: sent bare, the engine would pull every tag of the repository.
 */
function splitReference(image: string): { name: string; tag: string } {
  const at = image.indexOf("@");
  if (at !== -1) return { name: image.slice(0, at), tag: image.slice(at + 1) };
  const colon = image.lastIndexOf(":");
  if (colon > image.lastIndexOf("/")) return { name: image.slice(0, colon), tag: image.slice(colon + 1) };
  return { name: image, tag: "latest" };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parseJson<T>(body: Buffer): T {
  return JSON.parse(body.toString("utf8")) as T;
}

function engineMessage(body: Buffer, status: number): string {
  const text = body.toString("utf8").trim();
  try {
    const parsed: unknown = JSON.parse(text);
    if (isRecord(parsed) && typeof parsed.message === "string") return parsed.message;
  } catch {
    // Not JSON (a proxy's error page, an empty body): the raw text is the best explanation there is.
  }
  return text === "" ? `HTTP ${status}` : text;
}

/** The JSON objects of a newline-delimited JSON stream, as the pull endpoint sends them. */
async function* jsonLines(stream: Readable): AsyncGenerator<unknown> {
  stream.setEncoding("utf8");
  let pending = "";
  for await (const text of stream) {
    pending += text as string;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (line.trim() !== "") yield JSON.parse(line);
    }
  }
  if (pending.trim() !== "") yield JSON.parse(pending);
}

/** The error a streamed progress message carries, or `null` for an ordinary progress message. */
function streamError(message: unknown): string | null {
  if (!isRecord(message)) return null;
  const detail = message.errorDetail;
  if (isRecord(detail) && typeof detail.message === "string" && detail.message !== "") return detail.message;
  if (typeof message.error === "string" && message.error !== "") return message.error;
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
