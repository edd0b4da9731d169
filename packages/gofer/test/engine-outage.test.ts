/**
 * Runs never hang on an engine that restarts or goes away. Each test gets a private dockerd of its own (see
 * support/private-engine.ts) so that it can be restarted, crashed and stopped mid-run without disturbing the
 * engine everything else uses.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
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
import { type PrivateEngine, startPrivateEngine } from "./support/private-engine.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const WAIT_MS = 60_000;

/** Numbered lines at a steady pace; ends at once (exit 3) on the SIGTERM an engine shutdown sends. */
const counting = (count: number) =>
  `trap 'exit 3' TERM; i=1; while [ $i -le ${count} ]; do echo "line $i"; i=$((i+1)); sleep 0.1 & wait; done`;

/** The log is the task's output from its first line on: in order, nothing doubled, nothing skipped. */
function assertCountingPrefix(lines: string[]): void {
  assert.deepEqual(
    lines,
    lines.map((_, index) => `line ${index + 1}`),
    "lines lost, doubled or out of order",
  );
}

describe("an engine that restarts or goes away", { timeout: 180_000 }, () => {
  let engine: PrivateEngine;
  let server: TestServer;

  before(async () => {
    engine = await startPrivateEngine();
    server = await startTestServer({
      GOFER_WEB_SCHEDULER__DOCKER__HOST: engine.host,
      GOFER_WEB_SCHEDULER__RETRY_LIMIT: "20",
    });
    await deployPipeline(
      server,
      pipelineConfig("outage", [
        shTask("count", counting(100)),
        shTask("after", "echo after ran", { depends_on: { count: "any" } }),
      ]),
    );
  });
  after(async () => {
    await server?.stop();
    await engine?.close();
  });

  it("a graceful engine restart ends the running task; the run completes and later tasks run on the engine", async () => {
    const runId = await startRun(server, "outage");
    await waitForLogLines(server, "outage", runId, "count", 5);
    await engine.restart();
    const { run, tasks } = await waitForRun(server, "outage", runId, WAIT_MS);
    assert.equal(run.state, "complete");
    assert.equal(run.status, "failed");
    assert.equal(tasks.count.status, "failed");
    assert.equal(tasks.count.exit_code, 3, "the engine's SIGTERM ended the task");
    assertCountingPrefix(await taskLogLines(server, "outage", runId, "count"));
    assert.equal(tasks.after.status, "successful", JSON.stringify(tasks.after.status_reason));
    assert.deepEqual(await taskLogLines(server, "outage", runId, "after"), ["after ran"]);
  });

  it("an engine crash is ridden out: capture resumes after the last stored line and the task fails as scheduler_error", async () => {
    const runId = await startRun(server, "outage");
    await waitForLogLines(server, "outage", runId, "count", 5);
    await engine.restart({ crash: true });
    const { run, tasks } = await waitForRun(server, "outage", runId, WAIT_MS);
    assert.equal(run.status, "failed");
    assert.equal(tasks.count.status, "failed");
    assert.equal(tasks.count.status_reason.reason, "scheduler_error");
    assert.match(tasks.count.status_reason.description, /out of reach while the task ran/);
    assertCountingPrefix(await taskLogLines(server, "outage", runId, "count"));
    assert.ok((await taskLogLines(server, "outage", runId, "count")).length >= 5);
    assert.equal(tasks.after.status, "successful");
  });

  it("an engine that stays away fails the task with scheduler_error after the retry limit, never hangs", async () => {
    await server.restart(undefined, { GOFER_WEB_SCHEDULER__RETRY_LIMIT: "2" });
    const runId = await startRun(server, "outage");
    await waitForLogLines(server, "outage", runId, "count", 3);
    const stoppedAt = Date.now();
    await engine.stopDaemon({ crash: true });
    try {
      const execution = await waitForTask(
        server,
        "outage",
        runId,
        "count",
        (task) => task.state === "complete",
        WAIT_MS,
      );
      assert.equal(execution.status, "failed");
      assert.equal(execution.status_reason.reason, "scheduler_error");
      assert.match(execution.status_reason.description, /out of reach for 2s/);
      assert.ok(Date.now() - stoppedAt < 20_000, "gave up long after the retry limit");
      assertCountingPrefix(await taskLogLines(server, "outage", runId, "count"));
      // The dependent cannot start either; it fails within the limit too, and the run completes.
      const { run, tasks } = await waitForRun(server, "outage", runId, WAIT_MS);
      assert.equal(run.status, "failed");
      assert.equal(run.status_reason.reason, "scheduler_error");
      assert.equal(tasks.after.status_reason.reason, "scheduler_error");
      assert.match(tasks.after.status_reason.description, /gave up after 2s/);
    } finally {
      await engine.start();
    }
  });
});
