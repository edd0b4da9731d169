/**
 * What Gofer's containers become on Kubernetes, and what a pod's status means to Gofer. Pure: manifests in,
 * manifests out; the client is imported for its types only.
 *
 * One container is one pod (restartPolicy Never) whose only container is named {@link CONTAINER_NAME}. A
 * service container (an extension) is the same pod plus a ClusterIP Service in front of it, owned by the pod,
 * so Gofer reaches it as `<name>.<namespace>.svc:<port>`. Not a Deployment: the extension supervisor restarts
 * an extension itself and replays its subscriptions to the new container; a Deployment restarting it
 * silently would leave an extension running without the subscriptions it holds in memory.
 *
 * Every pod carries the {@link EXIT_FINALIZER}: a stopped pod is deleted (Kubernetes' only way to stop one),
 * and the finalizer keeps the deleted pod, with its container's exit code, readable until Gofer removes it.
 *
 * Names and labels: Kubernetes allows fewer characters than Docker.
 * - A name becomes a DNS-1035 label (lower case, letters, digits and `-`, starting with a letter, at most 63
 *   characters); a name that is not one already gets 8 hex digits of its SHA-256 appended, so two names that
 *   differ only in what was replaced (`a_b`, `a-b`) still differ. The original is kept in the
 *   {@link NAME_ANNOTATION} annotation.
 * - A label value Kubernetes rejects (over 63 characters, other characters than `A-Za-z0-9._-`, or not
 *   starting and ending with a letter or digit) is stored as `sha256.` and 56 hex digits of its SHA-256, and
 *   the raw value goes into the {@link LABELS_ANNOTATION} annotation (a JSON object by label key). Decoding
 *   takes the annotation's value only when it hashes to the label, so the encoding round-trips and selecting
 *   by the encoded value finds exactly the pods that carry the raw one.
 */
import { createHash } from "node:crypto";
import type {
  V1Container,
  V1ContainerStatus,
  V1EnvVar,
  V1OwnerReference,
  V1Pod,
  V1ResourceRequirements,
  V1Secret,
  V1Service,
} from "@kubernetes/client-node";
import { managed } from "../container-labels.ts";
import type { ContainerResources, ContainerSpec, ManagedContainer, RegistryAuth } from "../scheduler.ts";

/** The name of the one container in every pod Gofer creates. */
export const CONTAINER_NAME = "task";
/** The name Gofer gave the container, when the pod's name had to differ from it. */
export const NAME_ANNOTATION = "gofer.name";
/** Raw values of labels whose value Kubernetes would reject (see the module comment). */
export const LABELS_ANNOTATION = "gofer.labels";
/** On service pods: the pod's own name, which its Service selects. */
export const POD_LABEL = "gofer.pod";
/** Keeps a deleted pod (and its exit code) in the API until Gofer removes it. */
export const EXIT_FINALIZER = "gofer.dev/exit-status";
/** Where an image without a registry host comes from, as Docker's config names it. */
export const DOCKER_HUB = "https://index.docker.io/v1/";

const DNS_1035_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const HASHED_VALUE_PREFIX = "sha256.";

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The name of the pod (and Service) for a container named `name`; see the module comment. */
export function resourceName(name: string): string {
  if (DNS_1035_LABEL.test(name)) return name;
  const suffix = sha256(name).slice(0, 8);
  const base = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^[^a-z]+/, "")
    .slice(0, 63 - suffix.length - 1)
    .replace(/-+$/, "");
  return base === "" ? `g-${suffix}` : `${base}-${suffix}`;
}

export function isValidLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value);
}

/** The value stored in the label for `value`: itself when Kubernetes accepts it, else its hash. */
export function encodeLabelValue(value: string): string {
  return isValidLabelValue(value) ? value : `${HASHED_VALUE_PREFIX}${sha256(value).slice(0, 56)}`;
}

/** Label keys are Gofer's own (`gofer.task`); one Kubernetes rejects is a bug, reported as such. */
function checkLabelKey(key: string): void {
  const slash = key.indexOf("/");
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  const validPrefix = prefix === undefined || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix));
  if (!validPrefix || name.length > 63 || !LABEL_NAME.test(name)) {
    throw new Error(`"${key}" cannot be a Kubernetes label key`);
  }
}

