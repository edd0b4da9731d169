/**
 * A run's `cancellation` (an extension of v0): who asked to cancel it, when, and the grace period its running
 * tasks got, served while the tasks stop and after; absent on a run nobody cancelled (what v0 clients see) and
 * again once the run is retried; without an asker when a newer run of its concurrency group superseded it.
 */
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
import { startTestServer, type TestServer } from "./support/test-server.ts";

const STOP_TIMEOUT_MS = 3000;

/** Ignores SIGTERM, so the task stops only when its grace period runs out: the run stays "cancelling" that long. */
const STUBBORN = "trap '' TERM; sleep 30";

const runUrl = (pipelineId: string, runId: number) =>
  `/api/namespaces/default/pipelines/${pipelineId}/runs/${runId}`;

const isRunning = (execution: { state: string }) => execution.state === "running";

describe("who cancelled a run, and when", { timeout: 120_000 }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      GOFER_WEB_API__TASK_EXECUTION_STOP_TIMEOUT: String(STOP_TIMEOUT_MS / 1000),
    });
  });
  after(async () => {
    await server.stop();
  });

  it("names the asker, the time and the grace period while the run stops, keeps them after, and a retry clears them", async () => {
    await deployPipeline(
      server,
      pipelineConfig("asked", [
        shTask("stubborn", '[ "$GOFER_TASK_ATTEMPT" -ge 2 ] || { trap "" TERM; sleep 30; }'),
      ]),
    );
    const runId = await startRun(server, "asked");
    await waitForTask(server, "asked", runId, "stubborn", isRunning);
    const untouched = await getRun(server, "asked", runId);
    assert.equal("cancellation" in untouched, false, "absent until someone asks");

    const before = Date.now();
    const cancelled = await server.api("DELETE", runUrl("asked", runId));
    assert.equal(cancelled.status, 204, cancelled.text);
    const cancelling = await getRun(server, "asked", runId);
    assert.equal(cancelling.state, "running", "the task is still in its grace period");
    const { requested, ...rest } = cancelling.cancellation;
    assert.ok(requested >= before && requested <= Date.now(), `requested at ${requested}`);
    assert.deepEqual(rest, { requested_by: untouched.initiator, stop_timeout_ms: STOP_TIMEOUT_MS });

    // A second cancel neither moves the time nor changes the asker.
    assert.equal((await server.api("DELETE", runUrl("asked", runId))).status, 204);
    assert.equal((await getRun(server, "asked", runId)).cancellation.requested, requested);

    const { run } = await waitForRun(server, "asked", runId, STOP_TIMEOUT_MS + 10_000);
    assert.equal(run.status, "cancelled");
    assert.deepEqual(run.cancellation, cancelling.cancellation, "kept once the run has ended");

    const retried = await server.api("POST", `${runUrl("asked", runId)}/retry`);
    assert.equal(retried.status, 200, retried.text);
    assert.equal("cancellation" in retried.json.run, false, "a retried run is no longer being cancelled");
    const { run: again } = await waitForRun(server, "asked", runId);
    assert.equal(again.status, "successful");
    assert.equal("cancellation" in again, false);

    const listed = await server.api("GET", "/api/namespaces/default/pipelines/asked/runs");
    assert.equal(listed.status, 200, listed.text);
    assert.equal("cancellation" in listed.json.runs[0], false);
  });

  it("has no asker when a newer run of the concurrency group superseded the run", async () => {
    const onlyOne = {
      ...pipelineConfig("superseded", [shTask("work", STUBBORN)]),
      concurrency: { group: "only-one", cancel_in_progress: true },
    };
    await deployPipeline(server, onlyOne);
    const older = await startRun(server, "superseded");
    await waitForTask(server, "superseded", older, "work", isRunning);
    const before = Date.now();
    await startRun(server, "superseded");
    const { cancellation, state } = await getRun(server, "superseded", older);
    assert.equal(state, "running");
    assert.ok(cancellation.requested >= before, "requested by the newer run's arrival");
    assert.deepEqual(Object.keys(cancellation).sort(), ["requested", "stop_timeout_ms"]);
    assert.equal(cancellation.stop_timeout_ms, STOP_TIMEOUT_MS);
    await server.api("DELETE", runUrl("superseded", older + 1));
    await waitForRun(server, "superseded", older, STOP_TIMEOUT_MS + 10_000);
    await waitForRun(server, "superseded", older + 1, STOP_TIMEOUT_MS + 10_000);
  });
});
