import { sql } from "kysely";
import type { Initiator, Run, RunCancellation, StatusReason, Variable } from "../domain/models.ts";
import type { RunState, RunStatus, RunStatusReasonType } from "../domain/states.ts";
import type { GoferDb } from "./database.ts";
import { parseJson, parseNullableJson, toJson, toNullableJson } from "./json-columns.ts";
import type { RunsTable } from "./schema.ts";

type RunRow = Omit<RunsTable, "seq" | "retries" | "cancellation_json"> & {
  seq: number;
  retries: number;
  cancellation_json: string | null;
};

/** A stored run with the bookkeeping the orchestrator needs beyond the wire shape. */
export interface StoredRun extends Omit<Run, "retries" | "concurrency_group" | "cancellation"> {
  seq: number;
  cancel_requested: boolean;
  retries: number;
  concurrency_group: string | null;
  /** The run's timeout (ms), fixed when it was accepted; `null`: none. */
  timeout_ms: number | null;
  /** Who asked for its cancellation and when; `null` unless asked (and again once retried). */
  cancellation: RunCancellation | null;
}

function toRun(row: RunRow): StoredRun {
  const {
    status_reason_json,
    initiator_json,
    variables_json,
    cancellation_json,
    created: _created,
    ...rest
  } = row;
  return {
    ...rest,
    state: row.state as RunState,
    status: row.status as RunStatus,
    status_reason: parseNullableJson<StatusReason<RunStatusReasonType>>(status_reason_json),
    initiator: parseJson<Initiator>(initiator_json),
    variables: parseJson<Variable[]>(variables_json),
    store_objects_expired: row.store_objects_expired === 1,
    cancel_requested: row.cancel_requested === 1,
    cancellation: parseNullableJson<RunCancellation>(cancellation_json),
  };
}

/** The wire shape, without internal bookkeeping. */
export function publicRun(run: StoredRun): Run {
  const {
    seq: _seq,
    cancel_requested: _cancel,
    timeout_ms: _timeout,
    retries,
    concurrency_group,
    cancellation,
    ...rest
  } = run;
  // Extensions of v0, absent when unused.
  return {
    ...rest,
    ...(retries > 0 && { retries }),
    ...(concurrency_group !== null && { concurrency_group }),
    ...(cancellation !== null && { cancellation }),
  };
}

/**
 * A page of a pipeline's runs by id. `only` keeps the runs in one state with one status: both are compared for
 * equality, so the page is a range of `runs_by_outcome` (014-run-list-filter) however many other runs there are.
 */
export async function listRuns(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string,
  page: { limit: number; offset: number; reverse: boolean; only?: { state: RunState; status: RunStatus } },
): Promise<StoredRun[]> {
  let query = db
    .selectFrom("runs")
    .selectAll()
    .where("namespace_id", "=", namespaceId)
    .where("pipeline_id", "=", pipelineId);
  if (page.only) query = query.where("state", "=", page.only.state).where("status", "=", page.only.status);
  const rows = await query
    .orderBy("run_id", page.reverse ? "desc" : "asc")
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  return rows.map(toRun);
}

export async function getRun(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string,
  runId: number,
): Promise<StoredRun | undefined> {
  const row = await db
    .selectFrom("runs")
    .selectAll()
    .where("namespace_id", "=", namespaceId)
    .where("pipeline_id", "=", pipelineId)
    .where("run_id", "=", runId)
    .executeTakeFirst();
  return row && toRun(row);
}

/**
 * Takes the pipeline's next run id from its counter (see 006-retention), never from the runs still stored:
 * retention deletes runs, and an id handed out once must not come back. Call it in the transaction that
 * inserts the run, so a failed insert gives the id back.
 */
export async function nextRunId(db: GoferDb, namespaceId: string, pipelineId: string): Promise<number> {
  const row = await db
    .insertInto("run_counters")
    .values({ namespace_id: namespaceId, pipeline_id: pipelineId, last_run_id: 1 })
    .onConflict((c) =>
      c
        .columns(["namespace_id", "pipeline_id"])
        .doUpdateSet((eb) => ({ last_run_id: eb("run_counters.last_run_id", "+", 1) })),
    )
    .returning("last_run_id")
    .executeTakeFirstOrThrow();
  return row.last_run_id;
}

/** What a run is accepted with beyond its wire shape: fixed from its config when it is accepted. */
export interface RunSettings {
  /** The run's timeout (ms), or none. */
  timeout_ms?: number | null;
  /** The resolved concurrency group, or none. */
  concurrency_group?: string | null;
}

