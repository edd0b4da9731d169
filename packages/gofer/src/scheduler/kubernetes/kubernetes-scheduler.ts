/**
 * The {@link Scheduler} backed by a Kubernetes cluster (`scheduler.engine = "kubernetes"`): one pod per
 * container in `scheduler.kubernetes.namespace`, observed through watches, its log read with timestamps.
 * What the pods look like and what their status means is in pod-translation.ts; log positions in pod-log.ts.
 *
 * The official client (`@kubernetes/client-node`) takes a noticeable while to load, so this module imports it
 * for types only and {@link createKubernetesScheduler} loads it: nothing else in Gofer does, so neither the
 * CLI nor a Docker server ever loads it.
 *
 * Logs go through the client's request machinery (authentication, TLS) but not through its `Log` helper: that
 * helper pipes the response into a stream without passing on a broken connection, so a follower would wait
 * forever, and it drops the API server's error message.
 *
 * Kubernetes' log API interleaves stdout and stderr into one stream, so every piece comes as `stdout`.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { setTimeout as delay } from "node:timers/promises";
import type { CoreV1Api, KubeConfig, V1Pod, Watch } from "@kubernetes/client-node";
import {
  type ContainerSpec,
  type ExitResult,
  type LogChunk,
  type LogOptions,
  type ManagedContainer,
  type Scheduler,
  SchedulerError,
  type StartedContainer,
} from "../scheduler.ts";
import { ApiStatusError, statusMessage, statusOf, toSchedulerError } from "./api-errors.ts";
import { LogPass, PodLogLines, type ReadFrom, readFromCursor, sinceTimeOf } from "./pod-log.ts";
import {
  CONTAINER_NAME,
  EXIT_FINALIZER,
  exitOf,
  isSettled,
  labelSelector,
  managedFrom,
  ownedBy,
  POD_LABEL,
  type PodProgress,
  podFor,
  pullSecretName,
  registryOf,
  resourceName,
  secretFor,
  serviceAddressOf,
  serviceFor,
} from "./pod-translation.ts";

type ClientModule = typeof import("@kubernetes/client-node");

/** `scheduler.kubernetes` of the configuration. */
export interface KubernetesSchedulerConfig {
  namespace: string;
  /** A kubeconfig file, or "" for in-cluster config, then $KUBECONFIG, then ~/.kube/config. */
  kubeconfig: string;
  /** A context of the kubeconfig, or "" for its current one. */
  context: string;
}

/** A watch asks the API server to end it after this long, and is then opened again from a fresh read. */
const WATCH_SECONDS = 25;
/** How long a stop waits beyond its grace period for the kubelet to report the container ended. */
const STOP_SLACK_SECONDS = 30;
const MERGE_PATCH = "application/merge-patch+json";
const JSON_PATCH = "application/json-patch+json";

/** Loads the client and the cluster's configuration; contacts nothing yet. */
export async function createKubernetesScheduler(config: KubernetesSchedulerConfig): Promise<Scheduler> {
  if (config.namespace === "") throw new SchedulerError("scheduler.kubernetes.namespace must not be empty");
  const client = await import("@kubernetes/client-node");
  return new KubernetesScheduler({
    client,
    kubeConfig: loadKubeConfig(client, config),
    namespace: config.namespace,
  });
}

/** Where the cluster's configuration comes from; see {@link KubernetesSchedulerConfig.kubeconfig}. */
export type KubeConfigSource =
  | { kind: "file"; path: string }
  | { kind: "in-cluster" }
  /** $KUBECONFIG, which may list several files (merged as kubectl does). */
  | { kind: "environment"; paths: string };

export function kubeConfigSource(
  kubeconfig: string,
  env: NodeJS.ProcessEnv,
  home: string = homedir(),
  exists: (path: string) => boolean = existsSync,
): KubeConfigSource {
  if (kubeconfig !== "") return { kind: "file", path: kubeconfig };
  if (env.KUBERNETES_SERVICE_HOST) return { kind: "in-cluster" };
  if (env.KUBECONFIG) return { kind: "environment", paths: env.KUBECONFIG };
  const path = join(home, ".kube", "config");
  if (exists(path)) return { kind: "file", path };
  throw new SchedulerError(
    "no Kubernetes configuration found: set scheduler.kubernetes.kubeconfig or KUBECONFIG, create " +
      `${path}, or run Gofer inside the cluster`,
  );
}

