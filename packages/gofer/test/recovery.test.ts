/**
 * Recovery across a restart of the server, against the real engine: task containers keep running while the
 * server is down, and the next boot adopts them (log capture resumes with no line lost or doubled), collects
 * what exited meanwhile, fails what vanished as `orphaned`, starts what never got a container, and removes
 * managed containers that storage does not account for.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import { managed, taskLabels } from "../src/scheduler/container-labels.ts";
import { EngineClient } from "../src/scheduler/docker/engine-client.ts";
import {
  deployPipeline,
  pipelineConfig,
  shTask,
  startRun,
  taskLogLines,
  waitForLogLines,
  waitForRun,
  waitForTask,
} from "./support/pipelines.ts";
import { BUSYBOX, startTestServer, type TestServer } from "./support/test-server.ts";

const WAIT_MS = 60_000;
const engine = new EngineClient({ host: process.env.DOCKER_HOST || undefined });

/** Prints `prefix 1` … `prefix count`, one every `pace` seconds, half of them on stderr. */
const counting = (prefix: string, count: number, pace = 0.1, exitCode = 0) =>
  `i=1; while [ $i -le ${count} ]; do if [ $((i % 2)) -eq 0 ]; then echo "${prefix} $i" >&2; else echo "${prefix} $i"; fi; ` +
  `i=$((i+1)); sleep ${pace}; done; exit ${exitCode}`;

const expectedLines = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, index) => `${prefix} ${index + 1}`);

async function containersOf(server: TestServer, labels: Record<string, string> = {}) {
  return engine.listContainers({ all: true, labels: { "gofer.instance": server.instanceId, ...labels } });
}

/**
 * Creates (without starting) a container labelled as Gofer labels a task's, as if an earlier process had made it.
 */
async function taskContainer(
  server: TestServer,
  task: { pipeline: string; run: number; task: string },
  name: string,
  command: string[],
): Promise<string> {
  const labels = taskLabels(server.instanceId, {
    namespace_id: "default",
    pipeline_id: task.pipeline,
    run_id: task.run,
    task_id: task.task,
  });
  const created = await engine.createContainer(`gofer-${name}-${server.instanceId.slice(-8)}`, {
    Image: BUSYBOX,
    Cmd: command,
    Labels: managed(labels),
    HostConfig: { NetworkMode: "host" },
  });
  return created.Id;
}

/** Changes the stopped server's database directly, as a crash at an awkward moment would have left it. */
function editDatabase(server: TestServer, statement: string, ...parameters: number[]): void {
  const db = new DatabaseSync(join(server.dataDir, "gofer.db"));
  try {
    db.prepare(statement).run(...parameters);
  } finally {
    db.close();
  }
}

