import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  deployPipeline,
  getRun,
  pipelineConfig,
  shTask,
  startRun,
  waitForRun,
  waitForTask,
} from "./support/pipelines.ts";
import { type StoredEvent, storedEvents } from "./support/stored-events.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

/**
 * The grace period a cancelled task gets before it is killed. Tasks run under an init, so a plain `sleep` would
 * end at the SIGTERM; {@link STUBBORN} ignores it instead, so a graceful stop always takes this long: the timing
 * bounds below tell a kill at once from a graceful stop.
 */
const STOP_TIMEOUT_MS = 3000;

/** Sleeps 30 s and ignores SIGTERM (the `sleep` inherits the ignored signal): only the kill ends it. */
const STUBBORN = "trap '' TERM; sleep 30";

/** The details of the events of one kind that belong to one run of a pipeline. */
function runEvents(
  events: StoredEvent[],
  kind: string,
  pipelineId: string,
  runId: number,
): Record<string, unknown>[] {
  return events.flatMap((event) => {
    const details = event.kind[kind];
    return details?.pipeline_id === pipelineId && details.run_id === runId ? [details] : [];
  });
}

/** Containers are removed right after their task's result is committed; give that a bounded moment. */
async function assertNoContainersLeft(server: TestServer): Promise<void> {
  const deadline = Date.now() + 3000;
  let leftovers = await server.leftoverContainers();
  while (leftovers.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    leftovers = await server.leftoverContainers();
  }
  assert.deepEqual(leftovers, [], "containers left behind");
}

const runUrl = (pipelineId: string, runId: number) =>
  `/api/namespaces/default/pipelines/${pipelineId}/runs/${runId}`;

const isRunning = (execution: { state: string }) => execution.state === "running";
const isComplete = (execution: { state: string }) => execution.state === "complete";

