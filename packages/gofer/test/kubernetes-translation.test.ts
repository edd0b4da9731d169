/**
 * The pure half of the Kubernetes backend: manifests, names and labels, status → exit, errors, and log
 * positions. The other half (the API calls) needs a real cluster: scheduler-conformance.test.ts runs it when
 * GOFER_TEST_KUBECONFIG names one.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import type { V1Pod } from "@kubernetes/client-node";
import { ApiStatusError, toSchedulerError } from "../src/scheduler/kubernetes/api-errors.ts";
import {
  createKubernetesScheduler,
  finalizerRemoval,
  kubeConfigSource,
  logPath,
} from "../src/scheduler/kubernetes/kubernetes-scheduler.ts";
import {
  isBefore,
  LogPass,
  PodLogLines,
  PodLogPosition,
  parseStamp,
  type ReadFrom,
  readFromCursor,
  secondStamp,
  sinceTimeOf,
} from "../src/scheduler/kubernetes/pod-log.ts";
import {
  CONTAINER_NAME,
  DOCKER_HUB,
  decodeLabels,
  EXIT_FINALIZER,
  encodeLabels,
  encodeLabelValue,
  escapeExpansion,
  exitOf,
  isSettled,
  isValidLabelValue,
  LABELS_ANNOTATION,
  labelSelector,
  managedFrom,
  NAME_ANNOTATION,
  POD_LABEL,
  podFor,
  pullSecretName,
  registryOf,
  resourceName,
  resourcesFor,
  secretFor,
  serviceAddressOf,
  serviceFor,
} from "../src/scheduler/kubernetes/pod-translation.ts";
import { type ContainerSpec, type LogChunk, SchedulerError } from "../src/scheduler/scheduler.ts";
import { freePort } from "./support/free-port.ts";

const DNS_1035_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

function spec(overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name: "gofer_default_simple_3_build",
    image: "busybox:1.36",
    env: {},
    labels: { "gofer.namespace": "default", "gofer.task": "build" },
    alwaysPull: false,
    ...overrides,
  };
}

function containerOf(pod: V1Pod) {
  const container = pod.spec?.containers[0];
  assert.ok(container);
  return container;
}

describe("names", () => {
  it("keeps a name that is already a DNS-1035 label", () => {
    assert.equal(resourceName("gofer-build"), "gofer-build");
    assert.equal(resourceName("a"), "a");
    assert.equal(resourceName("a".repeat(63)), "a".repeat(63));
  });

  it("replaces what Kubernetes rejects and appends a hash of the original", () => {
    const name = resourceName("gofer_default_simple_3_build");
    assert.match(name, /^gofer-default-simple-3-build-[0-9a-f]{8}$/);
    const hash = createHash("sha256").update("gofer_default_simple_3_build").digest("hex").slice(0, 8);
    assert.equal(name, `gofer-default-simple-3-build-${hash}`);
    // Deterministic, and names that differ only in what was replaced still differ.
    assert.equal(resourceName("gofer_default_simple_3_build"), name);
    assert.notEqual(resourceName("a_b"), resourceName("a-b"));
    assert.notEqual(resourceName("A-B"), resourceName("a-b"));
  });

  it("truncates long names to 63 characters, keeping them apart by the hash", () => {
    const long = `gofer_${"x".repeat(100)}`;
    const other = `gofer_${"x".repeat(99)}y`;
    assert.equal(resourceName(long).length, 63);
    assert.match(resourceName(long), DNS_1035_LABEL);
    assert.notEqual(resourceName(long), resourceName(other));
    assert.match(resourceName("a".repeat(64)), /^a{54}-[0-9a-f]{8}$/);
  });

  it("starts with a letter and never ends with a dash, whatever it is given", () => {
    assert.match(resourceName("3_build"), /^build-[0-9a-f]{8}$/);
    assert.match(resourceName("___"), /^g-[0-9a-f]{8}$/);
    assert.match(resourceName(""), /^g-[0-9a-f]{8}$/);
    assert.match(resourceName("Ünïcode task!"), /^n-code-task-[0-9a-f]{8}$/);
    const samples = ["-x-", `x${"-".repeat(70)}`, "9".repeat(80), "a.b.c", "UPPER", "a__b", "tab\there", "é"];
    for (const sample of samples) assert.match(resourceName(sample), DNS_1035_LABEL, sample);
  });
});

describe("labels", () => {
  it("keeps values Kubernetes accepts, the empty one included", () => {
    for (const value of ["build", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "a.b_c-d", "", "x".repeat(63)]) {
      assert.ok(isValidLabelValue(value), value);
      assert.equal(encodeLabelValue(value), value);
    }
    const encoded = encodeLabels({ "gofer.task": "build", "gofer.run": "3" });
    assert.deepEqual(encoded, { labels: { "gofer.task": "build", "gofer.run": "3" }, annotations: {} });
  });

  it("stores a hash for values Kubernetes rejects and the raw value in an annotation, reversibly", () => {
    const raw = {
      "gofer.task": "build and test",
      "gofer.pipeline": "-leading-dash",
      "gofer.namespace": "x".repeat(64),
      "gofer.extension": "ünïcode",
      "gofer.run": "7",
    };
    const { labels, annotations } = encodeLabels(raw);
    for (const [key, value] of Object.entries(labels)) {
      assert.ok(isValidLabelValue(value), `${key}=${value}`);
      if (key !== "gofer.run") assert.match(value, /^sha256\.[0-9a-f]{56}$/);
    }
    assert.equal(labels["gofer.run"], "7");
    const stored = JSON.parse(annotations[LABELS_ANNOTATION] as string);
    assert.deepEqual(Object.keys(stored).sort(), [
      "gofer.extension",
      "gofer.namespace",
      "gofer.pipeline",
      "gofer.task",
    ]);
    assert.deepEqual(decodeLabels(labels, annotations), raw);
  });

  it("decodes only what hashes to the label: a label changed since keeps its own value", () => {
    const { labels, annotations } = encodeLabels({ "gofer.task": "two words" });
    assert.deepEqual(decodeLabels({ ...labels, "gofer.task": "edited" }, annotations), {
      "gofer.task": "edited",
    });
    assert.deepEqual(decodeLabels(labels, { [LABELS_ANNOTATION]: "not json" }), labels);
    assert.deepEqual(decodeLabels(undefined, undefined), {});
    // A raw value that merely looks like a hash is not in the annotation, so it stays itself.
    const lookalike = `sha256.${"0".repeat(56)}`;
    assert.deepEqual(encodeLabels({ "gofer.task": lookalike }).annotations, {});
  });

  it("refuses label keys Kubernetes would reject", () => {
    assert.doesNotThrow(() => encodeLabels({ "gofer.dev/task": "x", "app.kubernetes.io/name": "y" }));
    for (const key of ["two words", "-x", "x".repeat(64), "UPPER.case/x", "a/b/c", ""]) {
      assert.throws(() => encodeLabels({ [key]: "x" }), /cannot be a Kubernetes label key/, key);
    }
  });

  it("selects the managed label and every given label by its stored value", () => {
    assert.equal(labelSelector({}), "gofer.managed=true");
    assert.equal(
      labelSelector({ "gofer.instance": "i1", "gofer.task": "two words" }),
      `gofer.instance=i1,gofer.task=${encodeLabelValue("two words")},gofer.managed=true`,
    );
    // A caller cannot select unmanaged pods.
    assert.equal(labelSelector({ "gofer.managed": "false" }), "gofer.managed=true");
  });
});

describe("pods", () => {
  it("runs the spec once, in one container, labelled as managed", () => {
    const pod = podFor(spec(), { namespace: "ci" });
    assert.equal(pod.apiVersion, "v1");
    assert.equal(pod.kind, "Pod");
    assert.equal(pod.metadata?.name, resourceName("gofer_default_simple_3_build"));
    assert.equal(pod.metadata?.namespace, "ci");
    assert.deepEqual(pod.metadata?.labels, {
      "gofer.namespace": "default",
      "gofer.task": "build",
      "gofer.managed": "true",
    });
    assert.deepEqual(pod.metadata?.annotations, { [NAME_ANNOTATION]: "gofer_default_simple_3_build" });
    assert.deepEqual(pod.metadata?.finalizers, [EXIT_FINALIZER]);
    assert.equal(pod.spec?.restartPolicy, "Never");
    assert.equal(pod.spec?.enableServiceLinks, false);
    assert.equal(pod.spec?.automountServiceAccountToken, false);
    assert.equal(pod.spec?.containers.length, 1);
    const container = containerOf(pod);
    assert.equal(container.name, CONTAINER_NAME);
    assert.equal(container.image, "busybox:1.36");
    assert.deepEqual(container.env, []);
    for (const absent of ["command", "args", "resources", "ports"] as const)
      assert.equal(container[absent], undefined);
    assert.equal(pod.spec?.imagePullSecrets, undefined);
    // No annotation for a name that needed no change.
    assert.equal(podFor(spec({ name: "plain" }), { namespace: "ci" }).metadata?.annotations, undefined);
  });

  it("never lets a task's labels make a pod look unmanaged", () => {
    const pod = podFor(spec({ labels: { "gofer.managed": "false" } }), { namespace: "ci" });
    assert.equal(pod.metadata?.labels?.["gofer.managed"], "true");
  });

  it("encodes label values Kubernetes rejects next to the name annotation", () => {
    const pod = podFor(spec({ labels: { "gofer.task": "build & test" } }), { namespace: "ci" });
    const annotations = pod.metadata?.annotations ?? {};
    assert.equal(annotations[NAME_ANNOTATION], "gofer_default_simple_3_build");
    assert.deepEqual(JSON.parse(annotations[LABELS_ANNOTATION] as string), { "gofer.task": "build & test" });
    assert.equal(decodeLabels(pod.metadata?.labels, annotations)["gofer.task"], "build & test");
  });

  it("passes the environment exactly, in order, with `$` protected from Kubernetes' expansion", () => {
    const pod = podFor(
      spec({ env: { PLAIN: "one", SPACED: "two words=three", EMPTY: "", REF: "$(PLAIN) $$ $HOME $" } }),
      { namespace: "ci" },
    );
    assert.deepEqual(containerOf(pod).env, [
      { name: "PLAIN", value: "one" },
      { name: "SPACED", value: "two words=three" },
      { name: "EMPTY", value: "" },
      { name: "REF", value: "$$(PLAIN) $$$$ $$HOME $$" },
    ]);
  });

  it("escapes `$` so that Kubernetes' expansion gives the text back", () => {
    /** Kubernetes' rules: `$$` is `$`, `$(NAME)` expands when NAME is known, any other `$` stays. */
    const expand = (text: string, known: Record<string, string>) =>
      text.replace(/\$(\$|\(([^)]*)\))?/g, (whole, next: string | undefined, name: string | undefined) => {
        if (next === "$") return "$";
        if (name !== undefined && name in known) return known[name] as string;
        return whole;
      });
    const known = { PLAIN: "expanded", HOME: "/root" };
    for (const text of ["$(PLAIN)", "$$(PLAIN)", "a$b", "$", "$$", "i=$((i+1))", "$(HOME)/x", "$(", "$)"]) {
      assert.equal(expand(escapeExpansion(text), known), text, text);
    }
  });

  it("maps the entrypoint to command and the command to args, each only when given", () => {
    const both = containerOf(
      podFor(spec({ entrypoint: ["sh", "-c", 'echo "$0"'], command: ["first", "$(X)"] }), {
        namespace: "ci",
      }),
    );
    assert.deepEqual(both.command, ["sh", "-c", 'echo "$$0"']);
    assert.deepEqual(both.args, ["first", "$$(X)"]);
    const commandOnly = containerOf(
      podFor(spec({ entrypoint: null, command: ["echo", "hi"] }), { namespace: "ci" }),
    );
    assert.equal(commandOnly.command, undefined);
    assert.deepEqual(commandOnly.args, ["echo", "hi"]);
    const emptyCommand = containerOf(podFor(spec({ command: [] }), { namespace: "ci" }));
    assert.deepEqual(emptyCommand.args, []);
  });

  it("requests and limits the same CPU (millicores) and memory (bytes)", () => {
    assert.deepEqual(resourcesFor({ cpu: 0.5, memoryBytes: 268_435_456 }), {
      requests: { cpu: "500m", memory: "268435456" },
      limits: { cpu: "500m", memory: "268435456" },
    });
    assert.deepEqual(resourcesFor({ cpu: 2 }), { requests: { cpu: "2000m" }, limits: { cpu: "2000m" } });
    assert.deepEqual(resourcesFor({ cpu: 0.0001 }), { requests: { cpu: "1m" }, limits: { cpu: "1m" } });
    assert.deepEqual(resourcesFor({ cpu: 1.2345 }), { requests: { cpu: "1235m" }, limits: { cpu: "1235m" } });
    assert.deepEqual(resourcesFor({ memoryBytes: 1024.4 }), {
      requests: { memory: "1024" },
      limits: { memory: "1024" },
    });
    assert.equal(resourcesFor({}), undefined);
    assert.equal(resourcesFor(undefined), undefined);
    const container = containerOf(podFor(spec({ resources: { cpu: 0.25 } }), { namespace: "ci" }));
    assert.deepEqual(container.resources, { requests: { cpu: "250m" }, limits: { cpu: "250m" } });
    // Requests and limits are separate objects: changing one must not change the other.
    assert.notEqual(container.resources?.requests, container.resources?.limits);
  });

  it("pulls always only when asked, and uses the registry Secret when given one", () => {
    assert.equal(
      containerOf(podFor(spec({ alwaysPull: true }), { namespace: "ci" })).imagePullPolicy,
      "Always",
    );
    assert.equal(containerOf(podFor(spec(), { namespace: "ci" })).imagePullPolicy, "IfNotPresent");
    const pod = podFor(spec(), { namespace: "ci", imagePullSecretName: "build-registry" });
    assert.deepEqual(pod.spec?.imagePullSecrets, [{ name: "build-registry" }]);
  });

  it("shares the process namespace when the spec asks for an init, so the pause container is PID 1", () => {
    assert.equal(podFor(spec({ init: true }), { namespace: "ci" }).spec?.shareProcessNamespace, true);
    assert.equal(podFor(spec(), { namespace: "ci" }).spec?.shareProcessNamespace, undefined);
    assert.equal(podFor(spec({ init: false }), { namespace: "ci" }).spec?.shareProcessNamespace, undefined);
  });

  it("gives a service pod its port and the label its Service selects", () => {
    const pod = podFor(spec({ name: "gofer_ext_cron", servicePort: 8082 }), { namespace: "ci" });
    const name = resourceName("gofer_ext_cron");
    assert.equal(pod.metadata?.labels?.[POD_LABEL], name);
    assert.deepEqual(containerOf(pod).ports, [{ name: "service", containerPort: 8082, protocol: "TCP" }]);
    assert.equal(pod.spec?.restartPolicy, "Never");
  });
});