describe("a boot with nothing in flight", () => {
  it("serves even while the engine is unreachable, and removes strays in the background once it answers", async () => {
    const offline = await startTestServer({ GOFER_WEB_SCHEDULER__DOCKER__HOST: "unix:///nonexistent.sock" });
    try {
      assert.equal((await offline.api("GET", "/api/system/metadata")).status, 200);
    } finally {
      await offline.stop();
    }

    const server = await startTestServer();
    try {
      let strayId = "";
      await server.restart(async () => {
        strayId = await taskContainer(server, { pipeline: "nowhere", run: 1, task: "ghost" }, "idle-stray", [
          "sleep",
          "60",
        ]);
        await engine.startContainer(strayId);
      });
      const deadline = Date.now() + WAIT_MS;
      while ((await containersOf(server)).some((container) => container.Id === strayId)) {
        assert.ok(Date.now() < deadline, "the stray container was not removed");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await server.stop();
    }
  });
});

describe("recovery after a restart", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  it("adopts a running container at the next boot: its log goes on with no line lost or doubled", async () => {
    await deployPipeline(
      server,
      pipelineConfig("adopt", [
        shTask("count", counting("line", 40)),
        shTask("next", "echo next ran", { depends_on: { count: "success" } }),
      ]),
    );
    const runId = await startRun(server, "adopt");
    await waitForLogLines(server, "adopt", runId, "count", 5);
    await server.restart(async () => {
      const [container] = await containersOf(server, { "gofer.task": "count" });
      assert.equal(container?.State, "running", "the task's container keeps running while Gofer is down");
      // Output produced while nobody watches must still arrive, once.
      await new Promise((resolve) => setTimeout(resolve, 1000));
    });
    const { run, tasks } = await waitForRun(server, "adopt", runId, WAIT_MS);
    assert.equal(run.status, "successful", JSON.stringify(run.status_reason));
    assert.equal(tasks.count.exit_code, 0);
    assert.deepEqual(await taskLogLines(server, "adopt", runId, "count"), expectedLines("line", 40));
    assert.deepEqual(await taskLogLines(server, "adopt", runId, "next"), ["next ran"]);
    assert.equal(
      (await containersOf(server, { "gofer.run": String(runId), "gofer.pipeline": "adopt" })).length,
      0,
    );
  });

  it("collects the rest of the output and the exit code of a container that exited while Gofer was down", async () => {
    await deployPipeline(
      server,
      pipelineConfig("exited", [
        shTask("fails", counting("step", 12, 0.1, 3)),
        shTask("skipped", "echo never", { depends_on: { fails: "success" } }),
        shTask("cleanup", "echo cleaned", { depends_on: { fails: "any" } }),
      ]),
    );
    const runId = await startRun(server, "exited");
    await waitForLogLines(server, "exited", runId, "fails", 2);
    await server.restart(async () => {
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        const [container] = await containersOf(server, { "gofer.task": "fails" });
        if (container?.State === "exited") break;
        assert.ok(Date.now() < deadline, "the container did not exit in time");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });
    const { run, tasks } = await waitForRun(server, "exited", runId, WAIT_MS);
    assert.equal(run.status, "failed");
    assert.equal(tasks.fails.status, "failed");
    assert.equal(tasks.fails.exit_code, 3);
    assert.equal(tasks.fails.status_reason.reason, "abnormal_exit");
    assert.equal(tasks.skipped.status, "skipped");
    assert.equal(tasks.cleanup.status, "successful");
    assert.deepEqual(await taskLogLines(server, "exited", runId, "fails"), expectedLines("step", 12));
  });

  it("fails a task whose container vanished as orphaned, and reaps a managed container storage does not know", async () => {
    await deployPipeline(server, pipelineConfig("vanish", [shTask("gone", counting("tick", 100))]));
    const runId = await startRun(server, "vanish");
    await waitForLogLines(server, "vanish", runId, "gone", 2);
    let strayId = "";
    await server.restart(async () => {
      const [container] = await containersOf(server, { "gofer.task": "gone" });
      assert.ok(container);
      await engine.removeContainer(container.Id, { force: true, volumes: true });
      strayId = await taskContainer(server, { pipeline: "vanish", run: 999, task: "gone" }, "stray", [
        "sleep",
        "60",
      ]);
      await engine.startContainer(strayId);
    });
    const { run, tasks } = await waitForRun(server, "vanish", runId, WAIT_MS);
    assert.equal(run.status, "failed");
    assert.equal(tasks.gone.status, "failed");
    assert.equal(tasks.gone.status_reason.reason, "orphaned");
    assert.match(tasks.gone.status_reason.description, /was gone when Gofer restarted/);
    const lines = await taskLogLines(server, "vanish", runId, "gone");
    assert.deepEqual(lines, expectedLines("tick", lines.length), "what was captured stays, in order");
    const remaining = await engine.listContainers({ all: true, labels: { "gofer.run": "999" } });
    assert.deepEqual(
      remaining.filter((container) => container.Id === strayId),
      [],
      "the stray container is removed",
    );
  });

  it("starts a task caught before its container started exactly once, removing the never-started container", async () => {
    await deployPipeline(
      server,
      pipelineConfig("midstart", [
        shTask("first", counting("first", 30)),
        shTask("second", "echo second $HOSTNAME", { depends_on: { first: "success" } }),
      ]),
    );
    const runId = await startRun(server, "midstart");
    await waitForLogLines(server, "midstart", runId, "first", 2);
    let createdId = "";
    await server.restart(async () => {
      // As if the previous process died after creating the second task's container, before starting it.
      createdId = await taskContainer(
        server,
        { pipeline: "midstart", run: runId, task: "second" },
        "midstart",
        ["echo", "must never run"],
      );
      editDatabase(
        server,
        "UPDATE task_executions SET state = 'processing' WHERE pipeline_id = 'midstart' AND run_id = ? AND task_id = 'second'",
        runId,
      );
    });
    const { run, tasks } = await waitForRun(server, "midstart", runId, WAIT_MS);
    assert.equal(run.status, "successful", JSON.stringify(run.status_reason));
    assert.equal(tasks.second.status, "successful");
    const lines = await taskLogLines(server, "midstart", runId, "second");
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? "", /^second /);
    await assert.rejects(engine.inspectContainer(createdId), /404|No such container/);
    assert.deepEqual(await taskLogLines(server, "midstart", runId, "first"), expectedLines("first", 30));
  });

  it("keeps queued runs queued and in order across a restart, under the pipeline's parallelism", async () => {
    await deployPipeline(server, pipelineConfig("queued", [shTask("work", counting("work", 15))], 1));
    const runIds = [
      await startRun(server, "queued"),
      await startRun(server, "queued"),
      await startRun(server, "queued"),
    ];
    await waitForTask(
      server,
      "queued",
      runIds[0] as number,
      "work",
      (execution) => execution.state === "running",
    );
    await server.restart();
    const runs = [];
    for (const runId of runIds) runs.push((await waitForRun(server, "queued", runId, WAIT_MS)).run);
    for (const [index, run] of runs.entries()) {
      assert.equal(run.status, "successful", `run ${run.run_id}: ${JSON.stringify(run.status_reason)}`);
      const previous = runs[index - 1];
      if (previous)
        assert.ok(
          run.started >= previous.ended,
          `run ${run.run_id} started before run ${previous.run_id} ended`,
        );
    }
  });

  it("a task cancelled during its grace period ends cancelled, with its reason, across a restart", async () => {
    // Ignores SIGTERM, so only the kill at the end of the grace period stops it.
    await deployPipeline(
      server,
      pipelineConfig("graceful", [shTask("stubborn", `trap '' TERM; ${counting("beat", 600)}`)]),
    );
    const runId = await startRun(server, "graceful");
    await waitForLogLines(server, "graceful", runId, "stubborn", 2);
    const cancelled = await server.api(
      "DELETE",
      `/api/namespaces/default/pipelines/graceful/runs/${runId}/tasks/stubborn?wait_for=120`,
    );
    assert.equal(cancelled.status, 204, cancelled.text);
    await server.restart();
    const { run, tasks } = await waitForRun(server, "graceful", runId, WAIT_MS);
    assert.equal(tasks.stubborn.status, "cancelled", JSON.stringify(tasks.stubborn.status_reason));
    assert.match(tasks.stubborn.status_reason.description, /^Cancelled by /);
    assert.equal(run.status, "cancelled");
    const lines = await taskLogLines(server, "graceful", runId, "stubborn");
    assert.deepEqual(lines, expectedLines("beat", lines.length));
  });

  it("re-issues the stop of a run whose cancellation was under way when the server stopped", async () => {
    await deployPipeline(server, pipelineConfig("cancelled", [shTask("long", counting("beat", 600))]));
    const runId = await startRun(server, "cancelled");
    await waitForTask(server, "cancelled", runId, "long", (execution) => execution.state === "running");
    await server.restart(async () => {
      editDatabase(
        server,
        "UPDATE runs SET cancel_requested = 1 WHERE pipeline_id = 'cancelled' AND run_id = ?",
        runId,
      );
    });
    const { run, tasks } = await waitForRun(server, "cancelled", runId, WAIT_MS);
    assert.equal(run.status, "cancelled");
    assert.equal(tasks.long.status, "cancelled");
  });
});
