/**
 * Fills a test server's SQLite database with many stored runs, each made of rows the real run loop wrote.
 *
 * A few hundred runs of a three-task pipeline go through the server on the InstantScheduler (its containers
 * "run" at once): those are the seed. Running 100,000 runs that way would take minutes, so the seed's rows
 * are then copied under new run ids, while the server is stopped, and the server starts again on the same
 * data: runs (new `seq`s, in order), task executions, earlier attempts, the runs' events (new ids, the run id
 * inside rewritten) and the audit rows of the calls that started them. Copy k is shifted by k times the
 * seed's span of run ids, event ids and time, so newer runs have higher ids and later times, as they would;
 * the seed itself moves back in time, so that the newest copy ends when the seed did. Each batch of copies is
 * one transaction. {@link leaveTasksUnfinished} then stages a crash on the newest runs, for a start to
 * recover from.
 *
 * What a long-lived server would have done meanwhile is applied as well, so that its first start has no
 * backlog to work off: objects and logs of all but the newest 50 runs expired (the defaults of
 * `object_store.run_object_expiry` and `api.task_execution_log_retention`), the run counter and the
 * notification mark moved to the newest run and event. The copies have no log files: nothing here reads them.
 *
 * The server must keep every run: start it with {@link KEEP_EVERY_RUN} (by default retention keeps 1,000 runs
 * of a pipeline, and would delete the rest at the next start).
 */
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { setTimeout as sleep } from "node:timers/promises";
import { deployPipeline, pipelineConfig, shTask } from "../../packages/gofer/test/support/pipelines.ts";
import type { TestServer } from "../../packages/gofer/test/support/test-server.ts";

/** Settings for a server that keeps every run it stores. */
export const KEEP_EVERY_RUN = { GOFER_WEB_API__RUN_RETENTION: "0" };

const NAMESPACE = "default";
/** Runs the server keeps the objects and logs of (the configuration's defaults). */
const KEPT_FILES = 50;
/** Runs copied in one transaction: few statements for the whole fill, none holding the database for long. */
const RUNS_PER_TRANSACTION = 10_000;
/** Runs started through the API at once while seeding. */
const STARTS_IN_FLIGHT = 8;
const SEED_TIMEOUT_MS = 300_000;

export interface StoredRunsOptions {
  /** Runs that go through the run loop (at most `runs`). */
  seedRuns?: number;
  pipelineId?: string;
  /** Progress lines. */
  say?: (line: string) => void;
}

export interface StoredRuns {
  pipelineId: string;
  runs: number;
  seedRuns: number;
  /** The three task ids of every run. */
  taskIds: string[];
}

const TASK_IDS = ["build", "test", "lint"];

/** Where a server keeps its SQLite database in its data folder (the default `server.storage_path`). */
export const databasePath = (dataDir: string): string => join(dataDir, "gofer.db");

/**
 * Stores `runs` complete runs of a new pipeline in the server's database; the server is restarted once (when
 * there is anything to copy) and serves them afterwards.
 */
export async function fillStoredRuns(
  server: TestServer,
  runs: number,
  options: StoredRunsOptions = {},
): Promise<StoredRuns> {
  const pipelineId = options.pipelineId ?? "stored";
  const seedRuns = Math.min(options.seedRuns ?? 500, runs);
  const say = options.say ?? (() => undefined);
  // Independent tasks: all three run at once, as a run caught by a crash would show them.
  await deployPipeline(
    server,
    pipelineConfig(
      pipelineId,
      TASK_IDS.map((id) => shTask(id, "true")),
    ),
  );
  const began = performance.now();
  await seed(server, pipelineId, seedRuns);
  say(`${seedRuns} runs through the run loop in ${((performance.now() - began) / 1000).toFixed(1)} s`);
  if (runs > seedRuns) {
    const copying = performance.now();
    await server.restart(async () => copySeed(databasePath(server.dataDir), pipelineId, runs));
    say(`copied to ${runs} runs in ${((performance.now() - copying) / 1000).toFixed(1)} s`);
  }
  return { pipelineId, runs, seedRuns, taskIds: TASK_IDS };
}

