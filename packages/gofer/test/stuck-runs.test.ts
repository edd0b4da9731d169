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
});