export async function insertRun(
  db: GoferDb,
  run: Run,
  created: number,
  settings: RunSettings = {},
): Promise<void> {
  const { status_reason, initiator, variables, ...rest } = run;
  await db
    .insertInto("runs")
    .values({
      ...rest,
      ...settings,
      created,
      status_reason_json: toNullableJson(status_reason),
      initiator_json: toJson(initiator),
      variables_json: toJson(variables),
      store_objects_expired: run.store_objects_expired ? 1 : 0,
      cancel_requested: 0,
    })
    .execute();
}

export interface RunKey {
  namespace_id: string;
  pipeline_id: string;
  run_id: number;
}

type RunUpdate = Partial<Pick<RunsTable, "state" | "status" | "started" | "ended" | "cancel_requested">> & {
  status_reason?: StatusReason<RunStatusReasonType> | null;
  cancellation?: RunCancellation;
};

/** Updates a run; with `onlyIf`, only while the stored run still matches it. Returns whether a row changed. */
async function updateRun(
  db: GoferDb,
  key: RunKey,
  update: RunUpdate,
  onlyIf: Partial<Pick<RunsTable, "state" | "cancel_requested">> = {},
): Promise<boolean> {
  const { status_reason, cancellation, ...rest } = update;
  let query = db
    .updateTable("runs")
    .set({
      ...rest,
      ...(status_reason !== undefined && { status_reason_json: toNullableJson(status_reason) }),
      ...(cancellation !== undefined && { cancellation_json: toJson(cancellation) }),
    })
    .where("namespace_id", "=", key.namespace_id)
    .where("pipeline_id", "=", key.pipeline_id)
    .where("run_id", "=", key.run_id);
  if (onlyIf.state !== undefined) query = query.where("state", "=", onlyIf.state);
  if (onlyIf.cancel_requested !== undefined)
    query = query.where("cancel_requested", "=", onlyIf.cancel_requested);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Admits a queued run; false when it is no longer pending (cancelled meanwhile). */
export const markRunRunning = (db: GoferDb, key: RunKey, started: number): Promise<boolean> =>
  updateRun(db, key, { state: "running", started }, { state: "pending", cancel_requested: 0 });

export const completeRun = (
  db: GoferDb,
  key: RunKey,
  status: RunStatus,
  reason: StatusReason<RunStatusReasonType> | null,
  ended: number,
): Promise<boolean> => updateRun(db, key, { state: "complete", status, status_reason: reason, ended });

/**
 * Queues a finished run again for a retry, counting it; false unless the run is complete and failed or was
 * cancelled (a second retry racing the first finds it pending and does nothing).
 */
export async function requeueRun(db: GoferDb, key: RunKey): Promise<boolean> {
  const result = await db
    .updateTable("runs")
    .set((eb) => ({
      state: "pending",
      status: "unknown",
      status_reason_json: null,
      // Queued again like a new run: it starts (and its timeout counts) from its admission.
      started: 0,
      ended: 0,
      cancel_requested: 0,
      cancellation_json: null,
      retries: eb("retries", "+", 1),
    }))
    .where("namespace_id", "=", key.namespace_id)
    .where("pipeline_id", "=", key.pipeline_id)
    .where("run_id", "=", key.run_id)
    .where("state", "=", "complete")
    .where("status", "in", ["failed", "cancelled"])
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * False when cancellation was already requested, so a repeated cancel announces nothing twice (and the first
 * request's `cancellation`, who asked and when, stands).
 */
export const markRunCancelRequested = (
  db: GoferDb,
  key: RunKey,
  cancellation?: RunCancellation,
): Promise<boolean> => updateRun(db, key, { cancel_requested: 1, cancellation }, { cancel_requested: 0 });

/**
 * Every state but `complete`, spelled out: `state IN (…)` is a few probes of an index that leads with the state
 * (`runs_by_state`, `runs_pending_*`), where `state != 'complete'` reads every stored run.
 */
export const UNFINISHED_RUN_STATES: RunState[] = ["unknown", "pending", "running"];

/** Runs not yet complete, in arrival order: what the queue and recovery work from. */
export async function listUnfinishedRuns(db: GoferDb): Promise<StoredRun[]> {
  const rows = await db
    .selectFrom("runs")
    .selectAll()
    .where("state", "in", UNFINISHED_RUN_STATES)
    .orderBy("seq")
    .execute();
  return rows.map(toRun);
}

/** How many runs are running, per pipeline (`namespace/pipeline`). */
export async function countRunningRuns(db: GoferDb): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom("runs")
    .select(["namespace_id", "pipeline_id", (eb) => eb.fn.countAll<number>().as("running")])
    .where("state", "=", "running")
    .groupBy(["namespace_id", "pipeline_id"])
    .execute();
  return new Map(rows.map((row) => [`${row.namespace_id}/${row.pipeline_id}`, Number(row.running)]));
}

/** A pending run as admission weighs it. */
export interface QueuedRun {
  namespace_id: string;
  pipeline_id: string;
  run_id: number;
  /** The parallelism of the config version the run will execute. */
  parallelism: number;
  concurrency_group: string | null;
  /** Arrival order across pipelines. */
  seq: number;
  /** Being cancelled: it never starts, it is closed instead. */
  cancel_requested: boolean;
}

/** Pending runs with what admission needs to know about each (the parallelism of their config version). */
function queuedRuns(db: GoferDb) {
  return db
    .selectFrom("runs")
    .innerJoin("pipeline_configs", (join) =>
      join
        .onRef("pipeline_configs.namespace_id", "=", "runs.namespace_id")
        .onRef("pipeline_configs.pipeline_id", "=", "runs.pipeline_id")
        .onRef("pipeline_configs.version", "=", "runs.pipeline_config_version"),
    )
    .select([
      "runs.namespace_id",
      "runs.pipeline_id",
      "runs.run_id",
      "runs.seq",
      "pipeline_configs.parallelism",
      "runs.concurrency_group",
      "runs.cancel_requested",
    ])
    .where("runs.state", "=", "pending");
}

type QueuedRow = { cancel_requested: number } & Omit<QueuedRun, "cancel_requested">;
const toQueuedRun = (row: QueuedRow): QueuedRun => ({ ...row, cancel_requested: row.cancel_requested === 1 });

/**
 * Every pending run in arrival order. Admission reads far less (see {@link listPendingUngroupedRuns} and
 * {@link listPendingGroupHeads}); this is for the rare reader that needs them all.
 */
export async function listQueuedRuns(db: GoferDb): Promise<QueuedRun[]> {
  return (await queuedRuns(db).orderBy("runs.seq").execute()).map(toQueuedRun);
}

/** Pending runs being cancelled: they never start, and are closed instead. */
export async function listCancelledQueuedRuns(db: GoferDb): Promise<QueuedRun[]> {
  return (await queuedRuns(db).where("runs.cancel_requested", "=", 1).orderBy("runs.seq").execute()).map(
    toQueuedRun,
  );
}

/**
 * The pipelines that have pending runs, found by skipping from one to the next along `runs_pending_pipelines`:
 * one index probe per pipeline, however many runs each has queued.
 */
export async function listPipelinesWithPendingRuns(
  db: GoferDb,
): Promise<{ namespace_id: string; pipeline_id: string }[]> {
  const found: { namespace_id: string; pipeline_id: string }[] = [];
  for (let after: (typeof found)[number] | undefined; ; ) {
    let query = db.selectFrom("runs").select(["namespace_id", "pipeline_id"]).where("state", "=", "pending");
    if (after)
      query = query.where(
        sql<boolean>`(namespace_id, pipeline_id) > (${after.namespace_id}, ${after.pipeline_id})`,
      );
    const next = await query.orderBy("namespace_id").orderBy("pipeline_id").limit(1).executeTakeFirst();
    if (!next) return found;
    found.push(next);
    after = next;
  }
}

/** A pipeline's oldest pending runs without a concurrency group and not being cancelled, at most `limit`. */
export async function listPendingUngroupedRuns(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string,
  limit: number,
): Promise<QueuedRun[]> {
  const rows = await queuedRuns(db)
    .where("runs.namespace_id", "=", namespaceId)
    .where("runs.pipeline_id", "=", pipelineId)
    .where("runs.concurrency_group", "is", null)
    .where("runs.cancel_requested", "=", 0)
    .orderBy("runs.run_id")
    .limit(limit)
    .execute();
  return rows.map(toQueuedRun);
}

/**
 * The oldest pending run of each concurrency group (groups are namespace-wide), leaving out runs being cancelled:
 * the only run of a group admission may start. One probe of `runs_pending_groups` per group.
 */
export async function listPendingGroupHeads(db: GoferDb): Promise<QueuedRun[]> {
  const heads: QueuedRun[] = [];
  for (let after: QueuedRun | undefined; ; ) {
    let query = queuedRuns(db)
      .where("runs.concurrency_group", "is not", null)
      .where("runs.cancel_requested", "=", 0);
    if (after)
      query = query.where(
        sql<boolean>`(runs.namespace_id, runs.concurrency_group) > (${after.namespace_id}, ${after.concurrency_group})`,
      );
    const next = await query
      .orderBy("runs.namespace_id")
      .orderBy("runs.concurrency_group")
      .orderBy("runs.seq")
      .limit(1)
      .executeTakeFirst();
    if (!next) return heads;
    after = toQueuedRun(next);
    heads.push(after);
  }
}

/** The most runs of a pipeline that may run at once under any of its config versions (0: the server default). */
export async function pipelineParallelismBound(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string,
  serverDefault: number,
): Promise<number> {
  const row = await db
    .selectFrom("pipeline_configs")
    .select((eb) => [eb.fn.max("parallelism").as("most"), eb.fn.min("parallelism").as("least")])
    .where("namespace_id", "=", namespaceId)
    .where("pipeline_id", "=", pipelineId)
    .executeTakeFirst();
  const most = Number(row?.most ?? 0);
  return Number(row?.least ?? 0) === 0 ? Math.max(most, serverDefault) : most;
}

/** How many runs are running per concurrency group (groups are namespace-wide); runs without one are left out. */
export async function countRunningRunsByGroup(
  db: GoferDb,
): Promise<{ namespace_id: string; concurrency_group: string; running: number }[]> {
  const rows = await db
    .selectFrom("runs")
    .select(["namespace_id", "concurrency_group", (eb) => eb.fn.countAll<number>().as("running")])
    .where("state", "=", "running")
    .where("concurrency_group", "is not", null)
    .groupBy(["namespace_id", "concurrency_group"])
    .execute();
  return rows.map((row) => ({
    namespace_id: row.namespace_id,
    concurrency_group: row.concurrency_group as string,
    running: Number(row.running),
  }));
}

/** The unfinished runs of a namespace's concurrency group that are not already being cancelled, oldest first. */
export async function listCancellableRunsOfGroup(
  db: GoferDb,
  namespaceId: string,
  group: string,
): Promise<StoredRun[]> {
  const rows = await db
    .selectFrom("runs")
    .selectAll()
    .where("namespace_id", "=", namespaceId)
    .where("concurrency_group", "=", group)
    .where("state", "in", UNFINISHED_RUN_STATES)
    .where("cancel_requested", "=", 0)
    .orderBy("seq")
    .execute();
  return rows.map(toRun);
}

/**
 * Requests a run's cancellation together with the reason it will end with (`superseded`), in one write: the
 * reason is kept in `status_reason` while the run stops, so a restart in between still ends it with that reason.
 * False when its cancellation was already requested.
 */
export const markRunSuperseded = (
  db: GoferDb,
  key: RunKey,
  reason: StatusReason<RunStatusReasonType>,
  cancellation?: RunCancellation,
): Promise<boolean> =>
  updateRun(db, key, { cancel_requested: 1, status_reason: reason, cancellation }, { cancel_requested: 0 });

/** Records which token the run's tasks were given, so the run names its token. */
export async function setRunTokenId(db: GoferDb, key: RunKey, tokenId: string): Promise<void> {
  await db
    .updateTable("runs")
    .set({ token_id: tokenId })
    .where("namespace_id", "=", key.namespace_id)
    .where("pipeline_id", "=", key.pipeline_id)
    .where("run_id", "=", key.run_id)
    .execute();
}

/**
 * How many of a namespace's runs, or of one of its pipelines' when `pipelineId` is given, are not complete.
 * Counted in SQL with the scope in the query, so a delete's check reads only the runs it is about.
 */
export async function countUnfinishedRuns(
  db: GoferDb,
  namespaceId: string,
  pipelineId?: string,
): Promise<number> {
  let query = db
    .selectFrom("runs")
    .select((eb) => eb.fn.countAll<number>().as("unfinished"))
    .where("namespace_id", "=", namespaceId)
    .where("state", "in", UNFINISHED_RUN_STATES);
  if (pipelineId !== undefined) query = query.where("pipeline_id", "=", pipelineId);
  const row = await query.executeTakeFirstOrThrow();
  return Number(row.unfinished);
}

/** When a run was accepted, started and ended (0 while it has not), for its metrics. */
export async function getRunTimes(
  db: GoferDb,
  key: RunKey,
): Promise<{ created: number; started: number; ended: number } | undefined> {
  return db
    .selectFrom("runs")
    .select(["created", "started", "ended"])
    .where("namespace_id", "=", key.namespace_id)
    .where("pipeline_id", "=", key.pipeline_id)
    .where("run_id", "=", key.run_id)
    .executeTakeFirst();
}

/** Runs waiting to start, per pipeline. */
export async function countQueuedRuns(
  db: GoferDb,
): Promise<Array<{ namespace_id: string; pipeline_id: string; count: number }>> {
  const rows = await db
    .selectFrom("runs")
    .select(["namespace_id", "pipeline_id", (eb) => eb.fn.countAll<number>().as("count")])
    .where("state", "=", "pending")
    .groupBy(["namespace_id", "pipeline_id"])
    .execute();
  return rows.map((row) => ({ ...row, count: Number(row.count) }));
}
