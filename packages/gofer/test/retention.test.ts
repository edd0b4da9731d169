import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import { deployPipeline, pipelineConfig, shTask, startRun, waitForRun } from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";
import { collectSocket } from "./support/websocket.ts";

const LOG_RETENTION = 2;
const RUN_RETENTION = 4;
const VERSION_RETENTION = 2;
const EVENT_RETENTION_MS = 1000;
const PRUNE_INTERVAL_MS = 1000;
const WAIT_MS = 20_000;

/** Polls (bounded) until `check` returns true. */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Starts `count` runs at once and waits until each has succeeded, or is gone: retention deletes only complete
 * runs, and a quick batch can outgrow run_retention before every run is looked at. Returns their ids.
 */
async function runBatch(server: TestServer, pipelineId: string, count: number): Promise<number[]> {
  const ids: number[] = [];
  for (let index = 0; index < count; index += 1) ids.push(await startRun(server, pipelineId));
  for (const id of ids) {
    await eventually(`run ${id} of ${pipelineId} completes`, async () => {
      const response = await server.api("GET", `/api/namespaces/default/pipelines/${pipelineId}/runs/${id}`);
      if (response.status === 404) return true;
      assert.equal(response.status, 200, response.text);
      const { run } = response.json;
      if (run.state !== "complete") return false;
      assert.equal(run.status, "successful", `run ${id} of ${pipelineId}`);
      return true;
    });
  }
  return ids;
}

/** Every file and folder under `dir`, recursively (none when it does not exist). */
async function entriesUnder(dir: string): Promise<{ files: string[]; folders: string[] }> {
  const files: string[] = [];
  const folders: string[] = [];
  const walk = async (path: string): Promise<void> => {
    const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) {
        folders.push(child);
        await walk(child);
      } else files.push(child);
    }
  };
  await walk(dir);
  return { files, folders };
}

