/**
 * The baseline of the benchmarks that compare Gofer with the container engine: containers driven directly
 * through the Engine API with the project's own client, doing per container what any fair runner must (create,
 * start, wait, remove) and, when asked, reading its output as Gofer does (attached before the start, drained to
 * its end).
 */
import { EngineClient } from "../../packages/gofer/src/scheduler/docker/engine-client.ts";

export interface DirectContainer {
  image: string;
  command: string[];
  labels: Record<string, string>;
  env?: Record<string, string>;
  /** Under the engine's init, as Gofer runs every task (`ContainerSpec.init`). */
  init?: boolean;
  /** Attach before the start and drain the output, as Gofer captures a task's log. */
  attach?: boolean;
}

export const engine = new EngineClient();

/** Runs one container to its end and removes it; resolves once it is gone. */
export async function runDirect(name: string, spec: DirectContainer): Promise<void> {
  const created = await engine.createContainer(name, {
    Image: spec.image,
    Cmd: spec.command,
    Labels: spec.labels,
    ...(spec.env && { Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`) }),
    HostConfig: { NetworkMode: "host", ...(spec.init && { Init: true }) },
  });
  const output = spec.attach ? await engine.attachContainer(created.Id) : undefined;
  const drained = output && drain(output);
  await engine.startContainer(created.Id);
  await engine.waitContainer(created.Id);
  await drained;
  await engine.removeContainer(created.Id, { force: true, volumes: true });
}

/** `count` containers at once, each as {@link runDirect}; resolves with the milliseconds until all are gone. */
export async function runDirectFanOut(
  prefix: string,
  count: number,
  spec: (index: number) => DirectContainer,
): Promise<number> {
  const began = performance.now();
  await Promise.all(
    Array.from({ length: count }, (_, index) => runDirect(`${prefix}-${index}`, spec(index))),
  );
  return performance.now() - began;
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream) {
    // The bytes themselves are not needed, only that the engine can hand them over.
  }
}

/** Removes what a benchmark interrupted part-way left behind: every container carrying `labels`. */
export async function removeLeftovers(labels: Record<string, string>): Promise<number> {
  const found = await engine.listContainers({ all: true, labels });
  await Promise.all(
    found.map((container) => engine.removeContainer(container.Id, { force: true, volumes: true })),
  );
  return found.length;
}