describe("cancellation on a real engine", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      GOFER_WEB_API__TASK_EXECUTION_STOP_TIMEOUT: String(STOP_TIMEOUT_MS / 1000),
    });
  });
  after(async () => {
    await server.stop();
  });

  it("cancels a running run at once: the running task is stopped, its dependent never starts", async () => {
    await deployPipeline(
      server,
      pipelineConfig("cancel-run", [
        shTask("long", STUBBORN),
        shTask("after-long", "echo should not run", { depends_on: { long: "Success" } }),
      ]),
    );
    const runId = await startRun(server, "cancel-run");
    await waitForTask(server, "cancel-run", runId, "long", isRunning, 10_000);

    const requested = Date.now();
    const response = await server.api("DELETE", runUrl("cancel-run", runId));
    const answeredIn = Date.now() - requested;
    assert.equal(response.status, 204, response.text);
    assert.equal(response.text, "");
    assert.ok(
      answeredIn < STOP_TIMEOUT_MS / 2,
      `DELETE took ${answeredIn} ms; it must not wait for the stop`,
    );

    const { run, tasks } = await waitForRun(server, "cancel-run", runId, STOP_TIMEOUT_MS + 5000);
    const endedIn = Date.now() - requested;
    assert.ok(endedIn < STOP_TIMEOUT_MS + 4000, `the run took ${endedIn} ms to end after the cancel`);
    assert.equal(run.state, "complete");
    assert.equal(run.status, "cancelled");
    assert.equal(run.status_reason.reason, "user_cancelled");
    assert.ok(run.ended >= run.started && run.started > 0);

    assert.equal(tasks.long.state, "complete");
    assert.equal(tasks.long.status, "cancelled");
    assert.equal(tasks.long.status_reason.reason, "cancelled");
    // The task ignores SIGTERM, so it ends only when the grace period runs out and it is killed.
    assert.equal(tasks.long.exit_code, 137);
    assert.ok(tasks.long.ended - requested >= STOP_TIMEOUT_MS - 100, "the running task got its grace period");
    assert.ok(tasks.long.ended - tasks.long.started < 15_000, "sleep 30 was cut short");
    assert.equal(tasks["after-long"].state, "complete");
    assert.equal(tasks["after-long"].status, "cancelled");
    assert.equal(tasks["after-long"].started, 0);
    assert.equal(tasks["after-long"].exit_code, null);

    const events = await storedEvents(server);
    assert.equal(runEvents(events, "started_run_cancellation", "cancel-run", runId).length, 1);
    const stops = runEvents(events, "started_task_execution_cancellation", "cancel-run", runId);
    assert.deepEqual(
      stops.map((details) => [details.task_execution_id, details.timeout]),
      [["long", STOP_TIMEOUT_MS / 1000]],
    );
    const started = runEvents(events, "started_task_execution", "cancel-run", runId);
    assert.deepEqual(
      started.map((details) => details.task_execution_id),
      ["long"],
    );
    const completed = runEvents(events, "completed_run", "cancel-run", runId);
    assert.deepEqual(
      completed.map((details) => details.status),
      ["cancelled"],
    );
    await assertNoContainersLeft(server);
  });

  it("cancels one running task with wait_for=0: it is killed, its dependents are cancelled, a sibling finishes", async () => {
    await deployPipeline(
      server,
      pipelineConfig("cancel-task", [
        shTask("victim", STUBBORN),
        shTask("needs-victim", "true", { depends_on: { victim: "Success" } }),
        shTask("any-victim", "true", { depends_on: { victim: "Any" } }),
        shTask("sibling", "sleep 2; echo sibling done"),
        shTask("after-sibling", "echo after", { depends_on: { sibling: "Success" } }),
      ]),
    );
    const runId = await startRun(server, "cancel-task");
    await waitForTask(server, "cancel-task", runId, "victim", isRunning, 10_000);
    await waitForTask(server, "cancel-task", runId, "sibling", isRunning, 10_000);

    const requested = Date.now();
    const response = await server.api("DELETE", `${runUrl("cancel-task", runId)}/tasks/victim?wait_for=0`);
    assert.equal(response.status, 204, response.text);
    // Killed at once: well inside the grace period a graceful stop of a task ignoring SIGTERM would take. (It
    // ignores it so that the exit code is the kill's: a SIGTERM a task obeys could race the kill that follows.)
    const victim = await waitForTask(
      server,
      "cancel-task",
      runId,
      "victim",
      isComplete,
      STOP_TIMEOUT_MS - 500,
    );
    assert.ok(
      victim.ended - requested < STOP_TIMEOUT_MS - 500,
      "wait_for=0 did not wait for the grace period",
    );
    assert.equal(victim.status, "cancelled");
    assert.equal(victim.status_reason.reason, "cancelled");
    assert.equal(victim.exit_code, 137, "killed by SIGKILL");

    const siblingMeanwhile = await waitForTask(server, "cancel-task", runId, "sibling", () => true);
    assert.equal(siblingMeanwhile.state, "running", "the sibling is not touched by the cancel");

    const { run, tasks } = await waitForRun(server, "cancel-task", runId, 15_000);
    for (const id of ["needs-victim", "any-victim"]) {
      assert.equal(tasks[id].status, "cancelled", id);
      assert.equal(tasks[id].started, 0, id);
      assert.equal(tasks[id].exit_code, null, id);
    }
    assert.equal(tasks.sibling.status, "successful");
    assert.equal(tasks.sibling.exit_code, 0);
    assert.ok(tasks.sibling.ended > victim.ended, "the sibling kept running after the cancel");
    assert.equal(tasks["after-sibling"].status, "successful");
    const log = await server.api("GET", `${runUrl("cancel-task", runId)}/tasks/sibling/logs`);
    assert.equal(log.text, "sibling done\n");

    assert.equal(run.status, "cancelled");
    assert.equal(run.status_reason.reason, "user_cancelled");
    const events = await storedEvents(server);
    assert.equal(runEvents(events, "started_run_cancellation", "cancel-task", runId).length, 0);
    const stops = runEvents(events, "started_task_execution_cancellation", "cancel-task", runId);
    assert.deepEqual(
      stops.map((details) => [details.task_execution_id, details.timeout]),
      [["victim", 0]],
    );
    await assertNoContainersLeft(server);
  });

  it("cancels a task that has not started yet: no container, the parent runs to completion", async () => {
    await deployPipeline(
      server,
      pipelineConfig("cancel-waiting", [
        shTask("parent", "sleep 3; echo parent done"),
        shTask("child", "echo child", { depends_on: { parent: "Success" } }),
        shTask("grandchild", "echo grandchild", { depends_on: { child: "Any" } }),
      ]),
    );
    const runId = await startRun(server, "cancel-waiting");
    await waitForTask(server, "cancel-waiting", runId, "parent", isRunning, 10_000);
    const waiting = await waitForTask(server, "cancel-waiting", runId, "child", () => true);
    assert.equal(waiting.state, "waiting");

    const response = await server.api("DELETE", `${runUrl("cancel-waiting", runId)}/tasks/child?wait_for=0`);
    assert.equal(response.status, 204, response.text);
    const child = await waitForTask(server, "cancel-waiting", runId, "child", isComplete, 1500);
    assert.equal(child.status, "cancelled");
    assert.equal(child.status_reason.reason, "cancelled");
    const parentMeanwhile = await waitForTask(server, "cancel-waiting", runId, "parent", () => true);
    assert.equal(parentMeanwhile.state, "running", "the parent is not touched by the cancel");

    const { run, tasks } = await waitForRun(server, "cancel-waiting", runId, 10_000);
    assert.equal(tasks.parent.status, "successful");
    assert.equal(tasks.parent.exit_code, 0);
    const parentLog = await server.api("GET", `${runUrl("cancel-waiting", runId)}/tasks/parent/logs`);
    assert.equal(parentLog.text, "parent done\n");
    for (const id of ["child", "grandchild"]) {
      assert.equal(tasks[id].status, "cancelled", id);
      assert.equal(tasks[id].started, 0, id);
      assert.equal(tasks[id].exit_code, null, id);
    }
    assert.equal(run.status, "cancelled");

    const events = await storedEvents(server);
    const started = runEvents(events, "started_task_execution", "cancel-waiting", runId);
    assert.deepEqual(
      started.map((details) => details.task_execution_id),
      ["parent"],
      "only the parent ever got a container",
    );
    await assertNoContainersLeft(server);
  });

  it("cancels a queued run without running anything, and the next queued run still starts", async () => {
    await deployPipeline(server, pipelineConfig("cancel-queued", [shTask("work", "sleep 2")], 1));
    const first = await startRun(server, "cancel-queued");
    const second = await startRun(server, "cancel-queued");
    const third = await startRun(server, "cancel-queued");
    assert.equal((await getRun(server, "cancel-queued", second)).state, "pending");

    const response = await server.api("DELETE", runUrl("cancel-queued", second));
    assert.equal(response.status, 204, response.text);
    const cancelled = await waitForRun(server, "cancel-queued", second, 1500);
    assert.equal(cancelled.run.status, "cancelled");
    assert.equal(cancelled.run.status_reason.reason, "user_cancelled");
    assert.equal(cancelled.run.started, 0, "the cancelled run never started");
    assert.equal(cancelled.tasks.work.status, "cancelled");
    assert.equal(cancelled.tasks.work.started, 0);
    assert.notEqual((await getRun(server, "cancel-queued", first)).state, "complete");
    assert.equal((await getRun(server, "cancel-queued", third)).state, "pending");

    const firstDone = await waitForRun(server, "cancel-queued", first, 10_000);
    const thirdDone = await waitForRun(server, "cancel-queued", third, 10_000);
    assert.equal(firstDone.run.status, "successful");
    assert.equal(thirdDone.run.status, "successful");
    assert.ok(thirdDone.run.started >= firstDone.run.ended, "the third run waited for the first");

    const events = await storedEvents(server);
    assert.equal(runEvents(events, "started_run", "cancel-queued", second).length, 0);
    assert.equal(runEvents(events, "started_task_execution", "cancel-queued", second).length, 0);
    assert.equal(runEvents(events, "started_run_cancellation", "cancel-queued", second).length, 1);
    assert.equal(runEvents(events, "started_run", "cancel-queued", third).length, 1);
    await assertNoContainersLeft(server);
  });

  it("answers 204 and changes nothing for a completed run, 404 for an unknown one", async () => {
    await deployPipeline(server, pipelineConfig("cancel-done", [shTask("quick", "echo done")]));
    const runId = await startRun(server, "cancel-done");
    const done = await waitForRun(server, "cancel-done", runId, 10_000);
    assert.equal(done.run.status, "successful");

    const response = await server.api("DELETE", runUrl("cancel-done", runId));
    assert.equal(response.status, 204, response.text);
    const again = await waitForRun(server, "cancel-done", runId, 1000);
    assert.deepEqual(again, done);
    const events = await storedEvents(server);
    assert.equal(runEvents(events, "started_run_cancellation", "cancel-done", runId).length, 0);

    const unknown = await server.api("DELETE", runUrl("cancel-done", 999));
    assert.equal(unknown.status, 404, unknown.text);
    assert.equal(unknown.json.error_code, "NOT_FOUND");
    assert.equal(typeof unknown.json.request_id, "string");
    assert.match(unknown.json.message, /999/);
    const unknownPipeline = await server.api("DELETE", runUrl("no-such-pipeline", 1));
    assert.equal(unknownPipeline.status, 404, unknownPipeline.text);
    assert.equal(unknownPipeline.json.error_code, "NOT_FOUND");
  });
});
