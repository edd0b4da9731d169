/**
 * A real server on PostgreSQL (server.database_url, a private cluster from support/private-postgres.ts) runs a
 * small DAG pipeline on the real Docker engine to completion, restarts, and reads the run back. Several servers on
 * one database (replicas) are tested in replicas.test.ts.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pageEvents } from "../src/storage/events-store.ts";
import { deployPipeline, getRun, pipelineConfig, shTask, startRun, waitForRun } from "./support/pipelines.ts";
import { type PrivatePostgres, startPrivatePostgres } from "./support/private-postgres.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

describe("a server on PostgreSQL", () => {
  let postgres: PrivatePostgres;
  let databaseUrl: string;
  let server: TestServer | undefined;
  before(async () => {
    postgres = await startPrivatePostgres();
    databaseUrl = await postgres.createDatabase("gofer_server");
    server = await startTestServer({}, { databaseUrl });
  });
  after(async () => {
    await server?.stop();
    await postgres?.stop();
  });

  it("runs a DAG to completion, and reads it back after a restart", async () => {
    const s = server as TestServer;
    await deployPipeline(
      s,
      pipelineConfig("on-postgres", [
        shTask("first", "echo one"),
        shTask("second", "exit 3", { depends_on: { first: "Success" } }),
        shTask("on-failure", "echo cleanup", { depends_on: { second: "Failure" } }),
        shTask("skipped", "exit 0", { depends_on: { second: "Success" } }),
      ]),
    );
    const runId = await startRun(s, "on-postgres");
    const { run, tasks } = await waitForRun(s, "on-postgres", runId);
    assert.equal(run.state, "complete");
    assert.equal(run.status, "failed");
    const outcome = (id: string) => [tasks[id].status, tasks[id].exit_code];
    assert.deepEqual(outcome("first"), ["successful", 0]);
    assert.deepEqual(outcome("second"), ["failed", 3]);
    assert.deepEqual(outcome("on-failure"), ["successful", 0]);
    assert.deepEqual(outcome("skipped"), ["skipped", null]);
    assert.ok(run.started > 2 ** 31, "epoch milliseconds survive as 64-bit integers");

    const events = await pageEvents(s.service.db, { limit: 1000, reverse: false });
    assert.ok(
      events.some((event) => "completed_run" in event.kind),
      "the run's events are stored",
    );

    await s.restart();
    assert.equal((await getRun(s, "on-postgres", runId)).status, "failed");
    const again = await waitForRun(s, "on-postgres", runId);
    assert.equal(again.run.status, "failed");
    assert.equal(again.run.started, run.started);
    assert.deepEqual(Object.keys(again.tasks).sort(), ["first", "on-failure", "second", "skipped"]);
    // Ids keep counting after the restart.
    const next = await startRun(s, "on-postgres");
    assert.equal(next, runId + 1);
    await waitForRun(s, "on-postgres", next);
  });
});
