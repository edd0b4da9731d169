/**
 * The {@link Scheduler} backed by a Docker Swarm, through the Engine API of one of its managers
 * (`scheduler.docker.host`). Each container Gofer starts is a one-shot service (see service-spec.ts): one
 * replica, never restarted, so its single task runs once and its end stays on record until `remove`. The id
 * handed out is the service's id.
 *
 * - **start** applies the pull policy on the manager's engine (a missing image fails the start at once), creates
 *   the service and waits until its task runs (or has already ended): a task the swarm rejects or cannot place
 *   fails the start, and the service is removed.
 * - **wait** polls the service's task every {@link WAIT_POLL_MS}: the engine reports no task events.
 * - **logs** reads the service's log stream, framed and stamped like a container's, so positions and resuming
 *   work exactly as for Docker. A swarm's follow stream never ends and misses a last line the task flushes as it
 *   exits, so a follower stops reading it once the task is final and finishes with a plain read from its last
 *   position.
 * - **stop** stops the task's container through the manager's own engine when the task runs on that node:
 *   SIGTERM, SIGKILL after the grace period, and the exit code stays on the task as for any exit. A task not
 *   running there (not started yet, or on another node) is stopped by scaling the service to zero; the swarm
 *   then applies its own grace period (10 s) and deletes the task's record, so `wait` reports
 *   {@link UNOBSERVED_STOP_EXIT_CODE}.
 * - **servicePort** (extensions): the service runs on the manager's node; with host networking Gofer reaches it
 *   at 127.0.0.1:<port>, otherwise the port is published in host mode (on every interface of the node: a swarm
 *   cannot publish on loopback only) at a port the engine picks, reached at 127.0.0.1:<published>.
 * - **exec** runs the command in the task's container through the manager's own engine, as the Docker backend
 *   does; it needs the task to run on the manager's node.
 */
