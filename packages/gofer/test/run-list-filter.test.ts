/**
 * A pipeline's runs narrowed by `status` (an extension of v0), on a real server over SQLite and over PostgreSQL:
 * runs that really succeeded, failed, were cancelled or are still running on the Docker engine, each found by its
 * word, newest or oldest first and a page at a time; a word the server does not know refused with the ones it
 * does; and the narrowed list read from the `runs_by_outcome` index however many other runs the pipeline has.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import type { GoferDb } from "../src/storage/database.ts";
import { insertRun, listRuns, nextRunId } from "../src/storage/runs-store.ts";
import {
  deployPipeline,
  pipelineConfig,
  shTask,
  startRun,
  waitForRun,
  waitForTask,
} from "./support/pipelines.ts";
import { type PrivatePostgres, startPrivatePostgres } from "./support/private-postgres.ts";
import { planOf } from "./support/query-plan.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const PIPELINE = "mixed";
const RUNS = `/api/namespaces/default/pipelines/${PIPELINE}/runs`;

/** The SQL plan of the store's own narrowed list query. */
function planOfFailedRuns(db: GoferDb, backend: "sqlite" | "postgres"): Promise<string> {
  const only = { state: "complete", status: "failed" } as const;
  return planOf(
    db,
    backend,
    (viewed) => listRuns(viewed, "default", PIPELINE, { limit: 26, offset: 0, reverse: true, only }),
    { forbidSeqScan: true },
  );
}

let postgres: PrivatePostgres | undefined;
before(async () => {
  postgres = await startPrivatePostgres();
});
after(async () => {
  await postgres?.stop();
});

for (const backend of ["sqlite", "postgres"] as const) {
  describe(`runs narrowed by status: ${backend}`, () => {
    let server: TestServer;
    const ids = (response: { json: { runs: { run_id: number }[] } }) =>
      response.json.runs.map((run) => run.run_id);

    before(async () => {
      const databaseUrl =
        backend === "postgres"
          ? await (postgres as PrivatePostgres).createDatabase(`gofer_run_list_${process.pid}`)
          : undefined;
      server = await startTestServer({}, databaseUrl === undefined ? {} : { databaseUrl });
      await deployPipeline(
        server,
        pipelineConfig(PIPELINE, [
          shTask("work", 'test -z "$PAUSE" || sleep "$PAUSE"; test "$OUTCOME" != fail'),
        ]),
      );
      // Runs 1..4 end successful, failed, successful, failed; 5 is cancelled; 6 is still running.
      for (const outcome of ["ok", "fail", "ok", "fail"]) {
        const runId = await startRun(server, PIPELINE, { OUTCOME: outcome });
        await waitForRun(server, PIPELINE, runId);
      }
      const cancelled = await startRun(server, PIPELINE, { OUTCOME: "ok", PAUSE: "300" });
      await waitForTask(server, PIPELINE, cancelled, "work", (task) => task.state === "running");
      assert.equal((await server.api("DELETE", `${RUNS}/${cancelled}`)).status, 204);
      await waitForRun(server, PIPELINE, cancelled);
      const running = await startRun(server, PIPELINE, { OUTCOME: "ok", PAUSE: "300" });
      await waitForTask(server, PIPELINE, running, "work", (task) => task.state === "running");
    });

    after(async () => {
      await server?.api("DELETE", `${RUNS}/6`);
      await server?.stop();
    });

    it("finds each run by the word for where it is or how it ended, newest first when reversed", async () => {
      assert.deepEqual(ids(await server.api("GET", `${RUNS}?status=failed`)), [2, 4]);
      assert.deepEqual(ids(await server.api("GET", `${RUNS}?status=failed&reverse=true`)), [4, 2]);
      assert.deepEqual(ids(await server.api("GET", `${RUNS}?status=successful`)), [1, 3]);
      assert.deepEqual(ids(await server.api("GET", `${RUNS}?status=cancelled`)), [5]);
      assert.deepEqual(ids(await server.api("GET", `${RUNS}?status=running`)), [6]);
      assert.deepEqual(ids(await server.api("GET", `${RUNS}?status=pending`)), []);
      // Without it the list is what v0 serves: every run, and no field added to any.
      const all = await server.api("GET", RUNS);
      assert.deepEqual(ids(all), [1, 2, 3, 4, 5, 6]);
      assert.ok(all.json.runs.every((run: Record<string, unknown>) => !("outcome" in run)));
    });

    it("pages through a narrowed list with limit and offset", async () => {
      const page = (offset: number) =>
        server.api("GET", `${RUNS}?status=successful&reverse=true&limit=1&offset=${offset}`);
      assert.deepEqual(ids(await page(0)), [3]);
      assert.deepEqual(ids(await page(1)), [1]);
      assert.deepEqual(ids(await page(2)), []);
    });

    it("refuses a word it does not know, naming the ones it does", async () => {
      const refused = await server.api("GET", `${RUNS}?status=complete`);
      assert.equal(refused.status, 400, refused.text);
      assert.match(refused.json.message, /status/);
      assert.match(refused.text, /successful/);
    });

    it("reads a narrowed list from the runs_by_outcome index, not the pipeline's every run", async () => {
      const db = server.service.db;
      for (let i = 0; i < 300; i++) {
        await db.transaction().execute(async (tx) => {
          const runId = await nextRunId(tx, "default", PIPELINE);
          await insertRun(
            tx,
            {
              namespace_id: "default",
              pipeline_id: PIPELINE,
              pipeline_config_version: 1,
              run_id: runId,
              started: 1,
              ended: 2,
              state: "complete",
              status: "successful",
              status_reason: null,
              initiator: { id: "t", user: "u" },
              variables: [],
              token_id: null,
              store_objects_expired: false,
              event_id: null,
            },
            Date.now(),
          );
        });
      }
      if (backend === "postgres") await sql`ANALYZE runs`.execute(db);
      const plan = await planOfFailedRuns(db, backend);
      assert.match(plan, /runs_by_outcome/, plan);
      assert.deepEqual(ids(await server.api("GET", `${RUNS}?status=failed&reverse=true`)), [4, 2]);
    });
  });
}
