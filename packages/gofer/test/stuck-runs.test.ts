/**
 * A run never stays `running` with nothing in flight: a decision about it that fails (here storage refusing to
 * record a skipped task, through a real SQLite trigger) is retried, and a run that still cannot move on is failed
 * with the reason.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
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
import { waitFor } from "./support/wait-for.ts";

const REFUSE_STOPS = `
  CREATE TRIGGER refuse_stops BEFORE UPDATE OF stop_requested ON task_executions
  WHEN NEW.stop_requested IS NOT NULL
  BEGIN SELECT RAISE(ABORT, 'the disk refused the stop'); END`;

const REFUSE_ATTEMPTS = `
  CREATE TRIGGER refuse_attempts BEFORE INSERT ON task_attempts
  BEGIN SELECT RAISE(ABORT, 'the disk refused the attempt'); END`;

const REFUSE_SKIPS = `
  CREATE TRIGGER refuse_skips BEFORE UPDATE OF status ON task_executions
  WHEN NEW.status = 'skipped'
  BEGIN SELECT RAISE(ABORT, 'the disk refused the write'); END`;

describe("a run whose next step cannot be recorded", { timeout: 120_000 }, () => {
  let server: TestServer;
  let db: DatabaseSync;

  before(async () => {
    server = await startTestServer();
    db = new DatabaseSync(join(server.dataDir, "gofer.db"));
    db.exec("PRAGMA busy_timeout = 5000");
    await deployPipeline(
      server,
      pipelineConfig("stuck", [
        shTask("fails", "exit 1"),
        shTask("child", "echo never", { depends_on: { fails: "success" } }),
      ]),
    );
  });
  after(async () => {
    db?.close();
    await server?.stop();
  });

  it("is failed with the reason once the retries are spent", async () => {
    db.exec(REFUSE_SKIPS);
    try {
      const runId = await startRun(server, "stuck");
      const { run, tasks } = await waitForRun(server, "stuck", runId, 30_000);
      assert.equal(run.status, "failed");
      assert.equal(run.status_reason.reason, "scheduler_error", JSON.stringify(run.status_reason));
      assert.match(run.status_reason.description, /the disk refused the write/);
      assert.equal(tasks.fails.status, "failed");
      assert.equal(tasks.child.status, "failed");
      assert.equal(tasks.child.status_reason.reason, "scheduler_error");
    } finally {
      db.exec("DROP TRIGGER IF EXISTS refuse_skips");
    }
  });

  it("moves on by itself when the failure passes within the retries", async () => {
    db.exec(REFUSE_SKIPS);
    let dropped = false;
    try {
      const runId = await startRun(server, "stuck");
      await waitForTask(server, "stuck", runId, "fails", (task) => task.state === "complete");
      // The skip was refused at least once by now; storage recovers while the run is being retried.
      await new Promise((resolve) => setTimeout(resolve, 150));
      db.exec("DROP TRIGGER refuse_skips");
      dropped = true;
      const { run, tasks } = await waitForRun(server, "stuck", runId, 30_000);
      assert.equal(run.status, "failed");
      assert.equal(run.status_reason.reason, "abnormal_exit", JSON.stringify(run.status_reason));
      assert.equal(tasks.child.status, "skipped");
    } finally {
      if (!dropped) db.exec("DROP TRIGGER IF EXISTS refuse_skips");
    }
  });
  it("fails a run it cannot move on without retrying its unstarted tasks or calling it cancelled", async () => {
    await deployPipeline(
      server,
      pipelineConfig("stuck-with-more", [
        shTask("fails", "exit 1"),
        {
          ...shTask("child", "echo never", { depends_on: { fails: "success" } }),
          retries: { limit: 3, delay: "30s" },
        },
        shTask("sleeper", "sleep 60"),
      ]),
    );
    db.exec(REFUSE_SKIPS);
    try {
      const runId = await startRun(server, "stuck-with-more");
      const { run, tasks } = await waitForRun(server, "stuck-with-more", runId, 30_000);
      assert.equal(run.status, "failed", JSON.stringify(run.status_reason));
      assert.equal(run.status_reason.reason, "scheduler_error");
      assert.equal(tasks.child.state, "complete");
      assert.equal(tasks.child.attempt, 1, "a task that never started is not retried");
      assert.equal(tasks.sleeper.status, "failed");
      assert.equal(tasks.sleeper.status_reason.reason, "scheduler_error");
    } finally {
      db.exec("DROP TRIGGER IF EXISTS refuse_skips");
    }
  });

  it("records a task's end once storage takes it again, instead of leaving the run running", async () => {
    await deployPipeline(
      server,
      pipelineConfig("refused-attempt", [
        { ...shTask("flaky", "exit 1"), retries: { limit: 1, delay: "100ms" } },
      ]),
    );
    db.exec(REFUSE_ATTEMPTS);
    let dropped = false;
    try {
      const runId = await startRun(server, "refused-attempt");
      await waitForTask(server, "refused-attempt", runId, "flaky", (task) => task.state === "running");
      await new Promise((resolve) => setTimeout(resolve, 1500));
      db.exec("DROP TRIGGER refuse_attempts");
      dropped = true;
      const { run, tasks } = await waitForRun(server, "refused-attempt", runId, 30_000);
      assert.equal(run.status, "failed");
      assert.equal(tasks.flaky.attempt, 2);
      await waitFor("the task's containers to be removed", 10_000, async () =>
        (await server.leftoverContainers()).length === 0 ? true : undefined,
      );
    } finally {
      if (!dropped) db.exec("DROP TRIGGER IF EXISTS refuse_attempts");
    }
  });

  it("a cancel whose stop could not be stored can be repeated, and the repeat stops the task", async () => {
    await deployPipeline(server, pipelineConfig("refused-stop", [shTask("sleeper", "sleep 30")]));
    const runId = await startRun(server, "refused-stop");
    await waitForTask(server, "refused-stop", runId, "sleeper", (task) => task.state === "running");
    db.exec(REFUSE_STOPS);
    let dropped = false;
    try {
      const first = await server.api(
        "DELETE",
        `/api/namespaces/default/pipelines/refused-stop/runs/${runId}`,
      );
      assert.equal(first.status, 500, first.text);
      db.exec("DROP TRIGGER refuse_stops");
      dropped = true;
      const began = Date.now();
      const again = await server.api(
        "DELETE",
        `/api/namespaces/default/pipelines/refused-stop/runs/${runId}`,
      );
      assert.equal(again.status, 204, again.text);
      const { run, tasks } = await waitForRun(server, "refused-stop", runId, 30_000);
      assert.ok(Date.now() - began < 10_000, "the repeated cancel did not stop the task");
      assert.equal(run.status, "cancelled");
      assert.equal(tasks.sleeper.status, "cancelled");
    } finally {
      if (!dropped) db.exec("DROP TRIGGER IF EXISTS refuse_stops");
    }
  });
});