describe("registry credentials", () => {
  it("finds the registry host of an image as credentials are keyed", () => {
    assert.equal(registryOf("busybox"), DOCKER_HUB);
    assert.equal(registryOf("busybox:1.36"), DOCKER_HUB);
    assert.equal(registryOf("library/busybox"), DOCKER_HUB);
    assert.equal(registryOf("someone/image:tag"), DOCKER_HUB);
    assert.equal(registryOf("ghcr.io/clintjedwards/gofer:latest"), "ghcr.io");
    assert.equal(registryOf("registry.example.com:5000/team/app@sha256:abc"), "registry.example.com:5000");
    assert.equal(registryOf("localhost:5000/app"), "localhost:5000");
    assert.equal(registryOf("localhost/app"), "localhost");
    assert.equal(registryOf("myhost:5000/app"), "myhost:5000");
  });

  it("stores them as a dockerconfigjson Secret, as `docker login` would", () => {
    const secret = secretFor({ user: "robot", pass: "s3cret:with:colons" }, "ghcr.io", {
      name: pullSecretName("build"),
      namespace: "ci",
      labels: { "gofer.task": "build" },
    });
    assert.equal(secret.type, "kubernetes.io/dockerconfigjson");
    assert.equal(secret.metadata?.name, "build-registry");
    assert.equal(secret.metadata?.namespace, "ci");
    assert.deepEqual(secret.metadata?.labels, { "gofer.task": "build", "gofer.managed": "true" });
    const config = JSON.parse(Buffer.from(secret.data?.[".dockerconfigjson"] as string, "base64").toString());
    assert.deepEqual(config, {
      auths: {
        "ghcr.io": {
          username: "robot",
          password: "s3cret:with:colons",
          auth: Buffer.from("robot:s3cret:with:colons").toString("base64"),
        },
      },
    });
  });
});