import { setTimeout as delay } from "node:timers/promises";
import { managed } from "../container-labels.ts";
import { DockerScheduler } from "../docker/docker-scheduler.ts";
import { type EngineClient, EngineError, type SwarmTask } from "../docker/engine-client.ts";
import { guard, toSchedulerError } from "../docker/engine-errors.ts";
import { ensureImage } from "../docker/image-policy.ts";
import { LogPosition } from "../docker/log-position.ts";
import {
  positioned,
  type ResumePoint,
  readLogs,
  type TimestampedFrame,
  timestampedFrames,
  unreadRest,
} from "../docker/log-resume.ts";
import {
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
import { serviceSpecOf } from "./service-spec.ts";
import {
  isFinal,
  latestTask,
  managedStateOf,
  outcomeOf,
  replicasOf,
  UNOBSERVED_STOP_EXIT_CODE,
} from "./task-state.ts";

export interface SwarmSchedulerOptions {
  /** A client for a manager of the swarm. */
  client: EngineClient;
  /** `scheduler.docker.network_mode`: `host`, `bridge` (each node's default network) or a swarm network. */
  networkMode: string;
}

/** How often a start looks at the new task: most start within half a second. */
const START_POLL_MS = 100;
/** How often `wait` (and a log follower) looks at a task. */
const WAIT_POLL_MS = 200;

export class SwarmScheduler implements Scheduler {
  readonly #client: EngineClient;
  readonly #networkMode: string;
  /** For what the manager's engine does to a task's container itself. */
  readonly #docker: DockerScheduler;
  #localNode: Promise<string> | null = null;

  constructor(options: SwarmSchedulerOptions) {
    this.#client = options.client;
    this.#networkMode = options.networkMode;
    this.#docker = new DockerScheduler({ client: options.client, networkMode: options.networkMode });
  }

  async start(spec: ContainerSpec): Promise<StartedContainer> {
    const localNodeId = await this.#nodeId();
    await ensureImage(this.#client, spec);
    const serviceSpec = serviceSpecOf(spec, { networkMode: this.#networkMode, localNodeId });
    const name = serviceSpec.Name;
    const auth = spec.registryAuth;
    let id: string;
    try {
      id = await this.#client.createService(
        serviceSpec,
        auth ? { username: auth.user, password: auth.pass } : null,
      );
    } catch (error) {
      if (error instanceof EngineError && error.status === 409) {
        throw new SchedulerError(`a service named "${name}" already exists: ${error.engineMessage}`, {
          cause: error,
        });
      }
      throw toSchedulerError(`could not create service "${name}"`, error);
    }
    try {
      const task = await this.#started(id, name);
      if (spec.servicePort === undefined) return { id };
      return { id, serviceAddress: this.#serviceAddress(id, task, spec.servicePort) };
    } catch (error) {
      // The failure is what the user needs to see; a service left behind still carries the managed label, so
      // the reaper removes it even when this removal fails.
      await this.#client.removeService(id).catch(() => undefined);
      throw error;
    }
  }

  serviceBindHost(): string {
    return this.#hostNetwork ? "127.0.0.1" : "0.0.0.0";
  }

  get #hostNetwork(): boolean {
    return this.#networkMode === "host";
  }

  async wait(id: string, options: { signal?: AbortSignal } = {}): Promise<ExitResult> {
    const { signal } = options;
    try {
      for (;;) {
        const task = latestTask(await this.#client.listTasks(id, { signal }));
        if (task === undefined) {
          // No task yet, or none any more: a service scaled to zero by `stop` loses its task's record.
          if (replicasOf(await this.#client.inspectService(id)) === 0) {
            return { exitCode: UNOBSERVED_STOP_EXIT_CODE };
          }
        } else {
          const outcome = outcomeOf(task);
          if (outcome !== undefined && "exitCode" in outcome) return outcome;
          if (outcome !== undefined) {
            throw new SchedulerError(`service ${id} ended without an exit code: ${outcome.failure}`, {
              kind: outcome.kind,
            });
          }
        }
        await delay(WAIT_POLL_MS, undefined, { signal });
      }
    } catch (error) {
      throw toSchedulerError(`could not wait for service ${id}`, error);
    }
  }

  logs(id: string, options: LogOptions): AsyncGenerator<LogChunk> {
    return readLogs(
      `service ${id}`,
      options,
      (from, signal) => this.#follow(id, from, signal),
      (since, signal, tail) => this.#frames(id, false, since, { signal, tail }),
    );
  }

  async stop(id: string, timeoutSeconds: number): Promise<void> {
    try {
      const task = latestTask(await this.#client.listTasks(id));
      if (task !== undefined && isFinal(task)) return;
      const container = task?.Status.ContainerStatus?.ContainerID ?? "";
      if (task !== undefined && container !== "" && task.NodeID === (await this.#nodeId())) {
        // A container already gone ends its task by itself.
        await this.#client.stopContainer(container, timeoutSeconds).catch((error: unknown) => {
          if (!(error instanceof EngineError && error.status === 404)) throw error;
        });
        return;
      }
      await this.#scaleToZero(id);
    } catch (error) {
      // Stopping what is gone is a no-op, as for a container.
      if (error instanceof EngineError && error.status === 404) return;
      throw toSchedulerError(`could not stop service ${id}`, error);
    }
  }

  async exec(id: string, options: ExecOptions): Promise<ExecSession> {
    const task = latestTask(
      await guard(`could not find the task of service ${id}`, () => this.#client.listTasks(id)),
    );
    if (task?.Status.State !== "running") {
      throw new SchedulerError(`could not run a command in service ${id}: its task is not running`);
    }
    const container = task.Status.ContainerStatus?.ContainerID ?? "";
    if (task.NodeID !== (await this.#nodeId()) || container === "") {
      throw new SchedulerError(
        `could not run a command in service ${id}: its task runs on node ${task.NodeID}, and commands run only ` +
          `on the node of the manager Gofer talks to (${this.#client.host})`,
      );
    }
    return this.#docker.exec(container, options);
  }

  async remove(id: string): Promise<void> {
    await guard(`could not remove service ${id}`, () => this.#client.removeService(id));
  }

  async listManaged(labels: Record<string, string> = {}): Promise<ManagedContainer[]> {
    const what = "could not list managed services";
    const services = await guard(what, () => this.#client.listServices({ labels: managed(labels) }));
    const found = await Promise.all(
      services.map(async (service): Promise<ManagedContainer | undefined> => {
        let tasks: SwarmTask[];
        try {
          tasks = await this.#client.listTasks(service.ID);
        } catch (error) {
          // Removed since the listing: it is no longer there to report.
          if (error instanceof EngineError && error.status === 404) return undefined;
          throw toSchedulerError(what, error);
        }
        return {
          id: service.ID,
          name: service.Spec.Name,
          labels: service.Spec.Labels ?? {},
          state: managedStateOf(service, latestTask(tasks)),
        };
      }),
    );
    return found.filter((service) => service !== undefined);
  }

  /**
   * The manager's own node id, read once. A node that is no swarm manager cannot run services: that is a
   * configuration error, not an outage, and retrying would not help.
   */
  #nodeId(): Promise<string> {
    this.#localNode ??= this.#readNodeId().catch((error: unknown) => {
      this.#localNode = null;
      throw error;
    });
    return this.#localNode;
  }

  async #readNodeId(): Promise<string> {
    const { Swarm: swarm } = await guard(
      `could not ask the engine at ${this.#client.host} about its swarm`,
      () => this.#client.info(),
    );
    if (swarm.LocalNodeState !== "active" || !swarm.ControlAvailable) {
      throw new SchedulerError(
        `the engine at ${this.#client.host} is not a swarm manager (swarm state "${swarm.LocalNodeState}"); ` +
          'scheduler.engine "swarm" needs scheduler.docker.host to name a manager of the swarm',
      );
    }
    return swarm.NodeID;
  }

  /** Waits until the service's task runs or has already exited; fails when it never will. */
  async #started(id: string, name: string): Promise<SwarmTask> {
    const what = `could not start service "${name}"`;
    for (;;) {
      const task = latestTask(await guard(what, () => this.#client.listTasks(id)));
      if (task?.Status.State === "running") return task;
      if (task !== undefined) {
        const outcome = outcomeOf(task);
        if (outcome !== undefined && "exitCode" in outcome) return task;
        if (outcome !== undefined) throw new SchedulerError(`${what}: ${outcome.failure}`);
        // The swarm keeps a task no node can take pending, and says why; no node will take it later either.
        if (task.Status.State === "pending" && task.Status.Err) {
          throw new SchedulerError(`${what}: the swarm cannot place its task: ${task.Status.Err}`);
        }
      }
      await delay(START_POLL_MS);
    }
  }

  /** With host networking the port is the node's own; otherwise the engine picked one to publish it at. */
  #serviceAddress(id: string, task: SwarmTask, port: number): string {
    if (this.#hostNetwork) return `127.0.0.1:${port}`;
    const published = task.Status.PortStatus?.Ports?.find(
      (candidate) => candidate.TargetPort === port && candidate.Protocol === "tcp",
    )?.PublishedPort;
    if (!published) throw new SchedulerError(`the swarm published no port for port ${port} of service ${id}`);
    return `127.0.0.1:${published}`;
  }

  /**
   * Follows the service's log until its task is final, then reads what the follow stream has not delivered
   * (the swarm's follow stream would wait for further tasks forever, and drops a last line flushed at exit).
   */
  async *#follow(id: string, from: ResumePoint, signal?: AbortSignal): AsyncGenerator<LogChunk> {
    const position = new LogPosition(from.base);
    const finished = new AbortController();
    const stopWatching = new AbortController();
    const reading = signal ? AbortSignal.any([signal, finished.signal]) : finished.signal;
    let watchFailure: unknown;
    const watching = this.#untilFinal(
      id,
      signal ? AbortSignal.any([signal, stopWatching.signal]) : stopWatching.signal,
    )
      .catch((error: unknown) => {
        if (!stopWatching.signal.aborted && !signal?.aborted) watchFailure = error;
      })
      .finally(() => finished.abort());
    try {
      yield* positioned(this.#frames(id, true, from.since, { signal: reading }), from.skip, position);
    } catch (error) {
      // Cutting the stream short once the task is final is the plan; any other failure is not.
      if (!finished.signal.aborted || signal?.aborted) throw error;
    } finally {
      stopWatching.abort();
      await watching;
    }
    if (watchFailure !== undefined) throw watchFailure;
    if (signal?.aborted) return;
    yield* unreadRest(position, from, (since) => this.#frames(id, false, since, { missingOk: true, signal }));
  }

  /** Resolves once the service's task is final, or the service is gone. */
  async #untilFinal(id: string, signal: AbortSignal): Promise<void> {
    for (;;) {
      try {
        const task = latestTask(await this.#client.listTasks(id, { signal }));
        if (task === undefined ? replicasOf(await this.#client.inspectService(id)) === 0 : isFinal(task))
          return;
      } catch (error) {
        if (error instanceof EngineError && error.status === 404) return;
        throw error;
      }
      await delay(WAIT_POLL_MS, undefined, { signal });
    }
  }

  /** The service's output frames with their engine timestamps; nothing when `missingOk` and it is gone. */
  #frames(
    id: string,
    follow: boolean,
    since: string | undefined,
    { missingOk = false, signal, tail }: { missingOk?: boolean; signal?: AbortSignal; tail?: number } = {},
  ): AsyncGenerator<TimestampedFrame> {
    const open = () =>
      this.#client.serviceLogs(id, { follow, stdout: true, stderr: true, timestamps: true, since, tail });
    return timestampedFrames(open, { missingOk, signal });
  }

  /** Scales the service to zero replicas, so the swarm stops its task wherever it is (or never starts it). */
  async #scaleToZero(id: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const service = await this.#client.inspectService(id);
      if (replicasOf(service) === 0) return;
      try {
        await this.#client.updateService(id, service.Version.Index, {
          ...service.Spec,
          Mode: { Replicated: { Replicas: 0 } },
        });
        return;
      } catch (error) {
        // Another update came in between: read the new version and try again.
        const outOfSequence = error instanceof EngineError && /out of sequence/i.test(error.engineMessage);
        if (!outOfSequence || attempt === 3) throw error;
      }
    }
  }
}
