/**
 * A container backend for benchmarks only: every container "runs" at once and exits 0 with no output, so what a
 * benchmark measures on it is Gofer alone (its run loop, storage and events), with the engine factored out. It
 * keeps the containers it made until they are removed, so recovery and the reaper see what they expect.
 */
import { randomBytes } from "node:crypto";
import type {
  ContainerSpec,
  ExitResult,
  LogChunk,
  ManagedContainer,
  Scheduler,
  StartedContainer,
} from "../../packages/gofer/src/scheduler/scheduler.ts";

export class InstantScheduler implements Scheduler {
  readonly #containers = new Map<string, ManagedContainer>();
  /** Containers started so far, for the benchmark's own count. */
  started = 0;
  /** When each container started and exited, in order, once {@link record} is set. */
  readonly timeline: { kind: "start" | "exit"; at: number }[] = [];
  record = false;

  async start(spec: ContainerSpec): Promise<StartedContainer> {
    const id = randomBytes(16).toString("hex");
    this.#containers.set(id, {
      id,
      name: spec.name,
      labels: { "gofer.managed": "true", ...spec.labels },
      state: "exited",
    });
    this.started += 1;
    if (this.record) this.timeline.push({ kind: "start", at: performance.now() });
    return { id, ...(spec.servicePort !== undefined && { serviceAddress: `127.0.0.1:${spec.servicePort}` }) };
  }

  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;

  /** Holds every container "running" until {@link release}, so that work can pile up first (a deep queue). */
  hold(): void {
    this.#gate ??= new Promise((resolve) => {
      this.#open = resolve;
    });
  }

  release(): void {
    this.#open?.();
    this.#gate = undefined;
    this.#open = undefined;
  }

  async wait(): Promise<ExitResult> {
    await this.#gate;
    if (this.record) this.timeline.push({ kind: "exit", at: performance.now() });
    return { exitCode: 0 };
  }

  async *logs(): AsyncIterable<LogChunk> {
    // No output.
  }

  async stop(): Promise<void> {}

  async remove(id: string): Promise<void> {
    this.#containers.delete(id);
  }

  async listManaged(labels: Record<string, string> = {}): Promise<ManagedContainer[]> {
    return [...this.#containers.values()].filter((container) =>
      Object.entries(labels).every(([key, value]) => container.labels[key] === value),
    );
  }

  serviceBindHost(): string {
    return "127.0.0.1";
  }
}
