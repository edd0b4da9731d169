/**
 * The scheduler backends the conformance suite (scheduler-conformance.test.ts) runs against, chosen with
 * `SCHEDULER=docker,swarm,kubernetes` (all by default). A backend that cannot run on this machine says why,
 * and the suite skips it with that message instead of passing silently.
 */
import { DockerScheduler } from "../../src/scheduler/docker/docker-scheduler.ts";
import { EngineClient } from "../../src/scheduler/docker/engine-client.ts";
import type { Scheduler } from "../../src/scheduler/scheduler.ts";
import { BUSYBOX } from "./test-server.ts";

export interface BackendSetup {
  scheduler: Scheduler;
  /** An image the backend can run that has `sh`, `echo`, `sleep`, `printf` and `trap` (busybox). */
  image: string;
  /** Removes everything the setup made (containers, services, pods, a private engine). */
  close(): Promise<void>;
}

export interface Backend {
  name: string;
  /** Why the backend cannot run here (shown as the skip reason); undefined when it can. */
  unavailable(): string | undefined;
  setUp(): Promise<BackendSetup>;
}

const docker: Backend = {
  name: "docker",
  unavailable: () => undefined,
  async setUp() {
    const client = new EngineClient({ host: process.env.DOCKER_HOST || undefined });
    return {
      scheduler: new DockerScheduler({ client, networkMode: "host" }),
      image: BUSYBOX,
      async close() {
        client.close();
      },
    };
  },
};

export const BACKENDS: Record<string, Backend> = { docker };

/** The backends named by SCHEDULER (comma-separated), or all of them. */
export function selectedBackends(): Backend[] {
  const names = (process.env.SCHEDULER ?? Object.keys(BACKENDS).join(","))
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  return names.map((name) => {
    const backend = BACKENDS[name];
    if (!backend)
      throw new Error(
        `SCHEDULER names an unknown backend "${name}"; known: ${Object.keys(BACKENDS).join(", ")}`,
      );
    return backend;
  });
}
