/**
 * Task and run timeouts, and task retries, on a real engine: what ends a task, what starts it again, what is kept
 * of each attempt, and that both hold across a restart (measured from stored times).
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

const tasksUrl = (pipeline: string, runId: number) =>
  `/api/namespaces/default/pipelines/${pipeline}/runs/${runId}/tasks`;

/** Fails until its third attempt, saying which attempt it is. */
const FLAKY = 'echo "attempt $GOFER_TASK_ATTEMPT"; [ "$GOFER_TASK_ATTEMPT" = 3 ] || exit 3; echo "done"';

describe("timeouts and retries", { timeout: 240_000 }, () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({
      GOFER_WEB_API__TASK_EXECUTION_STOP_TIMEOUT: "2",
      GOFER_WEB_API__TASK_TIMEOUT_MAX: "1h",
    });
  });
  after(async () => {
    await server?.stop();
  });

  async function attempts(pipeline: string, runId: number, task: string) {
    const response = await server.api("GET", `${tasksUrl(pipeline, runId)}/${task}/attempts`);
    assert.equal(response.status, 200, response.text);
    // biome-ignore lint/suspicious/noExplicitAny: attempt JSON as served
    return response.json.attempts as Array<Record<string, any>>;
  }

  async function attemptLog(
    pipeline: string,
    runId: number,
    task: string,
    attempt?: number,
  ): Promise<string> {
    const path = attempt === undefined ? `${task}/logs` : `${task}/attempts/${attempt}/logs`;
    const response = await server.api("GET", `${tasksUrl(pipeline, runId)}/${path}`);
    assert.equal(response.status, 200, response.text);
    return response.text;
  }

  it("a task past its timeout is stopped and fails with reason timeout; so does its run", async () => {
    await deployPipeline(
      server,
      pipelineConfig("slow-task", [
        { ...shTask("sleeper", "sleep 60"), timeout: "1s" },
        shTask("next", "echo next ran", { depends_on: { sleeper: "any" } }),
      ]),
    );
    const began = Date.now();
    const runId = await startRun(server, "slow-task");
    const { run, tasks } = await waitForRun(server, "slow-task", runId, 30_000);
    assert.ok(Date.now() - began < 15_000, "the timeout did not end the task promptly");
    assert.equal(tasks.sleeper.status, "failed");
    assert.equal(tasks.sleeper.status_reason.reason, "timeout");
    assert.match(tasks.sleeper.status_reason.description, /1s timeout/);
    assert.equal(tasks.next.status, "successful", "an `any` dependent runs after a timeout");
    assert.equal(run.status, "failed");
    assert.equal(run.status_reason.reason, "timeout");
  });

  it("a run past its timeout stops its running tasks and fails those not started", async () => {
    const config = {
      ...pipelineConfig("slow-run", [
        shTask("first", "sleep 60"),
        shTask("second", "true", { depends_on: { first: "success" } }),
      ]),
      timeout: "2s",
    };
    await deployPipeline(server, config);
    const runId = await startRun(server, "slow-run");
    const { run, tasks } = await waitForRun(server, "slow-run", runId, 30_000);
    assert.equal(run.status, "failed");
    assert.equal(run.status_reason.reason, "timeout", JSON.stringify(run.status_reason));
    assert.match(run.status_reason.description, /2s timeout/);
    assert.equal(tasks.first.status_reason.reason, "timeout");
    assert.equal(tasks.second.status, "failed");
    assert.equal(tasks.second.status_reason.reason, "timeout");
    assert.equal(tasks.second.started, 0, "a task not started when the run timed out never starts");
  });

  it("retries a failing task until it succeeds, keeping every attempt and its log; dependents wait for the last", async () => {
    await deployPipeline(
      server,
      pipelineConfig("flaky", [
        { ...shTask("flaky", FLAKY), retries: { limit: 3, delay: "200ms" } },
        shTask("after", "echo after", { depends_on: { flaky: "success" } }),
      ]),
    );
    const runId = await startRun(server, "flaky");
    const { run, tasks } = await waitForRun(server, "flaky", runId, 60_000);
    assert.equal(run.status, "successful", JSON.stringify(run.status_reason));
    assert.equal(tasks.flaky.attempt, 3);
    const kept = await attempts("flaky", runId, "flaky");
    assert.deepEqual(
      kept.map((attempt) => [
        attempt.attempt,
        attempt.status,
        attempt.exit_code,
        attempt.status_reason?.reason ?? null,
      ]),
      [
        [1, "failed", 3, "abnormal_exit"],
        [2, "failed", 3, "abnormal_exit"],
        [3, "successful", 0, null],
      ],
    );
    for (let i = 1; i < kept.length; i++) {
      const previousEnded = kept[i - 1]?.ended ?? 0;
      assert.ok((kept[i]?.started ?? 0) >= previousEnded + 200, `attempt ${i + 1} started before its delay`);
    }
    assert.equal(await attemptLog("flaky", runId, "flaky", 1), "attempt 1\n");
    assert.equal(await attemptLog("flaky", runId, "flaky", 2), "attempt 2\n");
    assert.equal(await attemptLog("flaky", runId, "flaky"), "attempt 3\ndone\n");
    assert.ok(
      tasks.after.started >= tasks.flaky.ended,
      "the dependent started before the final attempt ended",
    );
    const missing = await server.api("GET", `${tasksUrl("flaky", runId)}/flaky/attempts/4/logs`);
    assert.equal(missing.status, 404, missing.text);
  });

  it("stops retrying when the attempts are spent, and never retries an ending the policy does not list", async () => {
    await deployPipeline(
      server,
      pipelineConfig("always-fails", [
        { ...shTask("spent", "exit 1"), retries: { limit: 1, delay: "100ms" } },
        { ...shTask("unlisted", "exit 1"), retries: { limit: 3, delay: "100ms", on: ["timeout"] } },
      ]),
    );
    const runId = await startRun(server, "always-fails");
    const { tasks } = await waitForRun(server, "always-fails", runId, 30_000);
    assert.equal(tasks.spent.status, "failed");
    assert.equal(tasks.spent.attempt, 2);
    assert.equal(tasks.unlisted.attempt, 1);
    assert.equal((await attempts("always-fails", runId, "unlisted")).length, 1);
  });

  it("a restart during a retry delay continues the delay: the next attempt neither starts at once nor is lost", async () => {
    await deployPipeline(
      server,
      pipelineConfig("backoff", [
        { ...shTask("flaky", FLAKY), retries: { limit: 2, delay: "4s", factor: 1 } },
      ]),
    );
    const runId = await startRun(server, "backoff");
    await waitForTask(
      server,
      "backoff",
      runId,
      "flaky",
      (task) => task.attempt === 2 && task.state === "waiting",
    );
    await server.restart();
    const { run } = await waitForRun(server, "backoff", runId, 60_000);
    assert.equal(run.status, "successful", JSON.stringify(run.status_reason));
    const kept = await attempts("backoff", runId, "flaky");
    assert.equal(kept.length, 3);
    for (let i = 1; i < kept.length; i++) {
      const gap = (kept[i]?.started ?? 0) - (kept[i - 1]?.ended ?? 0);
      assert.ok(gap >= 3900, `attempt ${i + 1} started ${gap} ms after the previous ended (delay 4s)`);
    }
  });

  it("a restart during a task's timeout keeps the deadline from the task's start", async () => {
    await deployPipeline(
      server,
      pipelineConfig("restart-timeout", [{ ...shTask("sleeper", "sleep 60"), timeout: "4s" }]),
    );
    const runId = await startRun(server, "restart-timeout");
    await waitForTask(server, "restart-timeout", runId, "sleeper", (task) => task.state === "running");
    await server.restart();
    const { tasks } = await waitForRun(server, "restart-timeout", runId, 60_000);
    assert.equal(tasks.sleeper.status_reason.reason, "timeout");
    const ranMs = tasks.sleeper.ended - tasks.sleeper.started;
    assert.ok(ranMs >= 3900 && ranMs < 12_000, `the task ran ${ranMs} ms with a 4s timeout across a restart`);
  });

  it("tasks see their attempt number and the server's maximum caps a longer timeout", async () => {
    const capped = await startTestServer({
      GOFER_WEB_API__TASK_TIMEOUT_MAX: "2s",
      GOFER_WEB_API__TASK_EXECUTION_STOP_TIMEOUT: "1",
    });
    try {
      await deployPipeline(
        capped,
        pipelineConfig("capped", [{ ...shTask("long", "sleep 60"), timeout: "1h" }]),
      );
      const runId = await startRun(capped, "capped");
      const { tasks } = await waitForRun(capped, "capped", runId, 30_000);
      assert.equal(tasks.long.status_reason.reason, "timeout");
      assert.match(tasks.long.status_reason.description, /2s timeout/);
      const attempt = tasks.long.variables.find(
        (variable: { key: string }) => variable.key === "GOFER_TASK_ATTEMPT",
      );
      assert.equal(attempt?.value, "1");
    } finally {
      await capped.stop();
    }
  });
});