function loadKubeConfig(client: ClientModule, config: KubernetesSchedulerConfig): KubeConfig {
  const kubeConfig = new client.KubeConfig();
  const source = kubeConfigSource(config.kubeconfig, process.env);
  const from =
    source.kind === "file" ? source.path : source.kind === "environment" ? source.paths : "the cluster";
  try {
    if (source.kind === "file") kubeConfig.loadFromFile(source.path);
    else if (source.kind === "in-cluster") kubeConfig.loadFromCluster();
    else kubeConfig.loadFromDefault();
  } catch (error) {
    throw toSchedulerError(`could not load the Kubernetes configuration from ${from}`, error);
  }
  if (config.context !== "") {
    const known = kubeConfig.getContexts().map((context) => context.name);
    if (!known.includes(config.context)) {
      throw new SchedulerError(
        `the Kubernetes configuration from ${from} has no context "${config.context}" (it has: ${known.join(", ") || "none"})`,
      );
    }
    kubeConfig.setCurrentContext(config.context);
  }
  if (!kubeConfig.getCurrentCluster()) {
    throw new SchedulerError(
      `the Kubernetes configuration from ${from} names no cluster for its current context`,
    );
  }
  return kubeConfig;
}

/** The path and query of a pod's log, with a timestamp on every line. */
export function logPath(
  namespace: string,
  pod: string,
  query: { follow: boolean; sinceTime?: string; tailLines?: number },
): string {
  const search = new URLSearchParams({ container: CONTAINER_NAME, timestamps: "true" });
  if (query.follow) search.set("follow", "true");
  if (query.sinceTime !== undefined) search.set("sinceTime", query.sinceTime);
  if (query.tailLines !== undefined) search.set("tailLines", String(query.tailLines));
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log?${search}`;
}

/**
 * The JSON patch that takes Gofer's finalizer off a pod, guarded by a test so that a concurrent change of the
 * list fails it instead of removing someone else's; undefined when the pod does not carry it.
 */
export function finalizerRemoval(
  pod: V1Pod,
): Array<{ op: string; path: string; value?: string }> | undefined {
  const index = pod.metadata?.finalizers?.indexOf(EXIT_FINALIZER) ?? -1;
  if (index === -1) return undefined;
  const path = `/metadata/finalizers/${index}`;
  return [
    { op: "test", path, value: EXIT_FINALIZER },
    { op: "remove", path },
  ];
}

/** How a pass over a log ended. */
type PassEnd = "ended" | "cut" | "missing" | "not-started";

interface KubernetesSchedulerOptions {
  client: ClientModule;
  kubeConfig: KubeConfig;
  namespace: string;
}

export class KubernetesScheduler implements Scheduler {
  readonly #client: ClientModule;
  readonly #kubeConfig: KubeConfig;
  readonly #namespace: string;
  readonly #core: CoreV1Api;
  readonly #watch: Watch;

  constructor(options: KubernetesSchedulerOptions) {
    this.#client = options.client;
    this.#kubeConfig = options.kubeConfig;
    this.#namespace = options.namespace;
    this.#core = options.kubeConfig.makeApiClient(options.client.CoreV1Api);
    this.#watch = new options.client.Watch(options.kubeConfig);
  }

  /**
   * Creates the pod (after its registry Secret, which the pod then owns) and waits until its container runs
   * or has ended, so that an image that cannot be pulled fails the start. A pod no node can take yet counts
   * as started: it runs once capacity frees up, and a wait reports what becomes of it.
   */
  async start(spec: ContainerSpec): Promise<StartedContainer> {
    const name = resourceName(spec.name);
    const namespace = this.#namespace;
    const secretName = spec.registryAuth ? pullSecretName(name) : undefined;
    if (spec.registryAuth && secretName) {
      const secret = secretFor(spec.registryAuth, registryOf(spec.image), {
        name: secretName,
        namespace,
        labels: spec.labels,
      });
      await this.#put(`could not store the registry credentials of pod "${name}"`, {
        create: () => this.#core.createNamespacedSecret({ namespace, body: secret }),
        replace: () => this.#core.replaceNamespacedSecret({ name: secretName, namespace, body: secret }),
      });
    }
    let pod: V1Pod;
    try {
      pod = await this.#core.createNamespacedPod({
        namespace,
        body: podFor(spec, { namespace, imagePullSecretName: secretName }),
      });
    } catch (error) {
      if (secretName)
        await this.#deleteQuietly(() => this.#core.deleteNamespacedSecret({ name: secretName, namespace }));
      if (statusOf(error) === 409) {
        throw new SchedulerError(`a pod named "${name}" already exists in namespace "${namespace}"`, {
          cause: error,
        });
      }
      throw toSchedulerError(`could not create pod "${name}"`, error);
    }
    try {
      if (secretName) {
        await this.#core.patchNamespacedSecret(
          { name: secretName, namespace, body: { metadata: { ownerReferences: [ownedBy(pod)] } } },
          this.#client.setHeaderOptions("Content-Type", MERGE_PATCH),
        );
      }
      const progress = await this.#observe(name, (current): { value: PodProgress } | undefined => {
        if (!current)
          throw new SchedulerError(`pod "${name}" was deleted while starting`, { kind: "not_found" });
        const now = exitOf(current);
        if (now.state === "pending" && now.reason !== "Unschedulable") return undefined;
        return { value: now };
      });
      if (progress.state === "failed") throw new SchedulerError(progress.message);
      if (spec.servicePort === undefined) return { id: name };
      const service = serviceFor(spec, { namespace, owner: pod });
      await this.#put(`could not create the service of pod "${name}"`, {
        create: () => this.#core.createNamespacedService({ namespace, body: service }),
        // One left from an earlier pod of this name, not yet collected with it.
        replace: async () => {
          await this.#deleteQuietly(() => this.#core.deleteNamespacedService({ name, namespace }));
          return this.#core.createNamespacedService({ namespace, body: service });
        },
      });
      return { id: name, serviceAddress: serviceAddressOf(spec, namespace) };
    } catch (error) {
      // The start failure is what the user needs to see; a pod left behind still carries the managed label,
      // so the reaper removes it even when this removal fails.
      await this.remove(name).catch(() => undefined);
      throw toSchedulerError(`could not start pod "${name}"`, error);
    }
  }

  /** A pod's log is its containers' stdout and stderr as one stream. */
  readonly mergesStreams = true;

  /** Pods have addresses of their own, and Gofer reaches a service pod through its Service. */
  serviceBindHost(): string {
    return "0.0.0.0";
  }

  async wait(id: string, options: { signal?: AbortSignal } = {}): Promise<ExitResult> {
    return this.#observe(
      id,
      (pod) => {
        if (!pod) throw new SchedulerError(`pod "${id}" does not exist`, { kind: "not_found" });
        const progress = exitOf(pod);
        if (progress.state === "exited") return { value: { exitCode: progress.exitCode } };
        if (progress.state === "failed") throw new SchedulerError(`pod "${id}": ${progress.message}`);
        return undefined;
      },
      options.signal,
    );
  }

  async *logs(id: string, options: LogOptions): AsyncGenerator<LogChunk> {
    const { signal, after } = options;
    const from: ReadFrom = after
      ? readFromCursor(after)
      : options.sinceMs === undefined
        ? { skip: 0 }
        : { sinceTime: sinceTimeOf(options.sinceMs), skip: 0 };
    // sinceTime has whole seconds: the rest of the second is dropped here.
    const notBeforeMs = after ? undefined : options.sinceMs;
    try {
      if (options.follow) {
        yield* this.#follow(id, from, notBeforeMs, signal);
      } else {
        const pass = new LogPass(from, notBeforeMs);
        yield* this.#pass(id, from, pass, { follow: false, tailLines: options.tailLines, signal });
      }
    } catch (error) {
      if (signal?.aborted) return;
      throw toSchedulerError(`could not read the logs of pod "${id}"`, error);
    }
  }

  /**
   * Deletes the pod with the grace period (the kubelet sends SIGTERM, then SIGKILL), then waits until its
   * container has ended, as `docker stop` does. The finalizer keeps the pod and its exit code until removal.
   */
  async stop(id: string, timeoutSeconds: number): Promise<void> {
    const grace = Math.max(1, Math.ceil(timeoutSeconds));
    const pod = await this.#read(id);
    if (!pod || isSettled(exitOf(pod))) return;
    if (!pod.metadata?.deletionTimestamp) {
      try {
        await this.#core.deleteNamespacedPod({
          name: id,
          namespace: this.#namespace,
          gracePeriodSeconds: grace,
        });
      } catch (error) {
        if (statusOf(error) === 404) return;
        throw toSchedulerError(`could not stop pod "${id}"`, error);
      }
    }
    const deadline = AbortSignal.timeout((grace + STOP_SLACK_SECONDS) * 1000);
    try {
      await this.#observe(
        id,
        (current) => (!current || isSettled(exitOf(current)) ? { value: true } : undefined),
        deadline,
      );
    } catch (error) {
      if (!deadline.aborted) throw error;
    }
  }

  /** Deletes the pod at once (after taking off the finalizer), with its Service and registry Secret. */
  async remove(id: string): Promise<void> {
    const namespace = this.#namespace;
    const pod = await this.#read(id);
    if (pod) {
      await this.#dropFinalizer(pod);
      await this.#deleteQuietly(
        () => this.#core.deleteNamespacedPod({ name: id, namespace, gracePeriodSeconds: 0 }),
        `could not remove pod "${id}"`,
      );
    }
    // Owned by the pod, so the garbage collector would delete them too; removing them now leaves nothing
    // behind for a start of the same name.
    if (!pod || pod.metadata?.labels?.[POD_LABEL] !== undefined) {
      await this.#deleteQuietly(
        () => this.#core.deleteNamespacedService({ name: id, namespace }),
        `could not remove the service of pod "${id}"`,
      );
    }
    if (!pod || pod.spec?.imagePullSecrets?.length) {
      await this.#deleteQuietly(
        () => this.#core.deleteNamespacedSecret({ name: pullSecretName(id), namespace }),
        `could not remove the registry credentials of pod "${id}"`,
      );
    }
  }

  async listManaged(labels: Record<string, string> = {}): Promise<ManagedContainer[]> {
    let pods: V1Pod[];
    try {
      const list = await this.#core.listNamespacedPod({
        namespace: this.#namespace,
        labelSelector: labelSelector(labels),
      });
      pods = list.items;
    } catch (error) {
      throw toSchedulerError("could not list managed pods", error);
    }
    // The selector matched hashes of values Kubernetes could not hold; the decoded labels must match exactly.
    return pods
      .map(managedFrom)
      .filter((container) => Object.entries(labels).every(([key, value]) => container.labels[key] === value));
  }

  /** The pod, or undefined when it does not exist. */
  async #read(name: string): Promise<V1Pod | undefined> {
    try {
      return await this.#core.readNamespacedPod({ name, namespace: this.#namespace });
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw toSchedulerError(`could not read pod "${name}"`, error);
    }
  }

  async #dropFinalizer(pod: V1Pod): Promise<void> {
    const name = pod.metadata?.name ?? "";
    let current: V1Pod | undefined = pod;
    // The guard fails when the list changed since it was read (another finalizer came or went): read again.
    for (let attempt = 0; current; attempt++) {
      const patch = finalizerRemoval(current);
      if (!patch) return;
      try {
        await this.#core.patchNamespacedPod(
          { name, namespace: this.#namespace, body: patch },
          this.#client.setHeaderOptions("Content-Type", JSON_PATCH),
        );
        return;
      } catch (error) {
        const status = statusOf(error);
        if (status === 404) return;
        if ((status !== 409 && status !== 422) || attempt >= 3) {
          throw toSchedulerError(`could not release pod "${name}"`, error);
        }
      }
      current = await this.#read(name);
    }
  }

  async #deleteQuietly(call: () => Promise<unknown>, what?: string): Promise<void> {
    try {
      await call();
    } catch (error) {
      if (statusOf(error) === 404) return;
      if (what === undefined) return;
      throw toSchedulerError(what, error);
    }
  }

  /** Creates an object, or replaces the one of the same name that is in the way. */
  async #put(
    what: string,
    calls: { create: () => Promise<unknown>; replace: () => Promise<unknown> },
  ): Promise<void> {
    try {
      await calls.create();
    } catch (error) {
      if (statusOf(error) !== 409) throw toSchedulerError(what, error);
      try {
        await calls.replace();
      } catch (again) {
        throw toSchedulerError(what, again);
      }
    }
  }

  /**
   * Reads pod `name` and watches it until `settle` answers (it sees undefined once the pod is gone, and may
   * throw). Event-driven: the watch delivers each change as it happens; it is reopened from a fresh read when
   * the API server ends it.
   */
  async #observe<T>(
    name: string,
    settle: (pod: V1Pod | undefined) => { value: T } | undefined,
    signal?: AbortSignal,
  ): Promise<T> {
    for (;;) {
      signal?.throwIfAborted();
      const pod = await this.#read(name);
      const settled = settle(pod);
      if (settled) return settled.value;
      const began = Date.now();
      const watched = await this.#watchOnce(name, pod?.metadata?.resourceVersion, settle, signal);
      if (watched) return watched.value;
      // A watch the API server ends at once (a stale version, a proxy in the way) must not become a busy loop.
      if (Date.now() - began < 1000) await delay(1000, undefined, { signal });
    }
  }

  #watchOnce<T>(
    name: string,
    resourceVersion: string | undefined,
    settle: (pod: V1Pod | undefined) => { value: T } | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ value: T } | undefined> {
    return new Promise((resolve, reject) => {
      let controller: AbortController | undefined;
      let finished = false;
      const finish = (outcome: () => void) => {
        if (finished) return;
        finished = true;
        signal?.removeEventListener("abort", onAbort);
        controller?.abort();
        outcome();
      };
      const onAbort = () => finish(() => reject(signal?.reason));
      signal?.addEventListener("abort", onAbort, { once: true });
      const path = `/api/v1/namespaces/${encodeURIComponent(this.#namespace)}/pods`;
      const query = {
        fieldSelector: `metadata.name=${name}`,
        resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: WATCH_SECONDS,
      };
      this.#watch
        .watch(
          path,
          query,
          (type: string, object: V1Pod) => {
            if (finished || type === "BOOKMARK") return;
            // An ERROR event (typically 410: the version is too old to watch from) calls for a fresh read.
            if (type === "ERROR") return finish(() => resolve(undefined));
            try {
              const settled = settle(type === "DELETED" ? undefined : object);
              if (settled) finish(() => resolve(settled));
            } catch (error) {
              finish(() => reject(error));
            }
          },
          (error: unknown) =>
            finish(() =>
              !error || (error as { name?: unknown }).name === "TimeoutError"
                ? resolve(undefined)
                : reject(toSchedulerError(`could not watch pod "${name}"`, error)),
            ),
        )
        .then(
          (started) => {
            controller = started;
            if (finished) started.abort();
          },
          (error: unknown) => finish(() => reject(toSchedulerError(`could not watch pod "${name}"`, error))),
        );
    });
  }

  /**
   * Follows the log until the container has ended. A follow stream can end early (the API server or a proxy
   * closes it, or it broke): then, while the container runs, it is opened again after the last line seen. Once
   * the container has ended, a plain read after that line collects what the stream did not deliver, the last
   * line without newline included.
   */
  async *#follow(
    id: string,
    start: ReadFrom,
    notBeforeMs: number | undefined,
    signal?: AbortSignal,
  ): AsyncGenerator<LogChunk> {
    let from = start;
    for (let first = true; ; first = false) {
      const pass = new LogPass(from, notBeforeMs);
      // Once following, a pod that is gone has nothing more to say.
      const end = yield* this.#pass(id, from, pass, { follow: true, signal, missingOk: !first });
      if (signal?.aborted || end === "missing") return;
      from = pass.next();
      if (end === "not-started") {
        const started = await this.#observe(
          id,
          (pod) => {
            if (!pod) return { value: false };
            const progress = exitOf(pod);
            if (progress.state === "pending") return undefined;
            return { value: progress.state !== "failed" || progress.cause === "pod" };
          },
          signal,
        );
        if (!started) return;
        continue;
      }
      const pod = await this.#read(id);
      if (!pod) return;
      if (isSettled(exitOf(pod))) {
        try {
          yield* this.#pass(id, from, new LogPass(from, notBeforeMs), {
            follow: false,
            signal,
            missingOk: true,
          });
        } catch (error) {
          // The kubelet removes the container of a stopped (deleted) pod soon after it ended, and then answers
          // with an error: the follow stream delivered the output until the end, which is what there is.
          if (statusOf(error) === undefined) throw error;
        }
        return;
      }
      if (pass.delivered === 0 && end === "ended") await delay(1000, undefined, { signal });
    }
  }

  /**
   * One read of the log from `from`, its lines through `pass`. The last line without newline is delivered only
   * by a plain read: a follow stream that ends may have cut a line that goes on.
   */
  async *#pass(
    id: string,
    from: ReadFrom,
    pass: LogPass,
    options: { follow: boolean; tailLines?: number; signal?: AbortSignal; missingOk?: boolean },
  ): AsyncGenerator<LogChunk, PassEnd> {
    const { follow, signal } = options;
    let body: Readable;
    try {
      body = await this.#openLog(
        id,
        { follow, sinceTime: from.sinceTime, tailLines: options.tailLines },
        signal,
      );
    } catch (error) {
      const status = statusOf(error);
      if (status === 404 && options.missingOk) return "missing";
      // The kubelet refuses the log of a container that has not started (400): there is none yet.
      if (status === 400) {
        const pod = await this.#read(id);
        const progress = pod ? exitOf(pod) : undefined;
        if (progress?.state === "pending" || (progress?.state === "failed" && progress.cause !== "pod")) {
          return "not-started";
        }
      }
      throw error;
    }
    const lines = new PodLogLines();
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        for (const line of lines.push(chunk)) {
          const piece = pass.take(line);
          if (piece) yield piece;
        }
      }
    } catch (error) {
      if (signal?.aborted) return "ended";
      if (follow) return "cut";
      throw error;
    } finally {
      body.destroy();
    }
    if (!follow) {
      const last = lines.end();
      const piece = last && pass.take(last);
      if (piece) yield piece;
    }
    return "ended";
  }

  /** Opens the log stream through the client's request machinery (its authentication and TLS). */
  async #openLog(
    id: string,
    query: { follow: boolean; sinceTime?: string; tailLines?: number },
    signal?: AbortSignal,
  ): Promise<Readable> {
    const client = this.#client;
    const server = this.#kubeConfig.getCurrentCluster()?.server ?? "";
    const context = new client.RequestContext(
      `${server}${logPath(this.#namespace, id, query)}`,
      client.HttpMethod.GET,
    );
    await this.#kubeConfig.applySecurityAuthentication(context);
    if (signal) context.setSignal(signal);
    const response = await new client.IsomorphicFetchHttpLibrary().send(context).toPromise();
    if (response.httpStatusCode !== 200) {
      const text = await response.body.text().catch(() => "");
      throw new ApiStatusError(response.httpStatusCode, statusMessage(text) ?? "");
    }
    const stream = response.body.stream();
    if (!stream) throw new Error("the API server sent no log");
    return Readable.fromWeb(stream as NodeReadableStream<Uint8Array>);
  }
}
