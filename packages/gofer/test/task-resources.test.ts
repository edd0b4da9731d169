/**
 * A task's `resources` (an extension of v0) end to end: refused with the v0 error envelope when malformed,
 * served back as registered, and applied by the Docker engine as container limits that it enforces.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { EngineClient } from "../src/scheduler/docker/engine-client.ts";
import {
  deployPipeline,
  pipelineConfig,
  shTask,
  startRun,
  waitForRun,
  waitForTask,
} from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const configsUrl = (pipelineId: string) => `/api/namespaces/default/pipelines/${pipelineId}/configs`;

describe("task resources", () => {
  let server: TestServer;
  const engine = new EngineClient({ host: process.env.DOCKER_HOST || undefined });
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  it("refuses bad limits with the v0 error envelope, naming the task and the field", async () => {
    const cases: Array<[resources: unknown, message: RegExp]> = [
      [
        { memory: "12XB" },
        /tasks\[1\]\.resources\.memory: task `build`: memory `12XB` is not a quantity; use bytes or a suffix like 256Mi or 1G/,
      ],
      [{ cpu: "0" }, /tasks\[1\]\.resources\.cpu: task `build`: cpu `0` must be more than 0/],
      [{ cpu: "-2" }, /task `build`: cpu `-2` must be more than 0/],
      [{ cpu: "5000" }, /task `build`: cpu `5000` is more than the maximum of 1024 cores/],
      [{ memory: "2Pi" }, /task `build`: memory `2Pi` is more than the maximum of 1Pi/],
      [{ memory: "256m" }, /task `build`: memory `256m` is 256 thousandths of a byte/],
      [{ cpu: 1 }, /tasks\[1\]\.resources\.cpu: task `build`: cpu must be a string/],
      [{ gpu: "1" }, /tasks\[1\]\.resources\.gpu: task `build`: unknown field `gpu` in resources/],
      ["1Gi", /tasks\[1\]\.resources: task `build`: resources must be an object/],
    ];
    for (const [resources, message] of cases) {
      const config = pipelineConfig("bad-limits", [
        shTask("prepare", "true"),
        { ...shTask("build", "true"), resources },
      ]);
      const response = await server.api("POST", configsUrl("bad-limits"), { config });
      assert.equal(response.status, 400, response.text);
      assert.equal(response.json.error_code, "INVALID_PIPELINE_CONFIG", response.text);
      assert.equal(typeof response.json.request_id, "string");
      assert.match(response.json.message, message);
    }
    const none = await server.api("GET", configsUrl("bad-limits"));
    assert.equal(none.status, 404, "no refused config was stored");
  });

  it("serves the limits back as registered, and leaves the field out for tasks without them", async () => {
    const config = pipelineConfig("good-limits", [
      { ...shTask("limited", "true"), resources: { cpu: "500m", memory: "64Mi" } },
      { ...shTask("cpu-only", "true"), resources: { cpu: "2", memory: null } },
      { ...shTask("null-limits", "true"), resources: null },
      shTask("unlimited", "true"),
    ]);
    const registered = await server.api("POST", configsUrl("good-limits"), { config });
    assert.equal(registered.status, 201, registered.text);
    const fetched = await server.api("GET", `${configsUrl("good-limits")}/1`);
    assert.equal(fetched.status, 200, fetched.text);
    for (const tasks of [registered.json.pipeline.config.tasks, fetched.json.config.tasks]) {
      assert.deepEqual(tasks.limited.resources, { cpu: "500m", memory: "64Mi" });
      assert.deepEqual(tasks["cpu-only"].resources, { cpu: "2" });
      assert.equal(Object.hasOwn(tasks["null-limits"], "resources"), false);
      assert.equal(Object.hasOwn(tasks.unlimited, "resources"), false);
    }
  });

  it("runs a task in a container with its CPU and memory limits", async () => {
    await deployPipeline(
      server,
      pipelineConfig("engine-limits", [
        { ...shTask("limited", "sleep 30"), resources: { cpu: "0.5", memory: "64Mi" } },
      ]),
    );
    const runId = await startRun(server, "engine-limits");
    const execution = await waitForTask(
      server,
      "engine-limits",
      runId,
      "limited",
      (task) => task.state === "running",
    );
    assert.deepEqual(execution.task.resources, { cpu: "0.5", memory: "64Mi" });

    const [container] = await engine.listContainers({
      all: true,
      labels: {
        "gofer.instance": server.instanceId,
        "gofer.pipeline": "engine-limits",
        "gofer.task": "limited",
      },
    });
    assert.ok(container, "the task's container is found by its labels");
    const inspected = await engine.inspectContainer(container.Id);
    assert.equal(inspected.HostConfig?.NanoCpus, 500_000_000);
    assert.equal(inspected.HostConfig?.Memory, 67_108_864);
    assert.equal(inspected.HostConfig?.MemorySwap, 67_108_864, "no swap on top of the limit");

    const cancelled = await server.api(
      "DELETE",
      `/api/namespaces/default/pipelines/engine-limits/runs/${runId}`,
    );
    assert.equal(cancelled.status, 204, cancelled.text);
    const { tasks } = await waitForRun(server, "engine-limits", runId);
    assert.equal(tasks.limited.status, "cancelled");
  });

  it("fails a task whose CPU limit is more than the engine has, with the engine's reason", async () => {
    await deployPipeline(
      server,
      pipelineConfig("too-many-cpus", [{ ...shTask("greedy", "true"), resources: { cpu: "1024" } }]),
    );
    const runId = await startRun(server, "too-many-cpus");
    const { tasks } = await waitForRun(server, "too-many-cpus", runId);
    assert.equal(tasks.greedy.status, "failed");
    assert.equal(tasks.greedy.status_reason.reason, "scheduler_error");
    assert.match(tasks.greedy.status_reason.description, /CPUs/);
  });

  it("kills a task that outgrows its memory (exit code 137); the same work without a limit succeeds", async () => {
    // `tail` keeps the last lines of its input; input without a newline is one 200 MB line, held in memory.
    const hog = "head -c 200m /dev/zero | tail > /dev/null";
    await deployPipeline(
      server,
      pipelineConfig("memory-hog", [
        { ...shTask("limited", hog), resources: { memory: "32Mi" } },
        shTask("unlimited", hog),
      ]),
    );
    const runId = await startRun(server, "memory-hog");
    const { run, tasks } = await waitForRun(server, "memory-hog", runId);
    assert.equal(tasks.unlimited.status, "successful", JSON.stringify(tasks.unlimited));
    assert.equal(tasks.limited.status, "failed");
    assert.equal(tasks.limited.exit_code, 137);
    assert.equal(tasks.limited.status_reason.reason, "abnormal_exit");
    assert.equal(run.status, "failed");
  });
});