describe("services", () => {
  const owner: V1Pod = { metadata: { name: "gofer-ext-cron-1234abcd", uid: "0b1c-uid" } };

  it("puts a ClusterIP Service in front of a service pod, owned by it", () => {
    const extension = spec({
      name: "gofer_ext_cron",
      servicePort: 8082,
      labels: { "gofer.extension": "cron" },
    });
    const service = serviceFor(extension, { namespace: "ci", owner });
    const name = resourceName("gofer_ext_cron");
    assert.equal(service.kind, "Service");
    assert.equal(service.metadata?.name, name);
    assert.match(name, DNS_1035_LABEL);
    assert.deepEqual(service.metadata?.labels, { "gofer.extension": "cron", "gofer.managed": "true" });
    assert.deepEqual(service.metadata?.ownerReferences, [
      { apiVersion: "v1", kind: "Pod", name: "gofer-ext-cron-1234abcd", uid: "0b1c-uid" },
    ]);
    assert.equal(service.spec?.type, "ClusterIP");
    assert.deepEqual(service.spec?.selector, { [POD_LABEL]: name });
    assert.deepEqual(service.spec?.ports, [
      { name: "service", port: 8082, targetPort: 8082, protocol: "TCP" },
    ]);
    // The selector is exactly the label the pod of the same spec carries.
    assert.equal(podFor(extension, { namespace: "ci" }).metadata?.labels?.[POD_LABEL], name);
    assert.equal(serviceAddressOf(extension, "ci"), `${name}.ci.svc:8082`);
  });

  it("refuses a spec without a port, and an owner without a uid", () => {
    assert.throws(() => serviceFor(spec(), { namespace: "ci", owner }), /no service port/);
    assert.throws(
      () => serviceFor(spec({ servicePort: 1 }), { namespace: "ci", owner: { metadata: { name: "x" } } }),
      /without name or uid/,
    );
  });
});

/** A pod as the API server reports it. */
function podIn(status: V1Pod["status"], metadata: V1Pod["metadata"] = {}): V1Pod {
  return {
    metadata: { name: "gofer-build-1234abcd", ...metadata },
    spec: { containers: [{ name: CONTAINER_NAME, image: "gofer/missing:latest" }] },
    status,
  };
}