describe("retention", () => {
  let server: TestServer;
  const pipelinePath = (pipelineId: string) => `/api/namespaces/default/pipelines/${pipelineId}`;
  const runPath = (pipelineId: string, runId: number) => `${pipelinePath(pipelineId)}/runs/${runId}`;
  const count = async (query: ReturnType<typeof sql<{ n: number }>>): Promise<number> =>
    Number((await query.execute(server.service.db)).rows[0]?.n);

  before(async () => {
    server = await startTestServer({
      GOFER_WEB_API__TASK_EXECUTION_LOG_RETENTION: String(LOG_RETENTION),
      GOFER_WEB_API__RUN_RETENTION: String(RUN_RETENTION),
      GOFER_WEB_API__PIPELINE_VERSION_RETENTION: String(VERSION_RETENTION),
      GOFER_WEB_API__EVENT_LOG_RETENTION: `${EVENT_RETENTION_MS}ms`,
      GOFER_WEB_API__EVENT_PRUNE_INTERVAL: `${PRUNE_INTERVAL_MS}ms`,
    });
  });
  after(async () => {
    await server.stop();
  });

  it("deletes the task logs of complete runs beyond the newest N and marks them expired", async () => {
    await deployPipeline(server, pipelineConfig("logged", [shTask("say", 'echo "run $GOFER_RUN_ID"')]));
    const ids = await runBatch(server, "logged", 4);
    const logsPath = (runId: number) => `${runPath("logged", runId)}/tasks/say/logs`;
    const [oldest = 0, older = 0, newer = 0, newest = 0] = ids;

    await eventually("the logs of the two oldest runs expire", async () => {
      for (const runId of [oldest, older]) {
        const task = await server.api("GET", `${runPath("logged", runId)}/tasks/say`);
        if (!task.json.task_execution.logs_expired) return false;
      }
      return true;
    });
    for (const runId of [oldest, older]) {
      const task = (await server.api("GET", `${runPath("logged", runId)}/tasks/say`)).json.task_execution;
      assert.equal(task.logs_expired, true);
      assert.equal(task.logs_removed, true);
      const logs = await server.api("GET", logsPath(runId));
      assert.equal(logs.status, 410, logs.text);
      assert.equal(logs.json.error_code, "LOGS_REMOVED");
      assert.equal(existsSync(join(server.dataDir, "logs", "default", "logged", String(runId))), false);
      // Expiring logs keeps the run itself (run_retention is larger).
      assert.equal((await server.api("GET", runPath("logged", runId))).status, 200);
    }
    for (const runId of [newer, newest]) {
      const task = (await server.api("GET", `${runPath("logged", runId)}/tasks/say`)).json.task_execution;
      assert.equal(task.logs_expired, false);
      assert.equal(task.logs_removed, false);
      const logs = await server.api("GET", logsPath(runId));
      assert.equal(logs.status, 200, logs.text);
      assert.equal(logs.text, `run ${runId}\n`);
    }
  });

  it("deletes complete runs beyond the newest N with their objects and token, and never reuses a run id", async () => {
    await deployPipeline(
      server,
      pipelineConfig("kept", [{ ...shTask("work", 'test -n "$GOFER_API_TOKEN"'), inject_api_token: true }]),
    );
    const [first = 0] = await runBatch(server, "kept", 1);
    const stored = await server.api("POST", `${runPath("kept", first)}/objects/note`, "from run one", {
      "content-type": "application/octet-stream",
    });
    assert.equal(stored.status, 201, stored.text);
    const objectFiles = async () => (await entriesUnder(join(server.dataDir, "objects"))).files;
    assert.equal((await objectFiles()).length, 1);
    const tokensOf = (runId: number) =>
      count(sql`select count(*) as n from tokens where user = ${`run:default/kept/${runId}`}`);
    assert.equal(await tokensOf(first), 1);

    const later = await runBatch(server, "kept", RUN_RETENTION + 1);
    const second = later[0] ?? 0;
    await eventually("the two oldest runs are deleted", async () => {
      const statuses = await Promise.all(
        [first, second].map(async (runId) => (await server.api("GET", runPath("kept", runId))).status),
      );
      return statuses.every((status) => status === 404);
    });
    for (const runId of later.slice(1))
      assert.equal((await server.api("GET", runPath("kept", runId))).status, 200, `run ${runId}`);
    const listed = await server.api("GET", `${pipelinePath("kept")}/runs`);
    assert.deepEqual(
      // biome-ignore lint/suspicious/noExplicitAny: run JSON as served
      listed.json.runs.map((run: any) => run.run_id).sort((a: number, b: number) => a - b),
      later.slice(1),
    );
    assert.equal(
      await count(
        sql`select count(*) as n from task_executions where pipeline_id = 'kept' and run_id <= ${second}`,
      ),
      0,
    );
    // The run's object went with it, file and row, and so did its API token.
    await eventually("the deleted run's token is gone", async () => (await tokensOf(first)) === 0);
    assert.deepEqual(await objectFiles(), []);
    assert.equal(await count(sql`select count(*) as n from objects where pipeline_id = 'kept'`), 0);
    assert.equal(existsSync(join(server.dataDir, "logs", "default", "kept", String(first))), false);

    const last = later.at(-1) ?? 0;
    assert.equal(await startRun(server, "kept"), last + 1);
    await waitForRun(server, "kept", last + 1, WAIT_MS);
    // Even with every row of the pipeline's runs gone, the next id continues from the last one handed out.
    await server.service.db.deleteFrom("runs").where("pipeline_id", "=", "kept").execute();
    assert.equal(await startRun(server, "kept"), last + 2);
    await waitForRun(server, "kept", last + 2, WAIT_MS);
  });

  it("deletes old config versions unless live, the latest or used by a kept run", async () => {
    const config = (name: string) => pipelineConfig("versioned", [shTask("say", `echo ${name}`)]);
    const configs = `${pipelinePath("versioned")}/configs`;
    const register = async (name: string): Promise<number> => {
      const response = await server.api("POST", configs, { config: config(name) });
      assert.equal(response.status, 201, response.text);
      return response.json.pipeline.config.version;
    };
    const deploy = async (version: number) =>
      assert.equal((await server.api("POST", `${configs}/${version}`)).status, 201);

    const usedByRun = await deployPipeline(server, config("one"));
    const [runOnUsed = 0] = await runBatch(server, "versioned", 1);
    const deprecated = await register("two");
    await deploy(deprecated);
    const live = await register("three");
    await deploy(live);
    const unreleased = await register("four");
    const newer = await register("five");
    const latest = await register("six");

    const status = async (version: number) => (await server.api("GET", `${configs}/${version}`)).status;
    await eventually("the periodic prune deletes the unneeded versions", async () => {
      return (await status(deprecated)) === 404 && (await status(unreleased)) === 404;
    });
    for (const version of [usedByRun, live, newer, latest]) assert.equal(await status(version), 200);
    const listed = await server.api("GET", configs);
    assert.deepEqual(
      // biome-ignore lint/suspicious/noExplicitAny: config JSON as served
      listed.json.configs.map((entry: any) => entry.version),
      [latest, newer, live, usedByRun],
    );
    assert.equal(
      await count(sql`select count(*) as n from pipeline_tasks where pipeline_id = 'versioned'`),
      4,
    );

    // Once the run that used it is deleted, the version it kept goes too.
    await runBatch(server, "versioned", RUN_RETENTION);
    await eventually("the old run and its version are deleted", async () => {
      return (
        (await server.api("GET", runPath("versioned", runOnUsed))).status === 404 &&
        (await status(usedByRun)) === 404
      );
    });
    for (const version of [live, newer, latest]) assert.equal(await status(version), 200);
  });

  it("deletes events older than the event log retention", async () => {
    const history = async (): Promise<{ id: string; emitted: number }[]> =>
      (await collectSocket(server, "/api/events?history=true&reverse=true", WAIT_MS)).frames.map((frame) =>
        JSON.parse(frame),
      );
    await deployPipeline(server, pipelineConfig("evented", [shTask("say", "true")]));
    const [newest] = await history();
    assert.ok(newest, "registering a pipeline records events");
    assert.equal((await server.api("GET", `/api/events/${newest.id}`)).status, 200);

    await eventually(
      "the event is pruned",
      async () => (await server.api("GET", `/api/events/${newest.id}`)).status === 404,
      EVENT_RETENTION_MS + PRUNE_INTERVAL_MS + 5000,
    );
    const prunedAt = Date.now();
    for (const event of await history()) {
      assert.ok(
        event.emitted >= prunedAt - EVENT_RETENTION_MS - PRUNE_INTERVAL_MS - 1000,
        `event ${event.id} from ${prunedAt - event.emitted} ms ago is still stored`,
      );
    }
    // A new event is kept until it is old.
    const runId = await startRun(server, "evented");
    await waitForRun(server, "evented", runId, WAIT_MS);
    const [recent] = await history();
    assert.ok(recent && Number(recent.id) > Number(newest.id));
    assert.equal((await server.api("GET", `/api/events/${recent.id}`)).status, 200);
  });

  it("keeps the database and the log folder bounded under a steady workload", async (t) => {
    const ROUNDS = 3;
    const RUNS_PER_ROUND = 8;
    const TASKS = 2;
    // Variables make each task execution row sizeable, so unbounded growth would show in the file size.
    const padding = "x".repeat(1000);
    const tasks = [
      shTask("first", "echo first", { variables: { PADDING: padding } }),
      shTask("second", "echo second", {
        depends_on: { first: "success" },
        variables: { PADDING: padding },
      }),
    ];
    const dbPath = join(server.dataDir, "gofer.db");
    const logFolder = join(server.dataDir, "logs", "default", "steady");
    const rowCounts = async () => ({
      runs: await count(sql`select count(*) as n from runs where pipeline_id = 'steady'`),
      taskExecutions: await count(
        sql`select count(*) as n from task_executions where pipeline_id = 'steady'`,
      ),
      configs: await count(sql`select count(*) as n from pipeline_configs where pipeline_id = 'steady'`),
      events: await count(sql`select count(*) as n from events`),
    });
    const sizes: { bytes: number; logEntries: number }[] = [];

    for (let round = 1; round <= ROUNDS; round += 1) {
      await deployPipeline(server, pipelineConfig("steady", tasks));
      await runBatch(server, "steady", RUNS_PER_ROUND);
      // Nothing else happens meanwhile, so once the round's events age out the event log is empty.
      await eventually(`round ${round} is pruned`, async () => {
        const counts = await rowCounts();
        return counts.runs <= RUN_RETENTION && counts.events === 0;
      });

      const counts = await rowCounts();
      assert.ok(counts.runs <= RUN_RETENTION, `round ${round}: ${counts.runs} runs`);
      assert.ok(
        counts.taskExecutions <= RUN_RETENTION * TASKS,
        `round ${round}: ${counts.taskExecutions} tasks`,
      );
      assert.ok(counts.configs <= VERSION_RETENTION, `round ${round}: ${counts.configs} config versions`);
      assert.equal(counts.events, 0, `round ${round}: events outlived their retention`);
      const logs = await entriesUnder(logFolder);
      const logFiles = logs.files.filter((file) => file.endsWith(".log"));
      assert.ok(logFiles.length <= LOG_RETENTION * TASKS, `round ${round}: ${logFiles.length} log files`);
      assert.ok(logs.folders.length <= LOG_RETENTION, `round ${round}: ${logs.folders.length} run folders`);

      await sql`pragma wal_checkpoint(truncate)`.execute(server.service.db);
      const wal = await stat(`${dbPath}-wal`).catch(() => ({ size: 0 }));
      sizes.push({
        bytes: (await stat(dbPath)).size + wal.size,
        logEntries: logs.files.length + logs.folders.length,
      });
    }

    t.diagnostic(`database bytes and log folder entries after each round: ${JSON.stringify(sizes)}`);
    const [, second, third] = sizes;
    assert.ok(second && third);
    // Freed pages are reused: a third round of the same work fits in the space the second one left, give or take
    // a few pages of B-tree reshaping (up to 3 pages seen). Without run deletion a round adds about 64 KiB.
    assert.ok(
      third.bytes <= second.bytes + 6 * 4096,
      `the database grew from ${second.bytes} to ${third.bytes} bytes between rounds 2 and 3`,
    );
    assert.ok(third.logEntries <= second.logEntries, `log folder entries: ${JSON.stringify(sizes)}`);
  });
});