async function seed(server: TestServer, pipelineId: string, count: number): Promise<void> {
  let next = 0;
  const starter = async () => {
    while (next < count) {
      next += 1;
      const response = await server.api("POST", `/api/namespaces/${NAMESPACE}/pipelines/${pipelineId}/runs`, {
        variables: {},
      });
      if (response.status !== 201)
        throw new Error(`starting a seed run: ${response.status} ${response.text}`);
    }
  };
  await Promise.all(Array.from({ length: STARTS_IN_FLIGHT }, starter));
  const deadline = Date.now() + SEED_TIMEOUT_MS;
  while ((await unfinishedRuns(server, pipelineId)) > 0) {
    if (Date.now() > deadline) throw new Error(`the seed runs did not complete in ${SEED_TIMEOUT_MS} ms`);
    await sleep(50);
  }
}

async function unfinishedRuns(server: TestServer, pipelineId: string): Promise<number> {
  const row = await server.service.db
    .selectFrom("runs")
    .select((eb) => eb.fn.countAll<number>().as("count"))
    .where("namespace_id", "=", NAMESPACE)
    .where("pipeline_id", "=", pipelineId)
    .where("state", "!=", "complete")
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** The seed's extent: copy k adds k times each span. */
interface Spans {
  /** Runs of the seed, whose ids are 1…runs. */
  runs: number;
  /** The newest event id: copy k's events take ids above k times it. */
  events: number;
  /** Milliseconds from the first run's creation to the last event. */
  time: number;
}

/** A batch of copies, first…last, of a fill up to `total` runs whose newest copy is `newest`. */
interface Batch {
  first: number;
  last: number;
  newest: number;
  total: number;
  spans: Spans;
}

function copySeed(path: string, pipelineId: string, total: number): void {
  const db = openDatabase(path);
  try {
    const spans = stageSeed(db, pipelineId);
    const copiesPerTransaction = Math.max(1, Math.floor(RUNS_PER_TRANSACTION / spans.runs));
    const newest = Math.ceil(total / spans.runs) - 1;
    // The seed moves back in time as far as the copies reach forward, so the newest copy ends when the seed
    // did.
    transaction(db, () => {
      for (const plan of COPIES) backdate(db, plan, newest * spans.time);
    });
    for (let first = 1; first <= newest; first += copiesPerTransaction) {
      const last = Math.min(newest, first + copiesPerTransaction - 1);
      transaction(db, () => {
        for (const plan of COPIES) copyRows(db, plan, { first, last, newest, total, spans });
      });
    }
    transaction(db, () => settleAsAfterLongService(db, pipelineId, total));
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
}

function openDatabase(path: string): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
  return db;
}

/** Takes the seed's rows into temporary tables, each with the run id it belongs to; measures its spans. */
function stageSeed(db: DatabaseSync, pipelineId: string): Spans {
  const scope = { namespace: NAMESPACE, pipeline: pipelineId };
  const ofPipeline = "namespace_id = :namespace AND pipeline_id = :pipeline";
  for (const table of ["runs", "task_executions", "task_attempts"]) {
    db.prepare(`CREATE TEMP TABLE seed_${table} AS SELECT * FROM ${table} WHERE ${ofPipeline}`).run(scope);
  }
  db.prepare(
    `CREATE TEMP TABLE seed_events AS
       SELECT *, json_extract(details_json, '$.run_id') AS run_id FROM events
       WHERE json_extract(details_json, '$.namespace_id') = :namespace
         AND json_extract(details_json, '$.pipeline_id') = :pipeline
         AND json_extract(details_json, '$.run_id') IS NOT NULL`,
  ).run(scope);
  // The calls that started the runs, paired with the runs in order.
  db.prepare(
    `CREATE TEMP TABLE seed_audit AS
       SELECT *, row_number() OVER (ORDER BY id) AS run_id FROM audit
       WHERE operation = 'start_run'
         AND target = 'namespaces/' || :namespace || '/pipelines/' || :pipeline || '/runs'`,
  ).run(scope);
  const runs = db.prepare("SELECT count(*) AS count, max(run_id) AS last FROM seed_runs").get() as {
    count: number;
    last: number;
  };
  if (runs.count !== runs.last) throw new Error(`the seed's run ids are not 1…${runs.count}`);
  const extent = db
    .prepare(
      `SELECT (SELECT max(id) FROM events) AS events,
              (SELECT min(created) FROM seed_runs) AS first,
              max((SELECT max(ended) FROM seed_runs), (SELECT max(emitted) FROM seed_events)) AS last`,
    )
    .get() as { events: number; first: number; last: number };
  return { runs: runs.count, events: extent.events, time: extent.last - extent.first + 1 };
}

/** How one table's seed rows become copy k's. */
interface CopyPlan {
  table: string;
  /** Columns given new values (SQL over the seed row `s` and the copy number `k`); the rest are copied. */
  set: Record<string, string>;
  /** Timestamps, shifted with their copy; 0 ("not yet") stays 0. */
  times: string[];
  /** Columns the database fills in. */
  omit?: string[];
  /** What names a row, to find the seed's own rows again. */
  key: string[];
  order: string;
}

const RUN_ID = "s.run_id + k * :runs";

const COPIES: CopyPlan[] = [
  {
    table: "runs",
    set: {
      run_id: RUN_ID,
      // The run's queued_run event, copied with it.
      event_id: "CAST(CAST(s.event_id AS INTEGER) + k * :events AS TEXT)",
    },
    times: ["created", "started", "ended"],
    omit: ["seq"],
    key: ["seq"],
    order: "s.seq",
  },
  {
    table: "task_executions",
    set: { run_id: RUN_ID },
    times: ["created", "started", "ended"],
    key: ["namespace_id", "pipeline_id", "run_id", "task_id"],
    order: "s.run_id, s.task_id",
  },
  {
    table: "task_attempts",
    set: { run_id: RUN_ID },
    times: ["started", "ended"],
    key: ["namespace_id", "pipeline_id", "run_id", "task_id", "attempt"],
    order: "s.run_id, s.task_id, s.attempt",
  },
  {
    table: "events",
    set: { id: "s.id + k * :events", details_json: `json_set(s.details_json, '$.run_id', ${RUN_ID})` },
    times: ["emitted"],
    key: ["id"],
    order: "s.id",
  },
  {
    table: "audit",
    set: { request_id: "s.request_id || '/copy-' || k" },
    times: ["time"],
    omit: ["id"],
    key: ["id"],
    order: "s.id",
  },
];

function backdate(db: DatabaseSync, plan: CopyPlan, ms: number): void {
  const set = plan.times.map(
    (column) => `"${column}" = CASE WHEN "${column}" = 0 THEN 0 ELSE "${column}" - :ms END`,
  );
  const key = plan.key.map((column) => `"${column}"`).join(", ");
  db.prepare(
    `UPDATE ${plan.table} SET ${set.join(", ")} WHERE (${key}) IN (SELECT ${key} FROM seed_${plan.table})`,
  ).run(integers({ ms }));
}

function copyRows(db: DatabaseSync, plan: CopyPlan, batch: Batch): void {
  const columns = tableColumns(db, plan.table).filter((column) => !plan.omit?.includes(column));
  const shifted = (column: string) =>
    `CASE WHEN s."${column}" = 0 THEN 0 ELSE s."${column}" + (k - :newest) * :time END`;
  const values = columns.map(
    (column) => plan.set[column] ?? (plan.times.includes(column) ? shifted(column) : `s."${column}"`),
  );
  const sql = `WITH RECURSIVE copies(k) AS (SELECT :first UNION ALL SELECT k + 1 FROM copies WHERE k < :last)
    INSERT INTO ${plan.table} (${columns.map((column) => `"${column}"`).join(", ")})
    SELECT ${values.join(", ")} FROM seed_${plan.table} AS s, copies
    WHERE ${RUN_ID} <= :total
    ORDER BY k, ${plan.order}`;
  const { spans } = batch;
  const all = integers({
    first: batch.first,
    last: batch.last,
    newest: batch.newest,
    total: batch.total,
    runs: spans.runs,
    events: spans.events,
    time: spans.time,
  });
  // Only the parameters the statement names: node:sqlite refuses unknown ones.
  const named = Object.fromEntries(Object.entries(all).filter(([name]) => sql.includes(`:${name}`)));
  db.prepare(sql).run(named);
}

/** node:sqlite binds a number as a REAL, which would turn ids computed from it (and their text) into 12.0. */
const integers = (values: Record<string, number>): Record<string, bigint> =>
  Object.fromEntries(Object.entries(values).map(([name, value]) => [name, BigInt(value)]));

function tableColumns(db: DatabaseSync, table: string): string[] {
  return (db.prepare("SELECT name FROM pragma_table_info(?)").all(table) as { name: string }[]).map(
    (row) => row.name,
  );
}

function settleAsAfterLongService(db: DatabaseSync, pipelineId: string, total: number): void {
  const pipeline = { namespace: NAMESPACE, pipeline: pipelineId };
  const ofPipeline = "namespace_id = :namespace AND pipeline_id = :pipeline";
  const beforeNewest = { ...pipeline, ...integers({ kept: total - KEPT_FILES }) };
  db.prepare(
    `UPDATE runs SET store_objects_expired = 1
     WHERE ${ofPipeline} AND run_id <= :kept AND store_objects_expired = 0`,
  ).run(beforeNewest);
  db.prepare(
    `UPDATE task_executions SET logs_expired = 1, logs_removed = 1
     WHERE ${ofPipeline} AND run_id <= :kept AND logs_expired = 0`,
  ).run(beforeNewest);
  db.prepare(`UPDATE run_counters SET last_run_id = :total WHERE ${ofPipeline}`).run({
    ...pipeline,
    ...integers({ total }),
  });
  db.exec(
    `INSERT INTO notification_progress (id, last_event_id) VALUES (1, (SELECT max(id) FROM events))
     ON CONFLICT (id) DO UPDATE SET last_event_id = excluded.last_event_id`,
  );
}

/**
 * Sets the newest runs back to how a crash leaves them: the newest `tasks` task executions `running`, with
 * the container id they had (the three tasks of a run run at once, so the oldest of those runs may have
 * finished some), their runs `running`, and the events of those ends gone. Can be applied again after a start
 * settled them. The server must be stopped.
 */
export function leaveTasksUnfinished(path: string, stored: StoredRuns, tasks: number): void {
  const db = openDatabase(path);
  const firstRun = stored.runs - Math.ceil(tasks / stored.taskIds.length) + 1;
  const scope = { namespace: NAMESPACE, pipeline: stored.pipelineId, ...integers({ firstRun }) };
  const ofRuns = "namespace_id = :namespace AND pipeline_id = :pipeline AND run_id >= :firstRun";
  try {
    transaction(db, () => {
      db.prepare(
        `UPDATE runs SET state = 'running', status = 'unknown', status_reason_json = NULL, ended = 0
         WHERE ${ofRuns}`,
      ).run(scope);
      db.prepare(
        `UPDATE task_executions SET state = 'complete', status = 'successful', status_reason_json = NULL,
           exit_code = 0 WHERE ${ofRuns}`,
      ).run(scope);
      db.prepare(
        `UPDATE task_executions
         SET state = 'running', status = 'unknown', status_reason_json = NULL, ended = 0, exit_code = NULL
         WHERE rowid IN (SELECT rowid FROM task_executions WHERE ${ofRuns}
                         ORDER BY run_id DESC, task_id DESC LIMIT :tasks)`,
      ).run({ ...scope, ...integers({ tasks }) });
      db.prepare(
        `DELETE FROM events
         WHERE id >= (SELECT CAST(event_id AS INTEGER) FROM runs WHERE ${ofRuns} ORDER BY run_id LIMIT 1)
           AND json_extract(details_json, '$.namespace_id') = :namespace
           AND json_extract(details_json, '$.pipeline_id') = :pipeline
           AND json_extract(details_json, '$.run_id') >= :firstRun
           AND (kind = 'completed_run'
                OR (kind = 'completed_task_execution'
                    AND (json_extract(details_json, '$.run_id'),
                         json_extract(details_json, '$.task_execution_id')) IN
                        (SELECT run_id, task_id FROM task_executions
                         WHERE ${ofRuns} AND state = 'running')))`,
      ).run(scope);
    });
  } finally {
    db.close();
  }
}

/** How many of the runs' task executions are still `running`, and how many ended `orphaned`. */
export function recoveredTasks(path: string, stored: StoredRuns): { running: number; orphaned: number } {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db
      .prepare(
        `SELECT count(*) FILTER (WHERE state = 'running') AS running,
                count(*) FILTER (WHERE json_extract(status_reason_json, '$.reason') = 'orphaned') AS orphaned
         FROM task_executions WHERE namespace_id = :namespace AND pipeline_id = :pipeline`,
      )
      .get({ namespace: NAMESPACE, pipeline: stored.pipelineId }) as { running: number; orphaned: number };
  } finally {
    db.close();
  }
}

function transaction(db: DatabaseSync, work: () => void): void {
  db.exec("BEGIN IMMEDIATE");
  try {
    work();
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}