const waitingFor = (reason: string, message?: string) =>
  podIn({
    phase: "Pending",
    containerStatuses: [
      {
        name: CONTAINER_NAME,
        image: "docker.io/gofer/missing:latest",
        imageID: "",
        ready: false,
        restartCount: 0,
        state: { waiting: { reason, message } },
      },
    ],
  });

const terminatedWith = (exitCode: number, reason?: string, message?: string, phase = "Failed") =>
  podIn({
    phase,
    containerStatuses: [
      {
        name: CONTAINER_NAME,
        image: "busybox:1.36",
        imageID: "",
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode, reason, message } },
      },
    ],
  });

describe("pod status", () => {
  it("is pending until the container starts, with Kubernetes' reason when it gives one", () => {
    assert.deepEqual(exitOf(podIn(undefined)), { state: "pending" });
    assert.deepEqual(exitOf(podIn({ phase: "Pending" })), { state: "pending" });
    const unschedulable = podIn({
      phase: "Pending",
      conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/3 nodes" }],
    });
    assert.deepEqual(exitOf(unschedulable), { state: "pending", reason: "Unschedulable" });
    assert.deepEqual(exitOf(waitingFor("ContainerCreating")), {
      state: "pending",
      reason: "ContainerCreating",
    });
  });

  it("is running while the container runs, also while a stop is under way", () => {
    const running = podIn({
      phase: "Running",
      containerStatuses: [
        {
          name: CONTAINER_NAME,
          image: "busybox",
          imageID: "",
          ready: true,
          restartCount: 0,
          state: { running: { startedAt: new Date() } },
        },
      ],
    });
    assert.deepEqual(exitOf(running), { state: "running" });
    running.metadata = { ...running.metadata, deletionTimestamp: new Date() };
    assert.deepEqual(exitOf(running), { state: "running" });
  });

  it("reports the exit code of a container that ended, OOM kills included", () => {
    assert.deepEqual(exitOf(terminatedWith(0, "Completed", undefined, "Succeeded")), {
      state: "exited",
      exitCode: 0,
      reason: "Completed",
    });
    assert.deepEqual(exitOf(terminatedWith(7, "Error")), { state: "exited", exitCode: 7, reason: "Error" });
    assert.deepEqual(exitOf(terminatedWith(137, "OOMKilled")), {
      state: "exited",
      exitCode: 137,
      reason: "OOMKilled",
    });
    assert.deepEqual(exitOf(terminatedWith(143)), { state: "exited", exitCode: 143, reason: undefined });
  });

  it("fails an image that cannot be pulled, naming the image as the spec gave it", () => {
    for (const reason of ["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"]) {
      const progress = exitOf(waitingFor(reason, `rpc error: pull access denied (${reason})`));
      assert.equal(progress.state, "failed", reason);
      assert.ok(progress.state === "failed");
      assert.equal(progress.cause, "image");
      assert.equal(
        progress.message,
        `could not pull image "gofer/missing:latest": rpc error: pull access denied (${reason})`,
      );
    }
    const bare = exitOf(waitingFor("ImagePullBackOff"));
    assert.ok(bare.state === "failed");
    assert.equal(bare.message, 'could not pull image "gofer/missing:latest": ImagePullBackOff');
  });

  it("fails a container that cannot be created or started", () => {
    const config = exitOf(waitingFor("CreateContainerConfigError", 'secret "x" not found'));
    assert.deepEqual(config, {
      state: "failed",
      cause: "start",
      message: 'could not start the container: secret "x" not found',
    });
    const startError = exitOf(
      terminatedWith(128, "StartError", 'exec: "nope": executable file not found in $PATH'),
    );
    assert.deepEqual(startError, {
      state: "failed",
      cause: "start",
      message: 'could not start the container: exec: "nope": executable file not found in $PATH',
    });
  });

  it("fails an evicted pod, or one that failed without its container's exit", () => {
    const evicted = podIn({
      phase: "Failed",
      reason: "Evicted",
      message: "The node was low on resource: memory.",
    });
    assert.deepEqual(exitOf(evicted), {
      state: "failed",
      cause: "pod",
      message: "the pod was evicted: The node was low on resource: memory.",
    });
    // Even when the kubelet reported the killed container's code: it says nothing about the task.
    const evictedWithCode = terminatedWith(
      137,
      "ContainerStatusUnknown",
      "The container could not be located",
    );
    assert.ok(evictedWithCode.status);
    evictedWithCode.status.reason = "Evicted";
    assert.equal(exitOf(evictedWithCode).state, "failed");
    const lost = exitOf(terminatedWith(137, "ContainerStatusUnknown", "The container could not be located"));
    assert.deepEqual(lost, {
      state: "failed",
      cause: "pod",
      message: "the container's exit code was lost: The container could not be located",
    });
    const rejected = podIn({
      phase: "Failed",
      reason: "OutOfcpu",
      message: "Node didn't have enough resource: cpu",
    });
    assert.deepEqual(exitOf(rejected), {
      state: "failed",
      cause: "pod",
      message: "the pod failed: OutOfcpu: Node didn't have enough resource: cpu",
    });
    assert.deepEqual(exitOf(podIn({ phase: "Failed" })), {
      state: "failed",
      cause: "pod",
      message: "the pod failed",
    });
  });

  it("ends a pod stopped before its container started, and reads success without a container status", () => {
    const stopped = podIn({ phase: "Pending" }, { deletionTimestamp: new Date() });
    assert.deepEqual(exitOf(stopped), {
      state: "failed",
      cause: "pod",
      message: "the pod was stopped before its container started",
    });
    assert.deepEqual(exitOf(podIn({ phase: "Succeeded" })), { state: "exited", exitCode: 0 });
  });

  it("reads a watch event's raw object the same way", () => {
    const raw = JSON.parse(JSON.stringify(terminatedWith(3, "Error")));
    raw.metadata.deletionTimestamp = "2026-11-28T12:00:00Z";
    assert.deepEqual(exitOf(raw), { state: "exited", exitCode: 3, reason: "Error" });
  });

  it("settles once nothing more will happen", () => {
    assert.equal(isSettled({ state: "pending" }), false);
    assert.equal(isSettled({ state: "running" }), false);
    assert.equal(isSettled({ state: "exited", exitCode: 1 }), true);
    assert.equal(isSettled({ state: "failed", cause: "image", message: "x" }), true);
  });
});

