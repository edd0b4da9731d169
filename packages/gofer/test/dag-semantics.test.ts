import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { deployPipeline, pipelineConfig, shTask, startRun, waitForRun } from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

describe("DAG semantics on a real engine", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  it("runs success, failure and any branches, propagates skips and records exit codes", async () => {
    await deployPipeline(
      server,
      pipelineConfig("branches", [
        shTask("root-ok", "exit 0"),
        shTask("root-fail", "echo failing >&2; exit 7"),
        shTask("after-ok", "exit 0", { depends_on: { "root-ok": "Success" } }),
        shTask("on-failure", "exit 0", { depends_on: { "root-fail": "Failure" } }),
        shTask("needs-success-of-fail", "exit 0", { depends_on: { "root-fail": "Success" } }),
        shTask("child-of-skipped", "exit 0", { depends_on: { "needs-success-of-fail": "Success" } }),
        shTask("any-of-skipped", "exit 0", { depends_on: { "needs-success-of-fail": "Any" } }),
        shTask("any-of-failed", "exit 5", { depends_on: { "root-fail": "Any" } }),
        shTask("failure-of-ok", "exit 0", { depends_on: { "root-ok": "Failure" } }),
      ]),
    );
    const runId = await startRun(server, "branches");
    const { run, tasks } = await waitForRun(server, "branches", runId);

    const outcome = (id: string) => [tasks[id].status, tasks[id].exit_code];
    assert.deepEqual(outcome("root-ok"), ["successful", 0]);
    assert.deepEqual(outcome("root-fail"), ["failed", 7]);
    assert.equal(tasks["root-fail"].status_reason.reason, "abnormal_exit");
    assert.deepEqual(outcome("after-ok"), ["successful", 0]);
    assert.deepEqual(outcome("on-failure"), ["successful", 0]);
    assert.deepEqual(outcome("needs-success-of-fail"), ["skipped", null]);
    assert.equal(tasks["needs-success-of-fail"].status_reason.reason, "failed_precondition");
    assert.match(tasks["needs-success-of-fail"].status_reason.description, /root-fail is failed/);
    assert.deepEqual(outcome("child-of-skipped"), ["skipped", null]);
    assert.deepEqual(outcome("any-of-skipped"), ["successful", 0]);
    assert.deepEqual(outcome("any-of-failed"), ["failed", 5]);
    assert.deepEqual(outcome("failure-of-ok"), ["skipped", null]);
    for (const execution of Object.values(tasks)) assert.equal(execution.state, "complete");

    assert.equal(run.status, "failed");
    assert.equal(run.status_reason.reason, "abnormal_exit");
    assert.ok(run.started > 0 && run.ended >= run.started);
  });

  it("ends successful when every task succeeds or is skipped", async () => {
    await deployPipeline(
      server,
      pipelineConfig("all-good", [
        shTask("first", "exit 0"),
        shTask("only-on-failure", "exit 0", { depends_on: { first: "Failure" } }),
        shTask("last", "exit 0", { depends_on: { first: "Success" } }),
      ]),
    );
    const runId = await startRun(server, "all-good");
    const { run, tasks } = await waitForRun(server, "all-good", runId);
    assert.equal(run.status, "successful");
    assert.equal(run.status_reason, null);
    assert.equal(tasks["only-on-failure"].status, "skipped");
    // A dependent starts only after its parent ended.
    assert.ok(tasks.last.started >= tasks.first.ended);
  });

  it("merges system, task and run variables in Gofer's order", async () => {
    await deployPipeline(
      server,
      pipelineConfig("env", [
        shTask(
          "print",
          'echo "NS=$GOFER_NAMESPACE_ID P=$GOFER_PIPELINE_ID R=$GOFER_RUN_ID T=$GOFER_TASK_ID I=$GOFER_TASK_IMAGE"; ' +
            'echo "URL=$GOFER_API_BASE_URL"; echo "A=$A B=$B C=$C"',
          { variables: { A: "task", B: "task", GOFER_TASK_ID: "overridden-by-task" } },
        ),
      ]),
    );
    const runId = await startRun(server, "env", { B: "run", C: "run" });
    const { tasks } = await waitForRun(server, "env", runId);
    assert.equal(tasks.print.status, "successful");
    const log = await server.api(
      "GET",
      `/api/namespaces/default/pipelines/env/runs/${runId}/tasks/print/logs`,
    );
    assert.equal(log.status, 200);
    const lines = log.text.trimEnd().split("\n");
    assert.equal(lines[0], `NS=default P=env R=${runId} T=overridden-by-task I=gofer/busybox:latest`);
    assert.equal(lines[1], `URL=${server.url}`);
    assert.equal(lines[2], "A=task B=run C=run");
    const sources = Object.fromEntries(
      // biome-ignore lint/suspicious/noExplicitAny: variable JSON as served
      tasks.print.variables.map((variable: any) => [variable.key, variable.source]),
    );
    assert.equal(sources.GOFER_RUN_ID, "system");
    assert.equal(sources.A, "pipeline_config");
    assert.equal(sources.B, "run_options");
  });

  it("fails a task whose image cannot be pulled with scheduler_error and the engine's message", async () => {
    await deployPipeline(
      server,
      pipelineConfig("bad-image", [
        shTask("pull", "true", { image: "127.0.0.1:1/gofer-missing/image:latest" }),
        shTask("after", "true", { depends_on: { pull: "Success" } }),
      ]),
    );
    const runId = await startRun(server, "bad-image");
    const { run, tasks } = await waitForRun(server, "bad-image", runId);
    assert.equal(tasks.pull.status, "failed");
    assert.equal(tasks.pull.status_reason.reason, "scheduler_error");
    assert.match(tasks.pull.status_reason.description, /127\.0\.0\.1:1\/gofer-missing\/image/);
    assert.equal(tasks.after.status, "skipped");
    assert.equal(run.status, "failed");
    assert.equal(run.status_reason.reason, "scheduler_error");
  });
});
