/**
 * Builds the backend `scheduler.engine` names. Backends other than Docker are loaded only when configured, so
 * neither the CLI nor a Docker server ever loads a cluster client.
 */
import type { Config } from "../config/index.ts";
import { DockerScheduler } from "./docker/docker-scheduler.ts";
import { EngineClient } from "./docker/engine-client.ts";
import type { Scheduler } from "./scheduler.ts";

export async function createScheduler(config: Config): Promise<Scheduler> {
  const { scheduler } = config;
  switch (scheduler.engine) {
    case "docker":
      return new DockerScheduler({
        client: new EngineClient({ host: scheduler.docker.host }),
        networkMode: scheduler.docker.network_mode,
      });
    case "swarm": {
      const { SwarmScheduler } = await import("./swarm/swarm-scheduler.ts");
      return new SwarmScheduler({
        client: new EngineClient({ host: scheduler.docker.host }),
        networkMode: scheduler.docker.network_mode,
      });
    }
    case "kubernetes": {
      const { createKubernetesScheduler } = await import("./kubernetes/kubernetes-scheduler.ts");
      return createKubernetesScheduler(scheduler.kubernetes);
    }
  }
}