describe("managed pods", () => {
  it("lists a pod by its name, Gofer's name for it, its decoded labels and its state", () => {
    const created = podFor(spec({ labels: { "gofer.task": "build & test" } }), { namespace: "ci" });
    const listed = managedFrom(created);
    assert.equal(listed.id, resourceName("gofer_default_simple_3_build"));
    assert.equal(listed.name, "gofer_default_simple_3_build");
    assert.deepEqual(listed.labels, { "gofer.task": "build & test", "gofer.managed": "true" });
    assert.equal(listed.state, "created");
    assert.equal(managedFrom({ metadata: { name: "plain" } }).name, "plain");
  });

  it("is created until it runs (or when it never could), running, then exited", () => {
    const stateOf = (pod: V1Pod) => managedFrom(pod).state;
    assert.equal(stateOf(waitingFor("ContainerCreating")), "created");
    assert.equal(stateOf(waitingFor("ImagePullBackOff")), "created");
    assert.equal(stateOf(terminatedWith(128, "StartError")), "created");
    assert.equal(
      stateOf(
        podIn({
          phase: "Running",
          containerStatuses: [
            {
              name: CONTAINER_NAME,
              image: "",
              imageID: "",
              ready: true,
              restartCount: 0,
              state: { running: {} },
            },
          ],
        }),
      ),
      "running",
    );
    assert.equal(stateOf(terminatedWith(0, "Completed")), "exited");
    assert.equal(stateOf(podIn({ phase: "Failed", reason: "Evicted" })), "exited");
  });
});

describe("API plumbing", () => {
  it("asks for one container's log with timestamps", () => {
    assert.equal(
      logPath("ci", "gofer-build", { follow: true, sinceTime: "2026-11-28T12:00:05Z", tailLines: 50 }),
      "/api/v1/namespaces/ci/pods/gofer-build/log?container=task&timestamps=true&follow=true&sinceTime=2026-11-28T12%3A00%3A05Z&tailLines=50",
    );
    assert.equal(
      logPath("ci", "gofer-build", { follow: false }),
      "/api/v1/namespaces/ci/pods/gofer-build/log?container=task&timestamps=true",
    );
  });

  it("takes off only Gofer's finalizer, guarded against a concurrent change", () => {
    const pod: V1Pod = { metadata: { finalizers: ["example.com/other", EXIT_FINALIZER] } };
    assert.deepEqual(finalizerRemoval(pod), [
      { op: "test", path: "/metadata/finalizers/1", value: EXIT_FINALIZER },
      { op: "remove", path: "/metadata/finalizers/1" },
    ]);
    assert.equal(finalizerRemoval({ metadata: { finalizers: ["example.com/other"] } }), undefined);
    assert.equal(finalizerRemoval({ metadata: {} }), undefined);
  });

  it("finds the cluster configuration: the setting, in-cluster, $KUBECONFIG, then ~/.kube/config", () => {
    const none = () => false;
    const all = () => true;
    assert.deepEqual(
      kubeConfigSource("/etc/gofer/kubeconfig", { KUBERNETES_SERVICE_HOST: "10.0.0.1" }, "/home/g", none),
      {
        kind: "file",
        path: "/etc/gofer/kubeconfig",
      },
    );
    assert.deepEqual(
      kubeConfigSource("", { KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBECONFIG: "/k" }, "/home/g", all),
      {
        kind: "in-cluster",
      },
    );
    assert.deepEqual(kubeConfigSource("", { KUBECONFIG: "/a:/b" }, "/home/g", all), {
      kind: "environment",
      paths: "/a:/b",
    });
    assert.deepEqual(kubeConfigSource("", {}, "/home/g", all), {
      kind: "file",
      path: "/home/g/.kube/config",
    });
    assert.throws(
      () => kubeConfigSource("", {}, "/home/g", none),
      (error: unknown) =>
        error instanceof SchedulerError && /no Kubernetes configuration found/.test(error.message),
    );
  });
});

describe("errors", () => {
  /** The client's ApiException, by shape. */
  const apiException = (code: number, body: unknown) =>
    Object.assign(new Error(`HTTP-Code: ${code}`), { code, body });

  it("maps statuses: 404 not_found, 429 and 5xx unavailable, the rest failed", () => {
    const status = (code: number) =>
      toSchedulerError("could not read pod", apiException(code, undefined)).kind;
    assert.equal(status(404), "not_found");
    assert.equal(status(429), "unavailable");
    assert.equal(status(500), "unavailable");
    assert.equal(status(503), "unavailable");
    assert.equal(status(400), "failed");
    assert.equal(status(401), "failed");
    assert.equal(status(403), "failed");
    assert.equal(status(422), "failed");
  });

  it("keeps the API server's own message, given as an object or as JSON text", () => {
    const forbidden = {
      kind: "Status",
      message: 'pods is forbidden: User "gofer" cannot create resource "pods" in the namespace "ci"',
      code: 403,
    };
    const fromObject = toSchedulerError('could not create pod "x"', apiException(403, forbidden));
    assert.equal(fromObject.message, `could not create pod "x": ${forbidden.message}`);
    assert.equal(fromObject.kind, "failed");
    const fromText = toSchedulerError(
      'could not create pod "x"',
      apiException(403, JSON.stringify(forbidden)),
    );
    assert.equal(fromText.message, fromObject.message);
    assert.equal(
      toSchedulerError("could not list", apiException(401, undefined)).message,
      "could not list: the cluster did not accept the credentials (401 Unauthorized)",
    );
    assert.equal(toSchedulerError("x", apiException(418, "")).message, "x: the API server answered 418");
    assert.equal(
      toSchedulerError("x", new ApiStatusError(400, "container is waiting to start")).message,
      "x: container is waiting to start",
    );
    assert.equal(toSchedulerError("x", new ApiStatusError(404, "")).kind, "not_found");
    const watchRefused = Object.assign(new Error("Forbidden"), { statusCode: 403 });
    assert.equal(toSchedulerError("x", watchRefused).kind, "failed");
  });

  it("calls a request without an answer unavailable, by the socket error down the cause chain", () => {
    const refused = new TypeError("fetch failed", {
      cause: Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:6443"), { code: "ECONNREFUSED" }),
    });
    const error = toSchedulerError("could not read pod", refused);
    assert.equal(error.kind, "unavailable");
    assert.equal(
      error.message,
      "could not read pod: the Kubernetes API server did not answer (ECONNREFUSED)",
    );
    assert.equal(error.cause, refused);
    const reset = new TypeError("terminated", {
      cause: new Error("other side closed", {
        cause: Object.assign(new Error("reset"), { code: "ECONNRESET" }),
      }),
    });
    assert.equal(toSchedulerError("x", reset).kind, "unavailable");
    assert.equal(
      toSchedulerError("x", Object.assign(new Error("t"), { code: "UND_ERR_BODY_TIMEOUT" })).kind,
      "unavailable",
    );
    const other = toSchedulerError("x", Object.assign(new Error("no such file"), { code: "ENOENT" }));
    assert.equal(other.kind, "failed");
    assert.equal(other.message, "x: no such file");
    const badPort = toSchedulerError("x", new TypeError("fetch failed", { cause: new Error("bad port") }));
    assert.equal(badPort.message, "x: fetch failed: bad port");
    assert.equal(badPort.kind, "failed");
    const already = new SchedulerError("as it was", { kind: "not_found" });
    assert.equal(toSchedulerError("x", already), already);
  });
});

