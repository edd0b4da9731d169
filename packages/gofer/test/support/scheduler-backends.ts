/**
 * The scheduler backends the conformance suite (scheduler-conformance.test.ts) runs against, chosen with
 * `SCHEDULER=docker,swarm,kubernetes` (all by default). A backend that cannot run on this machine says why,
 * and the suite skips it with that message instead of passing silently.
 */
import { DockerScheduler } from "../../src/scheduler/docker/docker-scheduler.ts";
import { EngineClient } from "../../src/scheduler/docker/engine-client.ts";
import type { Scheduler } from "../../src/scheduler/scheduler.ts";
import { SwarmScheduler } from "../../src/scheduler/swarm/swarm-scheduler.ts";
import { startSwarmEngine, swarmEngineUnavailable } from "./swarm-engine.ts";
import { BUSYBOX } from "./test-server.ts";

export interface BackendSetup {
  scheduler: Scheduler;
  /** An image the backend can run that has `sh`, `echo`, `sleep`, `printf` and `trap` (busybox). */
  image: string;
  /**
   * The backend delivers stdout and stderr as one stream (Kubernetes' log API interleaves them), so only the
   * order within each is checked, not which stream a line came on.
   */
  mergedStreams?: boolean;
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

/**
 * A single-node swarm of the suite's own (swarm-engine.ts: a private engine in a network namespace of its own,
 * holding only the host and none networks), so the machine's main engine never joins a swarm.
 */
const swarm: Backend = {
  name: "swarm",
  unavailable: swarmEngineUnavailable,
  async setUp() {
    const engine = await startSwarmEngine();
    const client = new EngineClient({ host: engine.host });
    return {
      scheduler: new SwarmScheduler({ client, networkMode: "host" }),
      image: BUSYBOX,
      async close() {
        client.close();
        await engine.close();
      },
    };
  },
};

/**
 * A real cluster named by GOFER_TEST_KUBECONFIG (namespace GOFER_TEST_KUBERNETES_NAMESPACE, image
 * GOFER_TEST_KUBERNETES_IMAGE). Every pod the run starts also carries a `gofer.test-run` label unique to the run
 * (the suite sets `gofer.instance` itself), and close() removes whatever still carries it, Services and registry
 * Secrets included.
 */
const kubernetes: Backend = {
  name: "kubernetes",
  unavailable: () =>
    process.env.GOFER_TEST_KUBECONFIG
      ? undefined
      : "set GOFER_TEST_KUBECONFIG to a kubeconfig of a real cluster to run the Kubernetes conformance cases",
  async setUp() {
    const { createKubernetesScheduler } = await import(
      "../../src/scheduler/kubernetes/kubernetes-scheduler.ts"
    );
    const inner = await createKubernetesScheduler({
      namespace: process.env.GOFER_TEST_KUBERNETES_NAMESPACE || "default",
      kubeconfig: process.env.GOFER_TEST_KUBECONFIG ?? "",
      context: "",
    });
    const run = { "gofer.test-run": `k8s-${crypto.randomUUID().slice(0, 8)}` };
    const scheduler: Scheduler = {
      start: (spec) => inner.start({ ...spec, labels: { ...run, ...spec.labels } }),
      wait: (id, options) => inner.wait(id, options),
      logs: (id, options) => inner.logs(id, options),
      stop: (id, timeoutSeconds) => inner.stop(id, timeoutSeconds),
      remove: (id) => inner.remove(id),
      listManaged: (labels) => inner.listManaged(labels),
      serviceBindHost: () => inner.serviceBindHost(),
    };
    return {
      scheduler,
      image: process.env.GOFER_TEST_KUBERNETES_IMAGE || "busybox:1.36",
      mergedStreams: true,
      async close() {
        for (const pod of await inner.listManaged(run)) await inner.remove(pod.id);
      },
    };
  },
};

export const BACKENDS: Record<string, Backend> = { docker, swarm, kubernetes };

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
