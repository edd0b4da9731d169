/**
 * Retrying a finished run in place: the tasks that did not succeed start over as a new attempt, successful ones
 * and their logs stay, the run ends with a new status and counts its retries.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  deployPipeline,
  pipelineConfig,
  shTask,
  startRun,
  waitForRun,
  waitForTask,
} from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const runUrl = (pipeline: string, runId: number) =>
  `/api/namespaces/default/pipelines/${pipeline}/runs/${runId}`;

describe("retrying a finished run", { timeout: 120_000 }, () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ GOFER_WEB_API__TASK_EXECUTION_STOP_TIMEOUT: "1" });
    await deployPipeline(
      server,
      pipelineConfig("second-time", [
        shTask("steady", "echo steady on $GOFER_TASK_ATTEMPT"),
        // Fails on its first attempt only.
        shTask("flaky", '[ "$GOFER_TASK_ATTEMPT" -ge 2 ] || exit 4; echo fixed'),
        shTask("child", "echo child ran", { depends_on: { flaky: "success" } }),
      ]),
    );
  });
  after(async () => {
    await server?.stop();
  });

  it("re-runs the failed task and what it skipped, keeps the successful one, and ends successful", async () => {
    const runId = await startRun(server, "second-time");
    const first = await waitForRun(server, "second-time", runId);
    assert.equal(first.run.status, "failed");
    assert.equal(first.tasks.child.status, "skipped");
    const steadyEnded = first.tasks.steady.ended;

    const retried = await server.api("POST", `${runUrl("second-time", runId)}/retry`);
    assert.equal(retried.status, 200, retried.text);
    assert.equal(retried.json.run.retries, 1);
    assert.notEqual(retried.json.run.state, "complete");

    const { run, tasks } = await waitForRun(server, "second-time", runId);
    assert.equal(run.status, "successful", JSON.stringify(run.status_reason));
    assert.equal(run.retries, 1);
    assert.equal(tasks.steady.attempt, 1, "a successful task is not run again");
    assert.equal(tasks.steady.ended, steadyEnded);
    assert.equal(tasks.flaky.attempt, 2);
    assert.equal(tasks.child.attempt, 2);
    assert.equal(tasks.child.status, "successful");
    const steadyLog = await server.api("GET", `${runUrl("second-time", runId)}/tasks/steady/logs`);
    assert.equal(steadyLog.text, "steady on 1\n");
    const attempts = await server.api("GET", `${runUrl("second-time", runId)}/tasks/flaky/attempts`);
    assert.deepEqual(
      attempts.json.attempts.map((attempt: { status: string; exit_code: number | null }) => [
        attempt.status,
        attempt.exit_code,
      ]),
      [
        ["failed", 4],
        ["successful", 0],
      ],
    );
  });

  it("refuses a successful run, and a run still in progress, with a 409 saying why", async () => {
    const runId = await startRun(server, "second-time");
    await waitForRun(server, "second-time", runId);
    // Attempt numbers are per run: this run's flaky task fails its first attempt again.
    const failedRetry = await server.api("POST", `${runUrl("second-time", runId)}/retry`);
    assert.equal(failedRetry.status, 200, failedRetry.text);
    await waitForRun(server, "second-time", runId);
    const again = await server.api("POST", `${runUrl("second-time", runId)}/retry`);
    assert.equal(again.status, 409, again.text);
    assert.match(again.json.message, /was successful; only a failed or cancelled run can be retried/);
    const missing = await server.api("POST", `${runUrl("second-time", 999)}/retry`);
    assert.equal(missing.status, 404, missing.text);
  });

  it("retries a cancelled run", async () => {
    await deployPipeline(
      server,
      pipelineConfig("cancel-then-retry", [shTask("wait", '[ "$GOFER_TASK_ATTEMPT" -ge 2 ] || sleep 60')]),
    );
    const runId = await startRun(server, "cancel-then-retry");
    await waitForTask(server, "cancel-then-retry", runId, "wait", (task) => task.state === "running");
    const busy = await server.api("POST", `${runUrl("cancel-then-retry", runId)}/retry`);
    assert.equal(busy.status, 409, busy.text);
    assert.match(busy.json.message, /still running/);
    await server.api("DELETE", runUrl("cancel-then-retry", runId));
    const cancelled = await waitForRun(server, "cancel-then-retry", runId);
    assert.equal(cancelled.run.status, "cancelled");
    assert.equal((await server.api("POST", `${runUrl("cancel-then-retry", runId)}/retry`)).status, 200);
    const { run, tasks } = await waitForRun(server, "cancel-then-retry", runId);
    assert.equal(run.status, "successful");
    assert.equal(tasks.wait.attempt, 2);
  });
});