describe("log lines", () => {
  it("parses the kubelet's stamps, any precision and offset", () => {
    assert.deepEqual(parseStamp("2026-11-28T12:00:05.123456789Z"), {
      seconds: 1_795_867_205,
      nanos: 123_456_789,
    });
    assert.deepEqual(parseStamp("2026-11-28T12:00:05.5Z"), { seconds: 1_795_867_205, nanos: 500_000_000 });
    assert.deepEqual(parseStamp("2026-11-28T12:00:05Z"), { seconds: 1_795_867_205, nanos: 0 });
    assert.deepEqual(parseStamp("2026-11-28T14:00:05.000000001+02:00"), { seconds: 1_795_867_205, nanos: 1 });
    for (const bad of ["yesterday", "2026-11-28 12:00:05Z", "2026-11-28T12:00:05.1234567890Z", ""]) {
      assert.throws(() => parseStamp(bad), /unexpected log timestamp/, bad);
    }
  });

  it("asks from whole seconds, rounding down, and filters the rest of the second itself", () => {
    assert.equal(secondStamp(1_795_867_205), "2026-11-28T12:00:05Z");
    assert.equal(sinceTimeOf(1_795_867_205_999.9), "2026-11-28T12:00:05Z");
    assert.equal(sinceTimeOf(1_795_867_205_000), "2026-11-28T12:00:05Z");
    const stamp = parseStamp("2026-11-28T12:00:05.250000000Z");
    assert.equal(isBefore(stamp, 1_795_867_205_250), false);
    assert.equal(isBefore(stamp, 1_795_867_205_250.5), true);
    assert.equal(isBefore(stamp, 1_795_867_205_249), false);
    assert.equal(isBefore(stamp, 1_795_867_206_000), true);
    assert.equal(isBefore(stamp, 1_795_867_204_999), false);
  });

  it("splits the stream into lines wherever the chunks break, the last line without newline at the end", () => {
    const text =
      "2026-11-28T12:00:05.000000001Z first line\n" +
      "2026-11-28T12:00:05.000000002Z \n" +
      "2026-11-28T12:00:05.000000003Z  spaced  out \n" +
      "2026-11-28T12:00:06.000000000Z no newline";
    for (const size of [1, 2, 7, 31, 1000]) {
      const splitter = new PodLogLines();
      const lines = [];
      const bytes = Buffer.from(text);
      for (let offset = 0; offset < bytes.length; offset += size)
        lines.push(...splitter.push(bytes.subarray(offset, offset + size)));
      const last = splitter.end();
      assert.ok(last);
      lines.push(last);
      assert.deepEqual(
        lines.map((line) => line.data.toString()),
        ["first line\n", "\n", " spaced  out \n", "no newline"],
        `chunks of ${size}`,
      );
      assert.deepEqual(lines[3]?.timestamp, parseStamp("2026-11-28T12:00:06Z"));
      assert.equal(splitter.end(), undefined);
    }
    assert.throws(() => new PodLogLines().push(Buffer.from("no stamp at all\n")), /without a timestamp/);
  });
});

/** A log as the kubelet keeps it: lines in file order, each with the stamp its copier gave it. */
interface StoredLine {
  stamp: string;
  text: string;
}

const BASE_SECOND = 1_795_867_200;

function stampAt(nanosSinceBase: number): string {
  const seconds = BASE_SECOND + Math.floor(nanosSinceBase / 1e9);
  return `${secondStamp(seconds).slice(0, -1)}.${String(nanosSinceBase % 1e9).padStart(9, "0")}Z`;
}

/** A chatty log over several seconds whose stamps go back by up to 0.9 s now and then, as two copiers do. */
function chattyLog(count: number): StoredLine[] {
  const lines: StoredLine[] = [];
  let clock = 0;
  for (let index = 0; index < count; index++) {
    clock += 1_000_000 + ((index * 7919) % 40_000_000);
    const skewed = index % 11 === 0 ? Math.max(0, clock - 900_000_000) : clock;
    lines.push({ stamp: stampAt(skewed), text: `line ${index + 1}${index === count - 1 ? "" : "\n"}` });
  }
  return lines;
}

/** What the API server answers: `sinceTime` cut to whole seconds, then every line stamped at or after it. */
function serve(log: StoredLine[], sinceTime: string | undefined): Buffer {
  const since = sinceTime === undefined ? Number.NEGATIVE_INFINITY : Math.floor(Date.parse(sinceTime) / 1000);
  return Buffer.from(
    log
      .filter((line) => parseStamp(line.stamp).seconds >= since)
      .map((line) => `${line.stamp} ${line.text}`)
      .join(""),
  );
}

