/**
 * What is particular to the swarm backend, against a real single-node swarm of the test's own
 * (support/swarm-engine.ts): the service it makes of a ContainerSpec as the engine stores it, tasks the swarm
 * rejects or cannot start, a service port, a stop before the task ever ran, and names swarmkit would refuse. The
 * behaviour every backend shares is in scheduler-conformance.test.ts (`SCHEDULER=swarm`).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { EngineClient } from "../src/scheduler/docker/engine-client.ts";
import {
  type ContainerSpec,
  type LogChunk,
  type Scheduler,
  SchedulerError,
} from "../src/scheduler/scheduler.ts";
import { serviceName, serviceSpecOf } from "../src/scheduler/swarm/service-spec.ts";
import { SwarmScheduler } from "../src/scheduler/swarm/swarm-scheduler.ts";
import { type SwarmEngine, startSwarmEngine, swarmEngineUnavailable } from "./support/swarm-engine.ts";
import { BUSYBOX } from "./support/test-server.ts";

async function text(stream: AsyncIterable<LogChunk>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk.data);
  return Buffer.concat(parts).toString();
}

function failedWith(pattern: RegExp, kind: SchedulerError["kind"] = "failed") {
  return (error: unknown) => {
    assert.ok(error instanceof SchedulerError, String(error));
    assert.equal(error.kind, kind);
    assert.match(error.message, pattern);
    return true;
  };
}

test("service names are what swarmkit accepts, and distinct names stay distinct", () => {
  assert.equal(serviceName("gofer-default-simple-3-build-x1y2z3"), "gofer-default-simple-3-build-x1y2z3");
  assert.equal(serviceName("gofer_0a1b2c3d_extension_cron"), "gofer_0a1b2c3d_extension_cron");
  const long = `gofer-${"n".repeat(32)}-${"p".repeat(32)}-12-${"t".repeat(32)}-abc123`;
  const other = `${long.slice(0, -1)}4`;
  for (const name of [long, other, "gofer.with.dots", "-leading-and-trailing_"]) {
    const mapped = serviceName(name);
    assert.ok(mapped.length <= 63, mapped);
    assert.match(mapped, /^[a-zA-Z0-9](?:[-_]*[a-zA-Z0-9]+)*$/);
  }
  assert.notEqual(serviceName(long), serviceName(other));
});

test("the service runs the command under the engine's init only when the spec asks", () => {
  const base = { name: "gofer-init", image: BUSYBOX, env: {}, labels: {}, alwaysPull: false };
  const options = { networkMode: "host", localNodeId: "node" };
  assert.equal(serviceSpecOf({ ...base, init: true }, options).TaskTemplate.ContainerSpec.Init, true);
  assert.equal(serviceSpecOf(base, options).TaskTemplate.ContainerSpec.Init, undefined);
});

test("an engine that is no swarm manager fails the start, without retrying", async () => {
  // The machine's main engine is only asked for /info: nothing is created there.
  const client = new EngineClient({ host: process.env.DOCKER_HOST || undefined });
  const info = await client.info();
  if (info.Swarm.LocalNodeState === "active") return;
  const scheduler = new SwarmScheduler({ client, networkMode: "host" });
  try {
    await assert.rejects(
      scheduler.start({ name: "gofer-never", image: BUSYBOX, env: {}, labels: {}, alwaysPull: false }),
      failedWith(/is not a swarm manager/),
    );
  } finally {
    client.close();
  }
});

describe("SwarmScheduler on a private swarm", { skip: swarmEngineUnavailable(), timeout: 120_000 }, () => {
  let engine: SwarmEngine;
  let client: EngineClient;
  let scheduler: Scheduler;
  const run = randomBytes(4).toString("hex");
  let count = 0;
  const spec = (overrides: Partial<ContainerSpec> = {}): ContainerSpec => ({
    name: `gofer-swarm-${run}-${count++}`,
    image: BUSYBOX,
    env: {},
    labels: { "gofer.instance": run },
    alwaysPull: false,
    ...overrides,
  });

  before(async () => {
    engine = await startSwarmEngine();
    client = new EngineClient({ host: engine.host });
    scheduler = new SwarmScheduler({ client, networkMode: "host" });
  });
  after(async () => {
    client?.close();
    await engine?.close();
  });

  test("swarm init left only the host and none networks: no overlay, no bridge", async (t) => {
    t.diagnostic(`swarm init created: ${engine.created.join("; ")}`);
    t.diagnostic(`left after cleanup: ${engine.remaining.join("; ") || "nothing"}`);
    assert.deepEqual(
      engine.remaining.filter((item) => item.startsWith("network ")),
      [],
    );
    assert.deepEqual(
      engine.remaining.filter((item) => item.startsWith("interface ")),
      [],
    );
  });

  test("a start is a one-shot service: labels, command, environment, limits and host network as stored", async () => {
    const { id } = await scheduler.start(
      spec({
        env: { GREETING: "hello there", EMPTY: "" },
        entrypoint: ["sh", "-c"],
        command: ['echo "$GREETING"; sleep 5'],
        labels: { "gofer.instance": run, "gofer.task": "spec", "gofer.managed": "false" },
        resources: { cpu: 0.5, memoryBytes: 64 * 1024 * 1024 },
      }),
    );
    const service = await client.inspectService(id);
    const template = service.Spec.TaskTemplate;
    const labels = { "gofer.instance": run, "gofer.task": "spec", "gofer.managed": "true" };
    assert.deepEqual(service.Spec.Labels, labels);
    assert.deepEqual(template.ContainerSpec.Labels, labels);
    assert.deepEqual(template.ContainerSpec.Command, ["sh", "-c"]);
    assert.deepEqual(template.ContainerSpec.Args, ['echo "$GREETING"; sleep 5']);
    assert.deepEqual(template.ContainerSpec.Env, ["GREETING=hello there", "EMPTY="]);
    assert.equal(template.RestartPolicy?.Condition, "none");
    assert.deepEqual(template.Resources?.Limits, { NanoCPUs: 500_000_000, MemoryBytes: 64 * 1024 * 1024 });
    assert.deepEqual(service.Spec.Mode, { Replicated: { Replicas: 1 } });
    assert.equal(template.Placement, undefined, "a task goes wherever the swarm puts it");

    // What the node made of it.
    const [task] = await client.listTasks(id);
    const container = task?.Status.ContainerStatus?.ContainerID ?? "";
    const inspected = (await client.inspectContainer(container)) as Awaited<
      ReturnType<EngineClient["inspectContainer"]>
    > & { HostConfig: { NetworkMode: string; NanoCpus: number; Memory: number } };
    assert.equal(inspected.HostConfig.NetworkMode, "host");
    assert.equal(inspected.HostConfig.NanoCpus, 500_000_000);
    assert.equal(inspected.HostConfig.Memory, 64 * 1024 * 1024);
    assert.equal(inspected.Config.Labels?.["gofer.managed"], "true");
    assert.equal(inspected.Config.Labels?.["gofer.task"], "spec");
    assert.equal(await text(scheduler.logs(id, { follow: false })), "hello there\n");

    await scheduler.stop(id, 1);
    assert.equal((await scheduler.wait(id)).exitCode, 137);
    await scheduler.remove(id);
  });

  test("init reaches the task's container: a SIGTERM it does not trap ends it at once", async () => {
    const { id } = await scheduler.start(spec({ command: ["sleep", "30"], init: true }));
    assert.equal((await client.inspectService(id)).Spec.TaskTemplate.ContainerSpec.Init, true);
    const [task] = await client.listTasks(id);
    const container = task?.Status.ContainerStatus?.ContainerID ?? "";
    assert.equal((await client.inspectContainer(container)).HostConfig?.Init, true);
    const asked = performance.now();
    await scheduler.stop(id, 20);
    assert.equal((await scheduler.wait(id)).exitCode, 143, "ended by SIGTERM");
    const elapsed = performance.now() - asked;
    assert.ok(elapsed < 5000, `the stop took ${elapsed} ms: the grace period was sat out`);
    await scheduler.remove(id);
  });

  test("a container that cannot start fails the start with the engine's reason and leaves nothing", async () => {
    const labels = { "gofer.instance": run, "gofer.task": "no-such-command" };
    await assert.rejects(
      scheduler.start(spec({ entrypoint: ["/no/such/command"], labels })),
      failedWith(/could not start service .*no such file or directory/),
    );
    assert.deepEqual(await scheduler.listManaged(labels), []);
  });

  test("a task the swarm rejects (its image cannot be had) makes wait fail with the swarm's reason", async () => {
    // Made directly: start itself refuses an image the manager cannot pull.
    const image = `gofer/swarm-missing-${run}:latest`;
    const id = await client.createService({
      Name: `gofer-swarm-${run}-rejected`,
      Labels: { "gofer.managed": "true", "gofer.instance": run },
      TaskTemplate: {
        ContainerSpec: { Image: image },
        RestartPolicy: { Condition: "none" },
        Networks: [{ Target: "host" }],
      },
      Mode: { Replicated: { Replicas: 1 } },
    });
    try {
      await assert.rejects(
        scheduler.wait(id),
        failedWith(/rejected its task: No such image: gofer\/swarm-missing/),
      );
      const [listed] = await scheduler
        .listManaged({ "gofer.instance": run, "gofer.managed": "true" })
        .then((found) => found.filter((service) => service.id === id));
      assert.equal(listed?.state, "exited");
    } finally {
      await scheduler.remove(id);
    }
  });

  test("a stop before the task ever ran scales the service to zero; wait then answers", async () => {
    // A task no node can take stays pending: start itself refuses that, so the service is made directly.
    const labels = { "gofer.managed": "true", "gofer.instance": run, "gofer.task": "pending" };
    const id = await client.createService({
      Name: `gofer-swarm-${run}-pending`,
      Labels: labels,
      TaskTemplate: {
        ContainerSpec: { Image: BUSYBOX, Command: ["true"] },
        RestartPolicy: { Condition: "none" },
        Placement: { Constraints: ["node.labels.gofer-nowhere==true"] },
        Networks: [{ Target: "host" }],
      },
      Mode: { Replicated: { Replicas: 1 } },
    });
    try {
      assert.equal((await scheduler.listManaged(labels))[0]?.state, "created");
      const waiting = scheduler.wait(id);
      await scheduler.stop(id, 5);
      assert.equal((await waiting).exitCode, 137);
      assert.equal((await scheduler.listManaged(labels))[0]?.state, "exited");
      await scheduler.stop(id, 5);
    } finally {
      await scheduler.remove(id);
    }
  });

  test("a service port is reached at 127.0.0.1 on the manager's node, with host networking", async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const { id, serviceAddress } = await scheduler.start(
      spec({
        servicePort: port,
        labels: { "gofer.instance": run, "gofer.extension": "web" },
        command: [
          "sh",
          "-c",
          `mkdir -p /www && echo "extension $HOSTNAME" > /www/index.html && exec httpd -f -p ${scheduler.serviceBindHost()}:${port} -h /www`,
        ],
      }),
    );
    try {
      assert.equal(serviceAddress, `127.0.0.1:${port}`);
      const node = (await client.info()).Swarm.NodeID;
      const service = await client.inspectService(id);
      assert.deepEqual(service.Spec.TaskTemplate.Placement?.Constraints, [`node.id==${node}`]);
      let body = "";
      for (let attempt = 0; body === "" && attempt < 50; attempt++) {
        body = await engine.fetchInside(`http://${serviceAddress}/`).catch(() => "");
        if (body === "") await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.match(body, /^extension /);
      // httpd as PID 1 ignores SIGTERM, so the kill after the grace period ends it.
      await scheduler.stop(id, 1);
      assert.equal((await scheduler.wait(id)).exitCode, 137);
    } finally {
      await scheduler.remove(id);
    }
  });

  test("reads the last lines only when asked, and a long name with dots still starts", async () => {
    const { id } = await scheduler.start(
      spec({
        name: `gofer.${"x".repeat(40)}.${run}.${"y".repeat(40)}`,
        command: ["sh", "-c", "for i in 1 2 3 4 5; do echo line $i; done"],
      }),
    );
    try {
      assert.equal((await scheduler.wait(id)).exitCode, 0);
      assert.equal(await text(scheduler.logs(id, { follow: false, tailLines: 2 })), "line 4\nline 5\n");
      const [listed] = (await scheduler.listManaged({ "gofer.instance": run })).filter(
        (service) => service.id === id,
      );
      assert.match(listed?.name ?? "", /^gofer-x+-/);
    } finally {
      await scheduler.remove(id);
    }
    await assert.rejects(scheduler.wait(id), failedWith(/not found/, "not_found"));
  });
});
