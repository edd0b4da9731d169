/** How a {@link ContainerSpec} becomes the one-shot swarm service that runs it. */
import { createHash } from "node:crypto";
import { managed } from "../container-labels.ts";
import type { ServiceSpec } from "../docker/engine-client.ts";
import type { ContainerSpec } from "../scheduler.ts";

export interface ServiceSpecOptions {
  /** `scheduler.docker.network_mode`: `host`, `bridge` (the node's default), or a swarm network's name. */
  networkMode: string;
  /** The node Gofer talks to; services with a `servicePort` run there, so Gofer reaches them on loopback. */
  localNodeId: string;
}

/**
 * One replica that is never restarted: the task runs once, and its end (exit code, or why it could not start)
 * stays on record until the service is removed.
 */
export function serviceSpecOf(spec: ContainerSpec, options: ServiceSpecOptions): ServiceSpec {
  // Last, so a task's labels can never make a service look unmanaged.
  const labels = managed(spec.labels);
  const { cpu, memoryBytes } = spec.resources ?? {};
  const limits = {
    ...(cpu === undefined ? {} : { NanoCPUs: Math.round(cpu * 1e9) }),
    ...(memoryBytes === undefined ? {} : { MemoryBytes: memoryBytes }),
  };
  const host = options.networkMode === "host";
  const network = DEFAULT_NETWORKS.has(options.networkMode) ? [] : [{ Target: options.networkMode }];
  return {
    Name: serviceName(spec.name),
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: spec.image,
        Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
        Labels: labels,
        ...(spec.entrypoint == null ? {} : { Command: spec.entrypoint }),
        ...(spec.command == null ? {} : { Args: spec.command }),
        ...(spec.init ? { Init: true } : {}),
      },
      RestartPolicy: { Condition: "none" },
      ...(Object.keys(limits).length === 0 ? {} : { Resources: { Limits: limits } }),
      ...(spec.servicePort === undefined
        ? {}
        : { Placement: { Constraints: [`node.id==${options.localNodeId}`] } }),
      ...(network.length === 0 ? {} : { Networks: network }),
    },
    Mode: { Replicated: { Replicas: 1 } },
    // Without host networking the port is published on the node itself (a swarm cannot publish on loopback
    // only), at a port the engine picks; the routing mesh is never used, so no ingress network is needed.
    ...(spec.servicePort === undefined || host
      ? {}
      : {
          EndpointSpec: { Ports: [{ Protocol: "tcp", TargetPort: spec.servicePort, PublishMode: "host" }] },
        }),
  };
}

/** Network modes that mean the node's default network: the service names none. */
const DEFAULT_NETWORKS = new Set(["", "bridge", "default"]);

/** What swarmkit accepts as a service name: a DNS label of at most 63 characters (underscores allowed). */
const SERVICE_NAME = /^[a-zA-Z0-9](?:[-_]*[a-zA-Z0-9]+)*$/;
const MAX_NAME_LENGTH = 63;
const HASH_LENGTH = 10;

/**
 * The service name for a container name: the same when swarmkit accepts it, otherwise a cleaned, shortened
 * form with a hash of the original, so distinct names stay distinct.
 */
export function serviceName(name: string): string {
  if (name.length <= MAX_NAME_LENGTH && SERVICE_NAME.test(name)) return name;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, HASH_LENGTH);
  const stem = name
    .replace(/[^a-zA-Z0-9_-]+/g, "-")
    .slice(0, MAX_NAME_LENGTH - HASH_LENGTH - 1)
    .replace(/^[-_]+|[-_]+$/g, "");
  return stem === "" ? `s${hash}` : `${stem}-${hash}`;
}