/** Reads `log` from `from` like the backend's plain read, in chunks of `size` bytes, stopping after `limit` pieces. */
function read(
  log: StoredLine[],
  from: ReadFrom,
  options: { size?: number; limit?: number; notBeforeMs?: number } = {},
) {
  const { size = 13, limit = Number.POSITIVE_INFINITY, notBeforeMs } = options;
  const pass = new LogPass(from, notBeforeMs);
  const splitter = new PodLogLines();
  const pieces: LogChunk[] = [];
  const bytes = serve(log, from.sinceTime);
  for (let offset = 0; offset < bytes.length && pieces.length < limit; offset += size) {
    for (const line of splitter.push(bytes.subarray(offset, offset + size))) {
      // A reader that stops takes no further line: the position must end at the last piece it kept.
      if (pieces.length === limit) break;
      const piece = pass.take(line);
      if (piece) pieces.push(piece);
    }
  }
  if (pieces.length < limit) {
    const last = splitter.end();
    const piece = last && pass.take(last);
    if (piece) pieces.push(piece);
  }
  return { pieces, pass };
}

const textOf = (pieces: LogChunk[]) => pieces.map((piece) => piece.data.toString()).join("");

describe("log positions", () => {
  it("names the second before the newest stamp and how many delivered lines lie in or after it", () => {
    const position = new PodLogPosition();
    assert.equal(position.cursor(), undefined);
    assert.deepEqual(position.advance(parseStamp("2026-11-28T12:00:05.100Z")), {
      timestamp: "2026-11-28T12:00:04Z",
      count: 1,
    });
    position.advance(parseStamp("2026-11-28T12:00:05.900Z"));
    // Stamped before the previous line: counted all the same, it comes back from the same second.
    assert.deepEqual(position.advance(parseStamp("2026-11-28T12:00:05.800Z")), {
      timestamp: "2026-11-28T12:00:04Z",
      count: 3,
    });
    assert.deepEqual(position.advance(parseStamp("2026-11-28T12:00:06.100Z")), {
      timestamp: "2026-11-28T12:00:05Z",
      count: 4,
    });
    // Lines more than a second behind the newest leave the count: sinceTime no longer returns them.
    assert.deepEqual(position.advance(parseStamp("2026-11-28T12:00:07.000Z")), {
      timestamp: "2026-11-28T12:00:06Z",
      count: 2,
    });
    // A late line stamped in a second the cursor has passed is not counted: the API server drops it too.
    assert.deepEqual(position.advance(parseStamp("2026-11-28T12:00:05.999Z")), {
      timestamp: "2026-11-28T12:00:06Z",
      count: 2,
    });
    assert.deepEqual(position.advance(parseStamp("2026-11-28T12:00:09.5Z")), {
      timestamp: "2026-11-28T12:00:08Z",
      count: 1,
    });
  });

  it("counts every line of the second, not just those after the newest stamp's fraction", () => {
    // sinceTime reaches the kubelet without its fraction: asking from 12:00:05.7 returns 12:00:05.1 as well.
    const log: StoredLine[] = [
      { stamp: "2026-11-28T12:00:05.100000000Z", text: "a\n" },
      { stamp: "2026-11-28T12:00:05.700000000Z", text: "b\n" },
      { stamp: "2026-11-28T12:00:06.300000000Z", text: "c\n" },
    ];
    const { pieces } = read(log, { skip: 0 }, { limit: 2 });
    const cursor = pieces.at(-1)?.position;
    assert.deepEqual(cursor, { timestamp: "2026-11-28T12:00:04Z", count: 2 });
    assert.equal(serve(log, "2026-11-28T12:00:05.700000000Z").toString().split("\n").length - 1, 3);
    assert.equal(textOf(read(log, readFromCursor(cursor as never)).pieces), "c\n");
  });

  it("resumes after any line of a long, out-of-order log with nothing lost and nothing repeated", () => {
    const log = chattyLog(400);
    const whole = read(log, { skip: 0 }).pieces;
    assert.equal(whole.length, 400);
    const expected = log.map((line) => line.text).join("");
    assert.equal(textOf(whole), expected);
    for (let cut = 0; cut < whole.length; cut++) {
      const position = whole[cut]?.position;
      assert.ok(position);
      assert.match(String(position.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      const rest = read(log, readFromCursor(position), { size: 1 + (cut % 29) }).pieces;
      assert.equal(
        textOf(whole.slice(0, cut + 1)) + textOf(rest),
        expected,
        `resuming after line ${cut + 1}`,
      );
    }
  });

  it("resumes again and again, from positions of resumed reads, as a follower cut short repeatedly would", () => {
    const log = chattyLog(300);
    const expected = log.map((line) => line.text).join("");
    let from: ReadFrom = { skip: 0 };
    let text = "";
    for (let round = 0; round < 100 && text.length < expected.length; round++) {
      const { pieces, pass } = read(log, from, { limit: 1 + (round % 9), size: 5 + round });
      text += textOf(pieces);
      const last = pieces.at(-1)?.position;
      assert.ok(last);
      // The pass's own idea of where to resume agrees with the last piece's position.
      assert.deepEqual(pass.next(), readFromCursor(last));
      from = readFromCursor(last);
    }
    assert.equal(text, expected);
  });

  it("keeps the old position while the lines to skip have not all come back", () => {
    const log = chattyLog(50);
    const whole = read(log, { skip: 0 }).pieces;
    const from = readFromCursor(whole[40]?.position as never);
    assert.ok(from.skip > 3);
    const pass = new LogPass(from);
    const splitter = new PodLogLines();
    const served = serve(log, from.sinceTime);
    const firstLines = splitter.push(served.subarray(0, served.indexOf("\n") + 1));
    assert.equal(firstLines.length, 1);
    assert.equal(pass.take(firstLines[0] as never), undefined);
    assert.equal(pass.delivered, 0);
    assert.deepEqual(pass.next(), from);
    assert.deepEqual(new LogPass({ skip: 0 }).next(), { skip: 0 });
  });

  it("drops lines before sinceMs inside the whole second asked for, and still counts them", () => {
    const log: StoredLine[] = [
      { stamp: "2026-11-28T12:00:04.900000000Z", text: "old\n" },
      { stamp: "2026-11-28T12:00:05.100000000Z", text: "too early\n" },
      { stamp: "2026-11-28T12:00:05.600000000Z", text: "wanted\n" },
      { stamp: "2026-11-28T12:00:06.000000000Z", text: "also\n" },
    ];
    const sinceMs = Date.parse("2026-11-28T12:00:05.500Z");
    const { pieces } = read(log, { sinceTime: sinceTimeOf(sinceMs), skip: 0 }, { notBeforeMs: sinceMs });
    assert.equal(textOf(pieces), "wanted\nalso\n");
    // The position after "wanted" counts the filtered line too: sinceTime returns it again. It does not reach
    // back before the second asked for, whose lines the read never saw.
    assert.deepEqual(pieces[0]?.position, { timestamp: "2026-11-28T12:00:05Z", count: 2 });
    assert.equal(textOf(read(log, readFromCursor(pieces[0]?.position as never)).pieces), "also\n");
  });

  it("rejects a cursor that is not a stamp", () => {
    assert.throws(() => readFromCursor({ timestamp: "soon", count: 1 }), /unexpected log timestamp/);
  });
});

/** Runs a Node script and says which files of the Kubernetes client it resolved. */
async function kubernetesModulesLoadedBy(args: string[]): Promise<{ stdout: string; loaded: string[] }> {
  const hook = `
    import { registerHooks } from "node:module";
    const loaded = [];
    registerHooks({
      resolve(specifier, context, next) {
        const resolved = next(specifier, context);
        if (resolved.url.includes("/@kubernetes/client-node/")) loaded.push(resolved.url);
        return resolved;
      },
    });
    // Few and short: a pipe gets only what is written at once when the process exits.
    process.on("exit", () => process.stderr.write("\\nLOADED " + JSON.stringify(loaded.slice(0, 3)) + "\\n"));
  `;
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ["--import", `data:text/javascript,${encodeURIComponent(hook)}`, ...args],
    { cwd: join(import.meta.dirname, "..", "..", ".."), env: { ...process.env, NO_COLOR: "1" } },
  );
  const line = stderr.split("\n").find((text) => text.startsWith("LOADED "));
  assert.ok(line, `no report from the hook: ${stderr}`);
  return { stdout, loaded: JSON.parse(line.slice("LOADED ".length)) };
}

describe("the client", () => {
  it("is loaded only by the Kubernetes backend: never by the CLI, the server's modules or the Docker backend", async () => {
    const cli = await kubernetesModulesLoadedBy(["packages/gofer/src/main.ts", "--help"]);
    assert.match(cli.stdout, /Usage/);
    assert.deepEqual(cli.loaded, []);
    const docker = await kubernetesModulesLoadedBy([
      "--input-type=module",
      "-e",
      `await import("./packages/gofer/src/service/gofer-service.ts");
       const { createScheduler } = await import("./packages/gofer/src/scheduler/create-scheduler.ts");
       const docker = { host: "unix:///nonexistent.sock", network_mode: "host" };
       await createScheduler({ scheduler: { engine: "docker", docker } });
       await import("./packages/gofer/src/scheduler/kubernetes/kubernetes-scheduler.ts");
       console.log("docker backend made");`,
    ]);
    assert.match(docker.stdout, /docker backend made/);
    assert.deepEqual(docker.loaded, [], "importing the backend module alone must not load the client either");
    // The hook sees the client when it is loaded, so the empty lists above mean something.
    const kubernetes = await kubernetesModulesLoadedBy([
      "--input-type=module",
      "-e",
      `const { createKubernetesScheduler } = await import("./packages/gofer/src/scheduler/kubernetes/kubernetes-scheduler.ts");
       await createKubernetesScheduler({ namespace: "ci", kubeconfig: "/nonexistent/kubeconfig", context: "" }).catch(() => {});`,
    ]);
    assert.ok(kubernetes.loaded.length > 0);
  });

  describe("against a cluster that does not answer", () => {
    const config = async (port: number) => {
      const folder = await mkdtemp(join(tmpdir(), "gofer-kubeconfig-"));
      const path = join(folder, "config");
      await writeFile(
        path,
        [
          "apiVersion: v1",
          "kind: Config",
          "clusters:",
          `- name: gone\n  cluster:\n    server: https://127.0.0.1:${port}\n    insecure-skip-tls-verify: true`,
          "users:",
          "- name: robot\n  user:\n    token: not-a-real-token",
          "contexts:",
          "- name: gone\n  context:\n    cluster: gone\n    user: robot",
          "current-context: gone",
          "",
        ].join("\n"),
      );
      return { path, [Symbol.asyncDispose]: () => rm(folder, { recursive: true, force: true }) };
    };

    it("says every call is worth retrying, naming the refused connection", async () => {
      await using kubeconfig = await config(await freePort());
      const scheduler = await createKubernetesScheduler({
        namespace: "ci",
        kubeconfig: kubeconfig.path,
        context: "",
      });
      assert.equal(scheduler.serviceBindHost(), "0.0.0.0");
      const unavailable = (error: unknown) => {
        assert.ok(error instanceof SchedulerError, String(error));
        assert.equal(error.kind, "unavailable");
        assert.match(error.message, /the Kubernetes API server did not answer \(ECONNREFUSED\)/);
        return true;
      };
      await assert.rejects(scheduler.listManaged({ "gofer.task": "build" }), unavailable);
      await assert.rejects(scheduler.start(spec()), unavailable);
      await assert.rejects(scheduler.wait("gofer-build"), unavailable);
      await assert.rejects(scheduler.stop("gofer-build", 5), unavailable);
      await assert.rejects(scheduler.remove("gofer-build"), unavailable);
      await assert.rejects(async () => {
        for await (const _ of scheduler.logs("gofer-build", { follow: true }))
          assert.fail("no output expected");
      }, unavailable);
      // An aborted wait rejects at once, without waiting for the cluster.
      await assert.rejects(scheduler.wait("gofer-build", { signal: AbortSignal.abort() }), {
        name: "AbortError",
      });
    });

    it("refuses a context the kubeconfig does not have, and a kubeconfig that is not there", async () => {
      await using kubeconfig = await config(1);
      await assert.rejects(
        createKubernetesScheduler({ namespace: "ci", kubeconfig: kubeconfig.path, context: "production" }),
        (error: unknown) =>
          error instanceof SchedulerError &&
          /has no context "production" \(it has: gone\)/.test(error.message),
      );
      await assert.rejects(
        createKubernetesScheduler({ namespace: "ci", kubeconfig: "/nonexistent/kubeconfig", context: "" }),
        (error: unknown) =>
          error instanceof SchedulerError &&
          /could not load the Kubernetes configuration from \/nonexistent\/kubeconfig/.test(error.message),
      );
      await assert.rejects(
        createKubernetesScheduler({ namespace: "", kubeconfig: kubeconfig.path, context: "" }),
        /namespace must not be empty/,
      );
    });
  });
});