/** Labels as Kubernetes stores them, plus the annotations that keep what the encoding could not. */
export function encodeLabels(labels: Record<string, string>): {
  labels: Record<string, string>;
  annotations: Record<string, string>;
} {
  const encoded: Record<string, string> = {};
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) {
    checkLabelKey(key);
    encoded[key] = encodeLabelValue(value);
    if (encoded[key] !== value) raw[key] = value;
  }
  const annotations: Record<string, string> =
    Object.keys(raw).length === 0 ? {} : { [LABELS_ANNOTATION]: JSON.stringify(raw) };
  return { labels: encoded, annotations };
}

/** The labels Gofer gave, from what Kubernetes stored ({@link encodeLabels} reversed). */
export function decodeLabels(
  labels: Record<string, string> | undefined,
  annotations: Record<string, string> | undefined,
): Record<string, string> {
  const raw = parseRawLabels(annotations?.[LABELS_ANNOTATION]);
  const decoded: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels ?? {})) {
    const original = raw[key];
    decoded[key] = original !== undefined && encodeLabelValue(original) === value ? original : value;
  }
  return decoded;
}

function parseRawLabels(text: string | undefined): Record<string, string> {
  if (text === undefined) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null) return {};
    return Object.fromEntries(
      Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
    );
  } catch {
    return {};
  }
}

/** A label selector matching `gofer.managed=true` and every given label (by its encoded value). */
export function labelSelector(labels: Record<string, string>): string {
  const { labels: encoded } = encodeLabels(managed(labels));
  return Object.entries(encoded)
    .map(([key, value]) => `${key}=${value}`)
    .join(",");
}

/**
 * Kubernetes expands `$(NAME)` in a container's command, arguments and environment values, and turns `$$`
 * into `$`. Doubling every `$` makes it pass the text through unchanged, as Docker does.
 */
export function escapeExpansion(text: string): string {
  return text.replaceAll("$", "$$$$");
}

/** CPU as millicores (at least 1m) and memory as bytes, the same for requests and limits. */
export function resourcesFor(resources: ContainerResources | undefined): V1ResourceRequirements | undefined {
  const quantities: Record<string, string> = {};
  if (resources?.cpu !== undefined) quantities.cpu = `${Math.max(1, Math.round(resources.cpu * 1000))}m`;
  if (resources?.memoryBytes !== undefined) quantities.memory = String(Math.round(resources.memoryBytes));
  if (Object.keys(quantities).length === 0) return undefined;
  return { requests: { ...quantities }, limits: { ...quantities } };
}

export interface PodOptions {
  namespace: string;
  /** A `kubernetes.io/dockerconfigjson` Secret holding the spec's registry credentials (see {@link secretFor}). */
  imagePullSecretName?: string;
}

/** The pod that runs `spec`. */
export function podFor(spec: ContainerSpec, options: PodOptions): V1Pod {
  const name = resourceName(spec.name);
  // Last, so a task's labels can never make a pod look unmanaged.
  const given = managed(spec.labels);
  if (spec.servicePort !== undefined) given[POD_LABEL] = name;
  const { labels, annotations } = encodeLabels(given);
  if (name !== spec.name) annotations[NAME_ANNOTATION] = spec.name;
  const env: V1EnvVar[] = Object.entries(spec.env).map(([key, value]) => ({
    name: key,
    value: escapeExpansion(value),
  }));
  const resources = resourcesFor(spec.resources);
  const container: V1Container = {
    name: CONTAINER_NAME,
    image: spec.image,
    imagePullPolicy: spec.alwaysPull ? "Always" : "IfNotPresent",
    env,
    ...(spec.entrypoint == null ? {} : { command: spec.entrypoint.map(escapeExpansion) }),
    ...(spec.command == null ? {} : { args: spec.command.map(escapeExpansion) }),
    ...(resources === undefined ? {} : { resources }),
    ...(spec.servicePort === undefined
      ? {}
      : { ports: [{ name: "service", containerPort: spec.servicePort, protocol: "TCP" }] }),
  };
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: options.namespace,
      labels,
      ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
      finalizers: [EXIT_FINALIZER],
    },
    spec: {
      restartPolicy: "Never",
      containers: [container],
      // A task sees the environment it was given, as with Docker: no variables for every Service in the
      // namespace, and no credentials for the cluster's API.
      enableServiceLinks: false,
      automountServiceAccountToken: false,
      // Kubernetes has no per-container init (Docker's `Init`). Sharing the pod's process namespace makes the
      // pause container PID 1, and it reaps orphans; the task's command is then an ordinary process, so a
      // SIGTERM it has no handler for ends it, instead of being ignored by PID 1 until the grace period runs out.
      // The only other process it can see is pause: the pod has one container.
      ...(spec.init ? { shareProcessNamespace: true } : {}),
      ...(options.imagePullSecretName === undefined
        ? {}
        : { imagePullSecrets: [{ name: options.imagePullSecretName }] }),
    },
  };
}

