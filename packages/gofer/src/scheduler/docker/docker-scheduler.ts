/** The {@link Scheduler} backed by a single Docker engine. */
import type { Duplex } from "node:stream";
import { managed } from "../container-labels.ts";
import {
  type ContainerResources,
  type ContainerSpec,
  type ExecOptions,
  type ExecSession,
  type ExitResult,
  type LogChunk,
  type LogOptions,
  type ManagedContainer,
  type Scheduler,
  SchedulerError,
  type StartedContainer,
} from "../scheduler.ts";
import {
  type ContainerCreateBody,
  type ContainerCreateResult,
  EngineClient,
  EngineError,
} from "./engine-client.ts";
import { guard, toSchedulerError } from "./engine-errors.ts";
import { createPulling } from "./image-policy.ts";
import { liveOutput } from "./live-output.ts";
import { demuxLogStream } from "./log-demux.ts";
import { LogPosition } from "./log-position.ts";
import {
  positioned,
  type ResumePoint,
  readLogs,
  type TimestampedFrame,
  timestampedFrames,
  unreadRest,
} from "./log-resume.ts";

/** How long exit() waits for the engine to notice that an exec'd process ended: 20 × 50 ms. */
const EXIT_POLLS = 20;
const EXIT_POLL_MS = 50;

export interface DockerSchedulerOptions {
  /** Defaults to a client for `DOCKER_HOST` or the standard socket. */
  client?: EngineClient;
  /** `HostConfig.NetworkMode` of every container, from `scheduler.docker.network_mode`. */
  networkMode: string;
}

export class DockerScheduler implements Scheduler {
  readonly #client: EngineClient;
  readonly #networkMode: string;
  #onPull: ((seconds: number, pulled: boolean) => void) | undefined;

  constructor(options: DockerSchedulerOptions) {
    this.#client = options.client ?? new EngineClient();
    this.#networkMode = options.networkMode;
  }

  async start(spec: ContainerSpec): Promise<StartedContainer> {
    const created = await this.#create(spec);
    let attached: Duplex | undefined;
    try {
      // Attached before the start, as `docker run` does, so the stream holds the output from its first byte.
      if (spec.captureOutput) {
        attached = await guard(`could not attach to container "${spec.name}"`, () =>
          this.#client.attachContainer(created.Id),
        );
      }
      // A cancel that came while the container was being created: it is removed below, never started.
      spec.signal?.throwIfAborted();
      await guard(`could not start container "${spec.name}"`, () => this.#client.startContainer(created.Id));
    } catch (error) {
      attached?.destroy();
      // The start failure is what the user needs to see; a container left behind still carries the managed
      // label, so the reaper removes it even when this removal fails.
      await this.#client.removeContainer(created.Id, { force: true, volumes: true }).catch(() => undefined);
      throw error;
    }
    const output = attached && liveOutput(attached, `container ${created.Id}`);
    if (spec.servicePort === undefined) return { id: created.Id, ...(output && { output }) };
    return {
      id: created.Id,
      serviceAddress: await this.#serviceAddress(created.Id, spec.servicePort),
      ...(output && { output }),
    };
  }

  observeImagePulls(listener: (seconds: number, pulled: boolean) => void): void {
    this.#onPull = listener;
  }

  serviceBindHost(): string {
    return this.#hostNetwork ? "127.0.0.1" : "0.0.0.0";
  }

  get #hostNetwork(): boolean {
    return this.#networkMode === "host";
  }

  /** With host networking the port is the host's own; otherwise the engine picked a loopback port to forward. */
  async #serviceAddress(id: string, port: number): Promise<string> {
    if (this.#hostNetwork) return `127.0.0.1:${port}`;
    const inspected = await guard(`could not inspect container ${id}`, () =>
      this.#client.inspectContainer(id),
    );
    const binding = inspected.NetworkSettings?.Ports?.[`${port}/tcp`]?.[0];
    if (!binding)
      throw new SchedulerError(`the engine published no host port for port ${port} of container ${id}`);
    return `127.0.0.1:${binding.HostPort}`;
  }

  async wait(id: string, options: { signal?: AbortSignal } = {}): Promise<ExitResult> {
    // The wait answer, not the engine's `die` event: Docker 20.10 answers it once its cleanup after the exit is
    // done, and removing a container before then (as acting on the event would) can deadlock its network lock.
    const result = await guard(`could not wait for container ${id}`, () =>
      this.#client.waitContainer(id, options),
    );
    return { exitCode: result.StatusCode };
  }

  logs(id: string, options: LogOptions): AsyncGenerator<LogChunk> {
    return readLogs(
      `container ${id}`,
      options,
      (from, signal) => this.#follow(id, from, signal),
      (since, signal, tail) => this.#frames(id, false, since, { signal, tail }),
    );
  }

  async stop(id: string, timeoutSeconds: number): Promise<void> {
    try {
      await this.#client.stopContainer(id, timeoutSeconds);
    } catch (error) {
      if (!(error instanceof EngineError && error.status === 404)) {
        throw toSchedulerError(`could not stop container ${id}`, error);
      }
    }
  }

  async remove(id: string): Promise<void> {
    await guard(`could not remove container ${id}`, () =>
      this.#client.removeContainer(id, { force: true, volumes: true }),
    );
  }