/**
 * The registry host an image comes from, as registry credentials are keyed: the first path component when
 * it looks like a host (has a `.` or `:`, or is `localhost`), otherwise Docker Hub.
 */
export function registryOf(image: string): string {
  const slash = image.indexOf("/");
  if (slash === -1) return DOCKER_HUB;
  const first = image.slice(0, slash);
  return first.includes(".") || first.includes(":") || first === "localhost" ? first : DOCKER_HUB;
}

/** The name of the Secret holding a pod's registry credentials. */
export function pullSecretName(podName: string): string {
  return `${podName}-registry`;
}

/** A `kubernetes.io/dockerconfigjson` Secret with `auth` for `registry`, as `docker login` would store it. */
export function secretFor(
  auth: RegistryAuth,
  registry: string,
  options: { name: string; namespace: string; labels: Record<string, string> },
): V1Secret {
  const config = {
    auths: {
      [registry]: {
        username: auth.user,
        password: auth.pass,
        auth: Buffer.from(`${auth.user}:${auth.pass}`).toString("base64"),
      },
    },
  };
  const { labels, annotations } = encodeLabels(managed(options.labels));
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/dockerconfigjson",
    metadata: {
      name: options.name,
      namespace: options.namespace,
      labels,
      ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
    },
    data: { ".dockerconfigjson": Buffer.from(JSON.stringify(config)).toString("base64") },
  };
}

/** Makes an object go when its pod goes (Kubernetes' garbage collector deletes it). */
export function ownedBy(pod: V1Pod): V1OwnerReference {
  const name = pod.metadata?.name;
  const uid = pod.metadata?.uid;
  if (!name || !uid) throw new Error("a pod without name or uid cannot own anything");
  return { apiVersion: "v1", kind: "Pod", name, uid };
}

/** The ClusterIP Service in front of a service pod (`spec.servicePort` set), owned by that pod. */
export function serviceFor(spec: ContainerSpec, options: { namespace: string; owner: V1Pod }): V1Service {
  const port = spec.servicePort;
  if (port === undefined) throw new Error(`container "${spec.name}" has no service port`);
  const name = resourceName(spec.name);
  const { labels, annotations } = encodeLabels(managed(spec.labels));
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name,
      namespace: options.namespace,
      labels,
      ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
      ownerReferences: [ownedBy(options.owner)],
    },
    spec: {
      type: "ClusterIP",
      selector: { [POD_LABEL]: name },
      ports: [{ name: "service", port, targetPort: port, protocol: "TCP" }],
    },
  };
}

/** Where Gofer reaches the service of a pod started from `spec`: its Service's cluster DNS name. */
export function serviceAddressOf(spec: ContainerSpec, namespace: string): string {
  return `${resourceName(spec.name)}.${namespace}.svc:${spec.servicePort}`;
}

/**
 * Where a pod is, for Gofer:
 * - `pending`: its container has not started yet (being scheduled, pulled, created); `reason` says why when
 *   Kubernetes does (`Unschedulable`, `ContainerCreating`).
 * - `running`: its container runs.
 * - `exited`: its container ran and ended with `exitCode`; `reason` is Kubernetes' (`Completed`, `Error`,
 *   `OOMKilled`).
 * - `failed`: it will never run or never report an exit code; `message` is fit to show a user and `cause`
 *   says whether the image could not be had, the container could not be started, or the pod itself failed
 *   (evicted, rejected by its node, its node lost, stopped before its container started).
 */
export type PodProgress =
  | { state: "pending"; reason?: string }
  | { state: "running" }
  | { state: "exited"; exitCode: number; reason?: string }
  | { state: "failed"; cause: "image" | "start" | "pod"; message: string };

/** Waiting reasons that mean the image cannot be had; the kubelet would only back off and try again. */
const IMAGE_FAILURES = new Set([
  "ErrImagePull",
  "ImagePullBackOff",
  "InvalidImageName",
  "ErrImageNeverPull",
  "RegistryUnavailable",
  "SignatureValidationFailed",
]);
/** Waiting reasons that mean the container cannot be created or started as specified. */
const START_FAILURES = new Set([
  "CreateContainerConfigError",
  "CreateContainerError",
  "RunContainerError",
  "PreCreateHookError",
  "PreStartHookError",
]);
/** Termination reasons of a container that never ran its process. */
const NEVER_RAN = new Set(["StartError", "ContainerCannotRun"]);

function containerStatusOf(pod: V1Pod): V1ContainerStatus | undefined {
  const statuses = pod.status?.containerStatuses ?? [];
  return statuses.find((status) => status.name === CONTAINER_NAME) ?? statuses[0];
}

function imageOf(pod: V1Pod, status: V1ContainerStatus | undefined): string {
  const container = pod.spec?.containers?.find((candidate) => candidate.name === CONTAINER_NAME);
  return container?.image ?? status?.image ?? "(unknown image)";
}

function withDetail(text: string, detail: string | undefined): string {
  return detail ? `${text}: ${detail}` : text;
}

/** Reads a pod's status (see {@link PodProgress}). */
export function exitOf(pod: V1Pod): PodProgress {
  const status = pod.status;
  const container = containerStatusOf(pod);
  if (status?.reason === "Evicted") {
    return { state: "failed", cause: "pod", message: withDetail("the pod was evicted", status.message) };
  }
  const terminated = container?.state?.terminated;
  if (terminated) {
    if (terminated.reason !== undefined && NEVER_RAN.has(terminated.reason)) {
      return {
        state: "failed",
        cause: "start",
        message: withDetail("could not start the container", terminated.message ?? terminated.reason),
      };
    }
    if (terminated.reason === "ContainerStatusUnknown") {
      return {
        state: "failed",
        cause: "pod",
        message: withDetail("the container's exit code was lost", terminated.message),
      };
    }
    return { state: "exited", exitCode: terminated.exitCode, reason: terminated.reason };
  }
  const waiting = container?.state?.waiting;
  if (waiting?.reason !== undefined && IMAGE_FAILURES.has(waiting.reason)) {
    return {
      state: "failed",
      cause: "image",
      message: withDetail(
        `could not pull image "${imageOf(pod, container)}"`,
        waiting.message ?? waiting.reason,
      ),
    };
  }
  if (waiting?.reason !== undefined && START_FAILURES.has(waiting.reason)) {
    return {
      state: "failed",
      cause: "start",
      message: withDetail("could not start the container", waiting.message ?? waiting.reason),
    };
  }
  if (container?.state?.running) return { state: "running" };
  if (status?.phase === "Failed") {
    const why = [status.reason, status.message].filter((part) => part).join(": ");
    return { state: "failed", cause: "pod", message: withDetail("the pod failed", why) };
  }
  if (status?.phase === "Succeeded") return { state: "exited", exitCode: 0 };
  if (pod.metadata?.deletionTimestamp) {
    // Nothing will start it any more: a deleted pod that had not run yet only waits for its finalizer.
    return { state: "failed", cause: "pod", message: "the pod was stopped before its container started" };
  }
  const unscheduled = status?.conditions?.find(
    (condition) => condition.type === "PodScheduled" && condition.status === "False",
  );
  const reason = waiting?.reason ?? unscheduled?.reason;
  return reason === undefined ? { state: "pending" } : { state: "pending", reason };
}

/** Whether nothing more will happen to the pod's container. */
export function isSettled(progress: PodProgress): boolean {
  return progress.state === "exited" || progress.state === "failed";
}

/**
 * A pod as {@link ManagedContainer}: `created` until its container starts (and when it never could),
 * `running` while it runs, `exited` once it has ended or the pod failed.
 */
export function managedFrom(pod: V1Pod): ManagedContainer {
  const progress = exitOf(pod);
  const state =
    progress.state === "running"
      ? "running"
      : progress.state === "exited" || (progress.state === "failed" && progress.cause === "pod")
        ? "exited"
        : "created";
  const id = pod.metadata?.name ?? "";
  return {
    id,
    name: pod.metadata?.annotations?.[NAME_ANNOTATION] ?? id,
    labels: decodeLabels(pod.metadata?.labels, pod.metadata?.annotations),
    state,
  };
}