  async exec(id: string, options: ExecOptions): Promise<ExecSession> {
    const client = this.#client;
    const execId = await guard(`could not run a command in container ${id}`, () =>
      client.createExec(id, {
        Cmd: options.command,
        Tty: options.tty,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
      }),
    );
    const connection = await guard(`could not attach to a command in container ${id}`, () =>
      client.startExec(execId, options.tty),
    );
    async function* output(): AsyncGenerator<LogChunk> {
      if (options.tty) {
        for await (const data of connection as AsyncIterable<Buffer>) yield { stream: "stdout", data };
      } else {
        yield* demuxLogStream(connection as AsyncIterable<Buffer>);
      }
    }
    return {
      input: connection,
      output: output(),
      async exit() {
        // The engine may report the process running for a moment after its output ended.
        for (let attempt = 0; ; attempt += 1) {
          const inspected = await guard(`could not inspect a command in container ${id}`, () =>
            client.inspectExec(execId),
          );
          if (!inspected.Running) return inspected.ExitCode;
          if (attempt === EXIT_POLLS) return null;
          await new Promise((resolve) => setTimeout(resolve, EXIT_POLL_MS));
        }
      },
      resize: (columns, rows) =>
        guard(`could not resize the terminal in container ${id}`, () =>
          client.resizeExec(execId, columns, rows),
        ),
      close: () => connection.destroy(),
    };
  }

  async listManaged(labels: Record<string, string> = {}): Promise<ManagedContainer[]> {
    const found = await guard("could not list managed containers", () =>
      this.#client.listContainers({ all: true, labels: managed(labels) }),
    );
    return found.map((container) => ({
      id: container.Id,
      name: (container.Names[0] ?? "").replace(/^\//, ""),
      labels: container.Labels ?? {},
      state: container.State,
    }));
  }

  /**
   * Docker (seen on 20.10) can end a follow stream before output written as the container exits reaches it: a last
   * line without newline, flushed only at exit, is lost more often than not. So once the stream ends, a plain read
   * resumes after the last frame seen.
   */
  async *#follow(id: string, from: ResumePoint, signal?: AbortSignal): AsyncGenerator<LogChunk> {
    const position = new LogPosition(from.base);
    yield* positioned(this.#frames(id, true, from.since, { signal }), from.skip, position);
    if (signal?.aborted) return;
    yield* unreadRest(position, from, (since) => this.#frames(id, false, since, { missingOk: true, signal }));
  }

  /** The container's output frames with their engine timestamps; nothing when `missingOk` and it is gone. */
  #frames(
    id: string,
    follow: boolean,
    since: string | undefined,
    { missingOk = false, signal, tail }: { missingOk?: boolean; signal?: AbortSignal; tail?: number } = {},
  ): AsyncGenerator<TimestampedFrame> {
    const open = () =>
      this.#client.containerLogs(id, { follow, stdout: true, stderr: true, timestamps: true, since, tail });
    return timestampedFrames(open, { missingOk, signal });
  }

  /** Creates the container, pulling its image first when the pull policy asks for it (see createPulling). */
  async #create(spec: ContainerSpec): Promise<ContainerCreateResult> {
    const { HostConfig, ...ports } = this.#networking(spec.servicePort);
    const body: ContainerCreateBody = {
      Image: spec.image,
      Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
      // Last, so a task's labels can never make a container look unmanaged.
      Labels: managed(spec.labels),
      ...(spec.entrypoint == null ? {} : { Entrypoint: spec.entrypoint }),
      ...(spec.command == null ? {} : { Cmd: spec.command }),
      ...ports,
      HostConfig: { ...HostConfig, ...this.#limits(spec.resources), ...(spec.init ? { Init: true } : {}) },
    };
    try {
      return await createPulling(
        this.#client,
        spec,
        () => this.#client.createContainer(spec.name, body),
        this.#onPull,
      );
    } catch (error) {
      // A cancel during the pull ends the start with the cancel's own reason, as it came.
      if (spec.signal?.aborted && error === spec.signal.reason) throw error;
      if (error instanceof EngineError && error.status === 409) {
        throw new SchedulerError(`a container named "${spec.name}" already exists: ${error.engineMessage}`, {
          cause: error,
        });
      }
      throw toSchedulerError(`could not create container "${spec.name}"`, error);
    }
  }

  /** Publishes a service port on loopback only: extensions are reached by Gofer, never from the network. */
  #networking(servicePort: number | undefined): Pick<ContainerCreateBody, "HostConfig" | "ExposedPorts"> {
    if (servicePort === undefined || this.#hostNetwork)
      return { HostConfig: { NetworkMode: this.#networkMode } };
    const port = `${servicePort}/tcp`;
    return {
      ExposedPorts: { [port]: {} },
      HostConfig: {
        NetworkMode: this.#networkMode,
        PortBindings: { [port]: [{ HostIp: "127.0.0.1", HostPort: "" }] },
      },
    };
  }

  /**
   * CPU as a share of cores (`NanoCpus`), memory as a hard limit. Swap is capped at the same amount (no swap on
   * top), so a task that outgrows its memory is killed as it would be on Kubernetes, not slowed by swapping.
   */
  #limits(resources: ContainerResources | undefined): ContainerCreateBody["HostConfig"] {
    const { cpu, memoryBytes } = resources ?? {};
    return {
      ...(cpu === undefined ? {} : { NanoCpus: Math.round(cpu * 1e9) }),
      ...(memoryBytes === undefined ? {} : { Memory: memoryBytes, MemorySwap: memoryBytes }),
    };
  }
}
