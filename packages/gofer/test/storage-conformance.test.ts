/**
 * The storage conformance suite: the same cases against SQLite (a temp file) and a private PostgreSQL cluster
 * (test/support/private-postgres.ts). Every store's main operations, unique violations answered the same way,
 * transactions rolling back, and the orderings callers rely on. Plus what only PostgreSQL has: the bounded
 * connection retry at start, the server lock, masking of the password, and reconnecting after a lost connection.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import type { Deployment, PipelineConfig, Run, Task } from "../src/domain/models.ts";
import { Leadership } from "../src/replicas/leadership.ts";
import * as audit from "../src/storage/audit-store.ts";
import * as configs from "../src/storage/configs-store.ts";
import { type GoferDb, openDatabase } from "../src/storage/database.ts";
import * as deployments from "../src/storage/deployments-store.ts";
import * as events from "../src/storage/events-store.ts";
import * as extensions from "../src/storage/extensions-store.ts";
import * as namespaces from "../src/storage/namespaces-store.ts";
import * as notifications from "../src/storage/notifications-store.ts";
import * as objects from "../src/storage/objects-store.ts";
import * as pipelines from "../src/storage/pipelines-store.ts";
import * as replicas from "../src/storage/replicas-store.ts";
import * as retention from "../src/storage/retention-store.ts";
import * as roles from "../src/storage/roles-store.ts";
import * as runs from "../src/storage/runs-store.ts";
import * as secrets from "../src/storage/secrets-store.ts";
import * as subscriptions from "../src/storage/subscriptions-store.ts";
import * as system from "../src/storage/system-store.ts";
import * as executions from "../src/storage/task-executions-store.ts";
import * as tokens from "../src/storage/tokens-store.ts";
import { type AuditDraft, AuditScope, runInAuditScope } from "../src/support/audit-scope.ts";
import { PASSWORD, type PrivatePostgres, startPrivatePostgres } from "./support/private-postgres.ts";

let postgres: PrivatePostgres | undefined;
let folder: string;
let databases = 0;

before(async () => {
  folder = await mkdtemp(join(tmpdir(), "gofer-storage-"));
  postgres = await startPrivatePostgres();
});

after(async () => {
  await postgres?.stop();
  await rm(folder, { recursive: true, force: true });
});

interface Backend {
  name: "sqlite" | "postgres";
  /** A fresh, migrated, empty database. */
  open(): Promise<GoferDb>;
}

const BACKENDS: Backend[] = [
  {
    name: "sqlite",
    open: () => openDatabase(join(folder, `gofer-${++databases}.db`)),
  },
  {
    name: "postgres",
    open: async () => {
      const url = await (postgres as PrivatePostgres).createDatabase(`gofer_${++databases}`);
      return openDatabase({ storage_path: "", database_url: url });
    },
  },
];

// --- fixtures ---------------------------------------------------------------------------------------------

const NOW = 1_767_225_600_000; // epoch ms beyond 2^31: needs 64-bit integers

const task = (id: string, dependsOn: Record<string, "success"> = {}): Task => ({
  id,
  description: `task ${id}`,
  image: "busybox",
  registry_auth: null,
  depends_on: dependsOn,
  variables: [{ key: "K", value: "v", source: "pipeline_config" }],
  entrypoint: null,
  command: ["true"],
  inject_api_token: false,
  always_pull_newest_image: false,
});

async function pipeline(db: GoferDb, ns: string, id = "p"): Promise<void> {
  await namespaces.insertNamespace(db, { id: ns, name: ns, description: "", created: NOW, modified: NOW });
  await pipelines.upsertPipeline(db, ns, id, NOW);
}

const configOf = (ns: string, version: number, extra: Partial<PipelineConfig> = {}): PipelineConfig => ({
  namespace_id: ns,
  pipeline_id: "p",
  version,
  parallelism: 2,
  name: "P",
  description: "d",
  tasks: { a: task("a"), b: task("b", { a: "success" }) },
  state: "live",
  registered: NOW,
  deprecated: 0,
  ...extra,
});

const runOf = (ns: string, runId: number, extra: Partial<Run> = {}): Run => ({
  namespace_id: ns,
  pipeline_id: "p",
  pipeline_config_version: 1,
  run_id: runId,
  started: 0,
  ended: 0,
  state: "pending",
  status: "unknown",
  status_reason: null,
  initiator: { id: "t", user: "u" },
  variables: [],
  token_id: null,
  store_objects_expired: false,
  event_id: null,
  ...extra,
});

const executionOf = (ns: string, runId: number, taskId: string): executions.StoredTaskExecution => ({
  namespace_id: ns,
  pipeline_id: "p",
  run_id: runId,
  task_id: taskId,
  task: task(taskId),
  created: NOW,
  started: 0,
  ended: 0,
  exit_code: null,
  logs_expired: false,
  logs_removed: false,
  state: "processing",
  status: "unknown",
  status_reason: null,
  variables: [],
  attempt: 1,
  container_id: null,
  stop_requested: null,
  retry_at: null,
});

/** A pipeline with config 1 and `count` runs (ids 1..count), inserted the way the orchestrator does. */
async function pipelineWithRuns(db: GoferDb, ns: string, count: number, runExtra: Partial<Run> = {}) {
  await pipeline(db, ns);
  await configs.insertConfig(db, configOf(ns, 1), ["a", "b"]);
  for (let i = 0; i < count; i++) {
    await db.transaction().execute(async (tx) => {
      const runId = await runs.nextRunId(tx, ns, "p");
      await runs.insertRun(tx, runOf(ns, runId, runExtra), NOW + runId);
    });
  }
}

const key = (ns: string, runId: number) => ({ namespace_id: ns, pipeline_id: "p", run_id: runId });

// --- the suite ----------------------------------------------------------------------------------------------

for (const backend of BACKENDS) {
  describe(`storage conformance: ${backend.name}`, () => {
    let db: GoferDb;
    before(async () => {
      db = await backend.open();
    });
    after(async () => {
      await db?.destroy();
    });

    test("system row exists after migration, with a 16-hex instance id; bootstrap is claimed once", async () => {
      const state = await system.getSystemState(db);
      assert.match(state.instance_id, /^[0-9a-f]{16}$/);
      assert.equal(state.bootstrap_token_created, false);
      assert.equal(await system.claimBootstrap(db), true);
      assert.equal(await system.claimBootstrap(db), false);
      await system.setRunsPaused(db, true);
      assert.equal((await system.getSystemState(db)).ignore_pipeline_run_events, true);
      await system.setRunsPaused(db, false);
      assert.equal((await system.getSystemState(db)).ignore_pipeline_run_events, false);
    });

    test("namespaces: insert, duplicate refused with false, byte-wise ordering, update, lock, delete", async () => {
      const ns = (id: string) => ({ id, name: id, description: "", created: NOW, modified: NOW });
      for (const id of ["ns-b", "ns-a", "ns-Z", "ns_a", "ns-a-1"])
        assert.equal(await namespaces.insertNamespace(db, ns(id)), true);
      assert.equal(await namespaces.insertNamespace(db, ns("ns-a")), false);
      const ids = (await namespaces.listNamespaces(db)).map((n) => n.id).filter((id) => id.startsWith("ns"));
      // Byte order (as SQLite's BINARY collation): 'Z' < '_' < 'a', '-' < 'a'.
      assert.deepEqual(ids, ["ns-Z", "ns-a", "ns-a-1", "ns-b", "ns_a"]);
      const updated = await namespaces.updateNamespace(db, "ns-a", { name: "A", modified: NOW + 1 });
      assert.equal(updated?.name, "A");
      assert.equal(updated?.modified, NOW + 1);
      assert.equal(await namespaces.lockNamespace(db, "ns-a"), true);
      assert.equal(await namespaces.lockNamespace(db, "nope"), false);
      assert.equal(await namespaces.deleteNamespace(db, "ns-b"), true);
      assert.equal(await namespaces.deleteNamespace(db, "ns-b"), false);
      assert.equal(await namespaces.getNamespace(db, "ns-b"), undefined);
      assert.equal(await namespaces.getNamespace(db, "NS-A"), undefined, "ids compare case-sensitively");
    });

    test("pipelines: upsert keeps created, state, lock, delete cascades", async () => {
      await pipeline(db, "pl");
      await pipelines.upsertPipeline(db, "pl", "p", NOW + 5);
      const meta = await pipelines.getPipeline(db, "pl", "p");
      assert.equal(meta?.created, NOW);
      assert.equal(meta?.modified, NOW + 5);
      await pipelines.setPipelineState(db, "pl", "p", "disabled", NOW + 6);
      assert.equal((await pipelines.getPipeline(db, "pl", "p"))?.state, "disabled");
      assert.equal(await pipelines.lockPipeline(db, "pl", "p"), true);
      assert.equal(await pipelines.lockPipeline(db, "pl", "none"), false);
      await configs.insertConfig(db, configOf("pl", 1), ["a", "b"]);
      assert.equal(await pipelines.deletePipeline(db, "pl", "p"), true);
      assert.deepEqual(await configs.listConfigs(db, "pl", "p"), [], "configs cascade with the pipeline");
      assert.equal(await pipelines.deletePipeline(db, "pl", "p"), false);
    });

    test("configs: tasks in order, controls_json round-trips, live/latest, state changes, delete", async () => {
      await pipeline(db, "cf");
      await configs.insertConfig(db, configOf("cf", 1, { state: "deprecated", deprecated: NOW }), ["b", "a"]);
      const controls = {
        timeout: "5m",
        concurrency: { group: "deploy-main", cancel_in_progress: true },
        subscriptions: [
          { extension_id: "cron", subscription_id: "nightly", settings: { expr: "0 0 * * *" } },
        ],
      };
      await configs.insertConfig(db, configOf("cf", 2, controls), ["a", "b"]);
      const [v1, v2] = await configs
        .listConfigs(db, "cf", "p")
        .then((list) => [...list].sort((x, y) => x.version - y.version));
      assert.deepEqual(Object.keys(v1?.tasks ?? {}), ["b", "a"], "task order kept");
      assert.equal(v1?.timeout, undefined, "a v0 config has no controls");
      assert.deepEqual(
        { timeout: v2?.timeout, concurrency: v2?.concurrency, subscriptions: v2?.subscriptions },
        controls,
      );
      assert.deepEqual(v2?.tasks.b, task("b", { a: "success" }));
      assert.equal((await configs.getLiveConfig(db, "cf", "p"))?.version, 2);
      assert.equal(await configs.latestVersion(db, "cf", "p"), 2);
      assert.equal(await configs.latestVersion(db, "cf", "none"), 0);
      await configs.setConfigState(db, "cf", "p", 2, "deprecated", NOW + 1);
      assert.equal((await configs.getConfig(db, "cf", "p", 2))?.deprecated, NOW + 1);
      assert.equal(await configs.getLiveConfig(db, "cf", "p"), undefined);
      assert.equal(await configs.configHasUnfinishedRuns(db, "cf", "p", 2), false);
      await configs.deleteConfig(db, "cf", "p", 1);
      assert.equal(await configs.getConfig(db, "cf", "p", 1), undefined);
    });

    test("deployments: next id counts up, insert, list, get", async () => {
      await pipeline(db, "dp");
      assert.equal(await deployments.nextDeploymentId(db, "dp", "p"), 1);
      const deployment: Deployment = {
        namespace_id: "dp",
        pipeline_id: "p",
        deployment_id: 1,
        start_version: 1,
        end_version: 2,
        started: NOW,
        ended: NOW + 10,
        state: "Complete",
        status: "Successful",
        status_reason: { reason: "Unknown", description: "done" },
        logs: [],
      };
      await deployments.insertDeployment(db, deployment);
      await deployments.insertDeployment(db, { ...deployment, deployment_id: 2, status_reason: null });
      assert.equal(await deployments.nextDeploymentId(db, "dp", "p"), 3);
      assert.deepEqual(await deployments.getDeployment(db, "dp", "p", 1), deployment);
      assert.deepEqual(
        (await deployments.listDeployments(db, "dp", "p")).map((d) => d.deployment_id).sort(),
        [1, 2],
      );
    });

    test("runs: ids from the counter, never reused; seq orders the queue; state changes are conditional", async () => {
      await pipelineWithRuns(db, "rn", 3);
      const all = await runs.listRuns(db, "rn", "p", { limit: 10, offset: 0, reverse: false });
      assert.deepEqual(
        all.map((r) => r.run_id),
        [1, 2, 3],
      );
      assert.equal(typeof all[0]?.seq, "number");
      assert.ok((all[0]?.seq ?? 0) < (all[1]?.seq ?? 0) && (all[1]?.seq ?? 0) < (all[2]?.seq ?? 0));
      assert.deepEqual(
        (await runs.listRuns(db, "rn", "p", { limit: 2, offset: 0, reverse: true })).map((r) => r.run_id),
        [3, 2],
      );
      const queued = (await runs.listQueuedRuns(db)).filter((r) => r.namespace_id === "rn");
      assert.deepEqual(
        queued.map((r) => [r.run_id, r.parallelism, r.cancel_requested]),
        [
          [1, 2, false],
          [2, 2, false],
          [3, 2, false],
        ],
      );
      assert.equal(await runs.markRunRunning(db, key("rn", 1), NOW + 100), true);
      assert.equal(await runs.markRunRunning(db, key("rn", 1), NOW + 100), false, "no longer pending");
      assert.equal((await runs.countRunningRuns(db)).get("rn/p"), 1);
      assert.equal(await runs.countUnfinishedRuns(db, "rn"), 3);
      assert.equal(await runs.countUnfinishedRuns(db, "rn", "p"), 3);
      assert.equal(await configs.configHasUnfinishedRuns(db, "rn", "p", 1), true);
      assert.equal(await runs.markRunCancelRequested(db, key("rn", 2)), true);
      assert.equal(await runs.markRunCancelRequested(db, key("rn", 2)), false, "cancel announced once");
      assert.equal(
        await runs.markRunRunning(db, key("rn", 2), NOW),
        false,
        "a cancelled run is not admitted",
      );
      assert.equal(await runs.requeueRun(db, key("rn", 1)), false, "a running run is not requeued");
      const reason = { reason: "abnormal_exit" as const, description: "exit 1" };
      assert.equal(await runs.completeRun(db, key("rn", 1), "failed", reason, NOW + 200), true);
      const done = await runs.getRun(db, "rn", "p", 1);
      assert.equal(done?.state, "complete");
      assert.equal(done?.ended, NOW + 200);
      assert.deepEqual(done?.status_reason, reason);
      assert.equal(await runs.requeueRun(db, key("rn", 1)), true);
      assert.equal(await runs.requeueRun(db, key("rn", 1)), false, "a second retry finds it pending");
      const again = await runs.getRun(db, "rn", "p", 1);
      assert.deepEqual(
        [again?.state, again?.status, again?.retries, again?.ended],
        ["pending", "unknown", 1, 0],
      );
      assert.equal(runs.publicRun(again as runs.StoredRun).retries, 1);
      await runs.setRunTokenId(db, key("rn", 1), "tok");
      assert.equal((await runs.getRun(db, "rn", "p", 1))?.token_id, "tok");
      // Unfinished runs come back in arrival (seq) order.
      assert.deepEqual(
        (await runs.listUnfinishedRuns(db)).filter((r) => r.namespace_id === "rn").map((r) => r.run_id),
        [1, 2, 3],
      );
      // Ids are never handed out twice, even after the newest run is deleted.
      await db.deleteFrom("runs").where("namespace_id", "=", "rn").where("run_id", "=", 3).execute();
      assert.equal(await runs.nextRunId(db, "rn", "p"), 4);
    });

    test("runs: concurrency groups and timeouts", async () => {
      await pipeline(db, "cg");
      await configs.insertConfig(db, configOf("cg", 1), ["a", "b"]);
      for (const [runId, group] of [
        [1, "g1"],
        [2, "g1"],
        [3, null],
        [4, "g2"],
      ] as const) {
        await runs.insertRun(db, runOf("cg", runId), NOW, { concurrency_group: group, timeout_ms: 60_000 });
      }
      await runs.markRunRunning(db, key("cg", 1), NOW);
      await runs.markRunRunning(db, key("cg", 3), NOW);
      await runs.markRunRunning(db, key("cg", 4), NOW);
      const byGroup = (await runs.countRunningRunsByGroup(db))
        .filter((g) => g.namespace_id === "cg")
        .sort((a, b) => a.concurrency_group.localeCompare(b.concurrency_group));
      assert.deepEqual(byGroup, [
        { namespace_id: "cg", concurrency_group: "g1", running: 1 },
        { namespace_id: "cg", concurrency_group: "g2", running: 1 },
      ]);
      const cancellable = await runs.listCancellableRunsOfGroup(db, "cg", "g1");
      assert.deepEqual(
        cancellable.map((r) => r.run_id),
        [1, 2],
        "oldest first",
      );
      assert.equal(cancellable[0]?.timeout_ms, 60_000);
      assert.equal(cancellable[0]?.concurrency_group, "g1");
      const reason = { reason: "superseded" as const, description: "newer run" };
      assert.equal(await runs.markRunSuperseded(db, key("cg", 1), reason), true);
      assert.equal(await runs.markRunSuperseded(db, key("cg", 1), reason), false);
      assert.deepEqual(
        (await runs.listCancellableRunsOfGroup(db, "cg", "g1")).map((r) => r.run_id),
        [2],
      );
      const queued = (await runs.listQueuedRuns(db)).filter((r) => r.namespace_id === "cg");
      assert.deepEqual(
        queued.map((r) => [r.run_id, r.concurrency_group]),
        [[2, "g1"]],
      );
    });

    test("runs: admission reads each pipeline's oldest ungrouped runs and each group's oldest run", async () => {
      await pipeline(db, "aq");
      await configs.insertConfig(db, configOf("aq", 1), ["a", "b"]);
      for (const [runId, group] of [
        [1, "g1"],
        [2, null],
        [3, "g1"],
        [4, null],
        [5, "g2"],
        [6, null],
        [7, "g2"],
      ] as const) {
        await runs.insertRun(db, runOf("aq", runId), NOW + runId, { concurrency_group: group });
      }
      await runs.markRunRunning(db, key("aq", 2), NOW);
      await runs.markRunCancelRequested(db, key("aq", 5));
      await runs.markRunCancelRequested(db, key("aq", 4));
      const pipelines = (await runs.listPipelinesWithPendingRuns(db)).filter((p) => p.namespace_id === "aq");
      assert.deepEqual(
        pipelines.map((p) => [p.namespace_id, p.pipeline_id]),
        [["aq", "p"]],
      );
      assert.deepEqual(
        (await runs.listPendingUngroupedRuns(db, "aq", "p", 5)).map((r) => r.run_id),
        [6],
        "running and cancelled runs left out",
      );
      await runs.insertRun(db, runOf("aq", 8), NOW + 8);
      assert.deepEqual(
        (await runs.listPendingUngroupedRuns(db, "aq", "p", 1)).map((r) => r.run_id),
        [6],
        "oldest first, at most the limit",
      );
      const heads = (await runs.listPendingGroupHeads(db)).filter((r) => r.namespace_id === "aq");
      assert.deepEqual(
        heads.map((r) => [r.run_id, r.concurrency_group]),
        [
          [1, "g1"],
          [7, "g2"],
        ],
        "a group's cancelled oldest run is passed over",
      );
      assert.deepEqual(
        (await runs.listCancelledQueuedRuns(db)).filter((r) => r.namespace_id === "aq").map((r) => r.run_id),
        [4, 5],
      );
      assert.equal(await runs.pipelineParallelismBound(db, "aq", "p", 10), 2, "the config's parallelism");
      await configs.insertConfig(db, configOf("aq", 2, { parallelism: 0 }), ["a", "b"]);
      assert.equal(
        await runs.pipelineParallelismBound(db, "aq", "p", 10),
        10,
        "a config with parallelism 0: the server default",
      );
    });

    test("task executions: insert, ordered list, update, attempts archived in order", async () => {
      await pipelineWithRuns(db, "te", 1);
      await executions.insertTaskExecutions(db, [executionOf("te", 1, "b"), executionOf("te", 1, "a")]);
      assert.deepEqual(
        (await executions.listTaskExecutions(db, "te", "p", 1)).map((e) => e.task_id),
        ["a", "b"],
        "created, then task id",
      );
      const k = { ...key("te", 1), task_id: "a" };
      await executions.updateTaskExecution(db, k, {
        state: "complete",
        status: "failed",
        status_reason: { reason: "abnormal_exit", description: "exit 2" },
        started: NOW + 1,
        ended: NOW + 2,
        exit_code: 2,
        container_id: "c1",
        variables: [{ key: "X", value: "y", source: "system" }],
        logs_removed: true,
      });
      const failed = await executions.getTaskExecution(db, k);
      assert.deepEqual(
        [
          failed?.exit_code,
          failed?.container_id,
          failed?.logs_removed,
          failed?.logs_expired,
          failed?.variables,
        ],
        [2, "c1", true, false, [{ key: "X", value: "y", source: "system" }]],
      );
      await db
        .transaction()
        .execute((tx) =>
          executions.archiveAttempt(tx, failed as executions.StoredTaskExecution, NOW + 3, NOW + 1000),
        );
      const second = await executions.getTaskExecution(db, k);
      assert.deepEqual(
        [second?.attempt, second?.state, second?.retry_at, second?.exit_code],
        [2, "waiting", NOW + 1000, null],
      );
      assert.equal(
        executions.publicTaskExecution(second as executions.StoredTaskExecution).retry_at,
        NOW + 1000,
      );
      await db.transaction().execute(async (tx) => {
        await executions.archiveAttempt(
          tx,
          { ...(second as executions.StoredTaskExecution), status: "failed" },
          NOW + 4,
          null,
        );
      });
      const attempts = await executions.listTaskAttempts(db, k);
      assert.deepEqual(
        attempts.map((a) => [a.attempt, a.ended, a.exit_code, a.status]),
        [
          [1, NOW + 3, 2, "failed"],
          [2, NOW + 4, null, "failed"],
        ],
      );
      assert.deepEqual(attempts[0]?.status_reason, { reason: "abnormal_exit", description: "exit 2" });
      assert.equal((await executions.getTaskExecution(db, k))?.attempt, 3);
    });

    test("transactions roll back every write when the work throws", async () => {
      await pipeline(db, "tx");
      await assert.rejects(
        db.transaction().execute(async (tx) => {
          await configs.insertConfig(tx, configOf("tx", 1), ["a", "b"]);
          await runs.nextRunId(tx, "tx", "p");
          await events.insertEvent(tx, "created_namespace", { namespace_id: "tx" }, NOW);
          throw new Error("boom");
        }),
        /boom/,
      );
      assert.deepEqual(await configs.listConfigs(db, "tx", "p"), []);
      assert.equal(await runs.nextRunId(db, "tx", "p"), 1, "the counter was given back");
      // A constraint violation inside a transaction fails it whole too.
      await assert.rejects(
        db.transaction().execute(async (tx) => {
          await configs.insertConfig(tx, configOf("tx", 2), ["a", "b"]);
          await configs.insertConfig(tx, configOf("tx", 2), ["a", "b"]);
        }),
      );
      assert.deepEqual(await configs.listConfigs(db, "tx", "p"), []);
      assert.equal(
        await db.selectFrom("events").select("id").where("details_json", "like", '%"tx"%').executeTakeFirst(),
        undefined,
      );
    });

    test("events: generated ids increase; paging forwards and back; pruning by age", async () => {
      const inserted = [];
      for (let i = 0; i < 5; i++) {
        inserted.push(await events.insertEvent(db, "created_namespace", { namespace_id: `ev${i}` }, NOW + i));
      }
      const ids = inserted.map((e) => Number(e.id));
      assert.ok(ids.every((id, i) => i === 0 || id > (ids[i - 1] as number)));
      const first = ids[0] as number;
      const page = await events.pageEvents(db, { afterId: first, limit: 2, reverse: false });
      assert.deepEqual(
        page.map((e) => Number(e.id)),
        ids.slice(1, 3),
      );
      assert.deepEqual(page[0]?.kind, { created_namespace: { namespace_id: "ev1" } });
      assert.equal(page[0]?.emitted, NOW + 1);
      const back = await events.pageEvents(db, { beforeId: ids[4], limit: 2, reverse: true });
      assert.deepEqual(
        back.map((e) => Number(e.id)),
        [ids[3], ids[2]],
      );
      assert.equal((await events.getEvent(db, ids[2] as number))?.id, String(ids[2]));
      assert.equal(await events.deleteEvent(db, ids[2] as number), true);
      assert.equal(await events.deleteEvent(db, ids[2] as number), false);
      const before = (await events.pageEvents(db, { limit: 1000, reverse: false })).filter(
        (e) => e.emitted < NOW + 2,
      );
      assert.equal(await events.deleteEventsEmittedBefore(db, NOW + 2, 1), 1, "bounded by the limit");
      assert.equal(await events.deleteEventsEmittedBefore(db, NOW + 2, 100), before.length - 1);
      const next = await events.insertEvent(db, "created_namespace", { namespace_id: "ev5" }, NOW);
      assert.ok(Number(next.id) > (ids[4] as number), "ids are never reused");
    });

    test("tokens: insert, unique hash, disable, delete, expiry and retired run tokens", async () => {
      const token = (id: string, user: string, expires = 0) => ({
        id,
        created: NOW,
        metadata: { why: id },
        expires,
        disabled: false,
        user,
        roles: ["admin"],
      });
      await tokens.insertToken(db, token("t1", "alice"), "h1");
      await assert.rejects(tokens.insertToken(db, token("t2", "bob"), "h1"), "the hash is unique");
      await tokens.insertToken(db, token("t2", "bob", NOW - 1), "h2");
      assert.deepEqual(await tokens.findTokenByHash(db, "h1"), token("t1", "alice"));
      assert.equal(await tokens.setTokenDisabled(db, "t1", true), true);
      assert.equal((await tokens.getToken(db, "t1"))?.disabled, true);
      assert.equal(await tokens.setTokenDisabled(db, "none", true), false);
      assert.equal(await tokens.deleteExpiredTokens(db, NOW), 1);
      assert.equal(await tokens.getToken(db, "t2"), undefined);
      await pipelineWithRuns(db, "tk", 2);
      await tokens.insertToken(db, token("r1", "run:tk/p/1"), "hr1");
      await tokens.insertToken(db, token("r9", "run:tk/p/9"), "hr9");
      await tokens.insertToken(db, token("RUN", "RUN:tk/p/9"), "hR"); // not a run token: the prefix is exact
      assert.equal(await tokens.deleteRetiredRunTokens(db, "run:"), 1);
      assert.deepEqual(
        (await tokens.listTokens(db)).map((t) => t.id),
        ["RUN", "r1", "t1"],
        "by created, then id (byte order)",
      );
      assert.equal(await tokens.deleteToken(db, "t1"), true);
      assert.equal(await tokens.deleteToken(db, "t1"), false);
    });

    test("roles: insert refuses duplicates, system upsert, update, delete, ordered", async () => {
      const role = (id: string, system = false) => ({
        id,
        description: id,
        permissions: [{ resources: ["namespaces:.*"], actions: ["read" as const] }],
        system_role: system,
      });
      assert.equal(await roles.insertRole(db, role("zed")), true);
      assert.equal(await roles.insertRole(db, role("zed")), false);
      await roles.upsertSystemRoles(db, [role("admin", true), role("user", true)]);
      await roles.upsertSystemRoles(db, [{ ...role("admin", true), description: "changed" }]);
      assert.equal((await roles.getRole(db, "admin"))?.description, "changed");
      assert.equal((await roles.getRole(db, "admin"))?.system_role, true);
      await roles.updateRole(db, { ...role("zed"), description: "new" });
      assert.deepEqual(
        (await roles.getRoles(db, ["zed", "none"])).map((r) => r.description),
        ["new"],
      );
      assert.deepEqual(
        (await roles.listRoles(db)).map((r) => r.id),
        ["admin", "user", "zed"],
      );
      await roles.deleteRole(db, "zed");
      assert.equal(await roles.getRole(db, "zed"), undefined);
    });

    test("secrets: binary values round-trip; put without replace refuses; key check upserts", async () => {
      await pipeline(db, "sc");
      const value = Uint8Array.from([0, 1, 2, 255, 0, 128]);
      const row = { namespace_id: "sc", pipeline_id: "p", key: "K", created: NOW, value };
      assert.equal(await secrets.putPipelineSecretRow(db, row, false), true);
      assert.equal(await secrets.putPipelineSecretRow(db, { ...row, created: NOW + 1 }, false), false);
      assert.equal(await secrets.putPipelineSecretRow(db, { ...row, created: NOW + 2 }, true), true);
      const stored = await secrets.getPipelineSecretRow(db, "sc", "p", "K");
      assert.equal(stored?.created, NOW + 2);
      assert.ok(stored && Buffer.from(stored.value).equals(Buffer.from(value)));
      assert.deepEqual(
        (await secrets.listPipelineSecretKeys(db, "sc", "p")).map((r) => ({ ...r })),
        [{ key: "K", created: NOW + 2 }],
      );
      const global = { key: "G", namespaces: ["sc.*"], created: NOW, value };
      assert.equal(await secrets.putGlobalSecretRow(db, global, false), true);
      assert.equal(await secrets.putGlobalSecretRow(db, global, false), false);
      assert.deepEqual(await secrets.listGlobalSecretKeys(db), [
        { key: "G", namespaces: ["sc.*"], created: NOW },
      ]);
      await secrets.setGlobalSecretValue(db, "G", Uint8Array.from([9]));
      assert.deepEqual([...((await secrets.getGlobalSecretRow(db, "G"))?.value ?? [])], [9]);
      await secrets.setPipelineSecretValue(db, { ...row, value: Uint8Array.from([7]) });
      const all = await secrets.listAllSecretValues(db);
      assert.deepEqual([all.pipeline.length, all.global.length], [1, 1]);
      assert.equal(await secrets.getKeyCheck(db), undefined);
      await secrets.setKeyCheck(db, Uint8Array.from([1]));
      await secrets.setKeyCheck(db, Uint8Array.from([2]));
      assert.deepEqual([...((await secrets.getKeyCheck(db)) ?? [])], [2]);
      assert.equal(await secrets.deletePipelineSecretRow(db, "sc", "p", "K"), true);
      assert.equal(await secrets.deleteGlobalSecretRow(db, "G"), true);
      assert.equal(await secrets.deleteGlobalSecretRow(db, "G"), false);
    });

    test("objects: insertion order (an overwrite is newest), trim, expiry, cascades", async () => {
      await pipelineWithRuns(db, "ob", 3);
      const scope: objects.ObjectScope = { kind: "pipeline", namespace_id: "ob", pipeline_id: "p" };
      const row = (k: string, file = `${k}.bin`) => ({ key: k, file, size: 10, created: NOW });
      for (const k of ["b", "a", "c"]) await objects.replaceObjectRow(db, scope, row(k));
      const previous = await objects.replaceObjectRow(db, scope, row("b", "b2.bin"));
      assert.equal(previous?.file, "b.bin");
      assert.deepEqual(
        (await objects.listObjectRows(db, scope)).map((r) => r.key),
        ["a", "c", "b"],
      );
      assert.deepEqual(
        (await objects.trimObjectRows(db, scope, 2)).map((r) => r.key),
        ["a"],
      );
      assert.equal(await objects.deleteObjectRow(db, scope, "c"), true);
      assert.equal(await objects.deleteObjectRow(db, scope, "c"), false);
      const runScope: objects.ObjectScope = { kind: "run", namespace_id: "ob", pipeline_id: "p", run_id: 1 };
      await objects.replaceObjectRow(db, runScope, row("r", "r.bin"));
      const ext: objects.ObjectScope = { kind: "extension", extension_id: "cron" };
      await objects.replaceObjectRow(db, ext, row("e", "e.bin"));
      assert.deepEqual({ ...(await objects.getObjectRow(db, ext, "e")) }, row("e", "e.bin"));
      for (const id of [1, 2]) await runs.completeRun(db, key("ob", id), "successful", null, NOW);
      assert.deepEqual(await objects.listRunsToExpire(db, "ob", "p", 2), [1]);
      assert.deepEqual(
        (await objects.expireRunObjectRows(db, "ob", "p", 1)).map((r) => r.key),
        ["r"],
      );
      assert.equal((await runs.getRun(db, "ob", "p", 1))?.store_objects_expired, true);
      assert.deepEqual(await objects.listRunsToExpire(db, "ob", "p", 2), []);
      const files = await objects.listObjectFiles(db);
      assert.ok(files.has("b2.bin") && files.has("e.bin") && !files.has("r.bin"));
      await objects.replaceObjectRow(db, { ...runScope, run_id: 2 }, row("r2", "r2.bin"));
      await db.deleteFrom("runs").where("namespace_id", "=", "ob").where("run_id", "=", 2).execute();
      assert.equal(
        await objects.getObjectRow(db, { ...runScope, run_id: 2 }, "r2"),
        undefined,
        "run objects cascade",
      );
      await objects.deleteOwnerRows(db, ext);
      assert.deepEqual(await objects.listObjectRows(db, ext), []);
    });

    test("extensions and subscriptions: duplicates refused, status, cascades from both parents", async () => {
      await pipeline(db, "sb");
      const extension: extensions.StoredExtension = {
        extension_id: "cron",
        image: "gofer/cron",
        registry_auth: { user: "u", pass: "p" },
        settings: { a: "b" },
        additional_roles: [],
        status: "enabled",
        token_id: null,
        created: NOW,
        modified: NOW,
      };
      assert.equal(await extensions.insertExtension(db, extension), true);
      assert.equal(await extensions.insertExtension(db, extension), false);
      await extensions.updateExtension(db, "cron", { status: "disabled", token_id: "tok" });
      const updated = await extensions.getExtension(db, "cron");
      assert.deepEqual(
        { ...updated, modified: 0 },
        { ...extension, status: "disabled", token_id: "tok", modified: 0 },
      );
      assert.ok((updated?.modified ?? 0) >= NOW, "modified moves to now");
      const sub = {
        namespace_id: "sb",
        pipeline_id: "p",
        extension_id: "cron",
        subscription_id: "nightly",
        settings: { expr: "* * * * *" },
        status: "active" as const,
        status_reason: null,
      };
      assert.equal(await subscriptions.insertSubscription(db, sub), true);
      assert.equal(await subscriptions.insertSubscription(db, sub), false);
      await subscriptions.insertSubscription(db, {
        ...sub,
        subscription_id: "declared",
        declared_by_version: 3,
      });
      const k = { namespace_id: "sb", pipeline_id: "p", extension_id: "cron", subscription_id: "nightly" };
      await subscriptions.markSubscriptionFailed(db, k, "bad");
      assert.equal((await subscriptions.getSubscription(db, k))?.status, "error");
      await subscriptions.reviveSubscription(db, k);
      assert.deepEqual(await subscriptions.getSubscription(db, k), sub);
      assert.equal(
        (await subscriptions.getSubscription(db, { ...k, subscription_id: "declared" }))?.declared_by_version,
        3,
      );
      assert.equal((await subscriptions.listPipelineSubscriptions(db, "sb", "p")).length, 2);
      await extensions.deleteExtension(db, "cron");
      assert.deepEqual(
        await subscriptions.listExtensionSubscriptions(db, "cron"),
        [],
        "cascaded with the extension",
      );
      assert.deepEqual(await extensions.listExtensions(db), []);
    });

    test("notifications: targets by owner, sealed bytes, one delivery per event, progress, cascades", async () => {
      await pipeline(db, "nt");
      await pipelines.upsertPipeline(db, "nt", "q", NOW);
      const target = (id: string, pipelineId: string | null, state: "enabled" | "disabled" = "enabled") => ({
        notification: {
          notification_id: id,
          namespace_id: "nt",
          pipeline_id: pipelineId,
          url_origin: "https://hooks.example",
          format: "json" as const,
          events: ["run_failed" as const],
          description: "",
          signed: true,
          state,
          state_reason: null,
          failures_in_a_row: 0,
          created: NOW,
          modified: NOW,
        },
        urlSealed: new Uint8Array([0, 1, 2, 255]),
        secretSealed: new Uint8Array([9, 8]),
      });
      await notifications.insertNotificationTarget(db, target("n1", null));
      await notifications.insertNotificationTarget(db, target("n2", "p"));
      await notifications.insertNotificationTarget(db, target("n3", "q"));
      await notifications.insertNotificationTarget(db, target("n4", "p", "disabled"));
      const stored = await notifications.getNotificationTarget(db, "n2");
      assert.deepEqual([...(stored?.urlSealed ?? [])], [0, 1, 2, 255]);
      assert.deepEqual([...(stored?.secretSealed ?? [])], [9, 8]);
      assert.deepEqual(
        (await notifications.listNotificationTargets(db, "nt", null)).map((n) => n.notification_id),
        ["n1"],
      );
      assert.deepEqual(
        (await notifications.listNotificationTargets(db, "nt", "p")).map((n) => n.notification_id),
        ["n2", "n4"],
      );
      assert.deepEqual(
        (await notifications.listEnabledTargetsFor(db, "nt", "p")).map((n) => n.notification_id),
        ["n1", "n2"],
        "the namespace's and the pipeline's enabled targets",
      );
      assert.equal(await notifications.countTargetFailure(db, "n2"), 1);
      assert.equal(await notifications.countTargetFailure(db, "n2"), 2);
      assert.equal(await notifications.countTargetFailure(db, "gone"), undefined);
      const reason = { reason: "failing" as const, description: "kept failing" };
      assert.equal(await notifications.disableFailingTarget(db, "n2", reason, NOW + 1), true);
      assert.equal(await notifications.disableFailingTarget(db, "n2", reason, NOW + 2), false);
      await notifications.setNotificationTargetState(db, "n2", "enabled", null, NOW + 3);
      const enabled = (await notifications.getNotificationTarget(db, "n2"))?.notification;
      assert.deepEqual(
        [enabled?.state, enabled?.failures_in_a_row, enabled?.state_reason],
        ["enabled", 0, null],
      );

      const delivery = (id: string, eventId: number | null) => ({
        delivery: {
          delivery_id: id,
          notification_id: "n2",
          event: "run_failed" as const,
          event_id: eventId === null ? null : String(eventId),
          pipeline_id: "p",
          run_id: 1,
          task_execution_id: null,
          state: "pending" as const,
          state_reason: null,
          attempts: [],
          next_attempt: NOW,
          created: NOW,
          completed: 0,
        },
        payload: {
          event: "run_failed" as const,
          delivery_id: id,
          notification_id: "n2",
          event_id: eventId === null ? null : String(eventId),
          emitted: NOW,
          namespace_id: "nt",
          pipeline_id: "p",
          run_id: 1,
          status: "failed",
          status_reason: null,
          run_url: null,
        },
      });
      assert.equal(await notifications.insertDelivery(db, delivery("d1", 7)), true);
      assert.equal(
        await notifications.insertDelivery(db, delivery("d2", 7)),
        false,
        "one per target and event",
      );
      assert.equal(await notifications.insertDelivery(db, delivery("d3", null)), true);
      assert.equal(await notifications.insertDelivery(db, delivery("d4", null)), true, "tests have no event");
      const attempt = {
        attempt: 1,
        started: NOW,
        duration_ms: 5,
        response_status: 200,
        response_body: "ok",
        error: null,
      };
      const done = { attempts: [attempt], state_reason: null, next_attempt: 0, completed: NOW + 1 };
      assert.equal(
        await notifications.recordDeliveryAttempt(db, "d1", { ...done, state: "succeeded" }),
        true,
      );
      assert.equal(await notifications.recordDeliveryAttempt(db, "d1", { ...done, state: "failed" }), false);
      assert.deepEqual(
        (await notifications.listPendingDeliveries(db)).map((d) => d.delivery_id),
        ["d3", "d4"],
      );
      const [newest] = await notifications.listDeliveries(db, "n2", 1);
      assert.equal(newest?.delivery_id, "d4");
      assert.deepEqual((await notifications.getDelivery(db, "d1"))?.delivery.attempts, [attempt]);
      await notifications.recordDeliveryAttempt(db, "d3", { ...done, state: "failed" });
      await notifications.pruneDeliveries(db, "n2", 1);
      assert.deepEqual(
        (await notifications.listDeliveries(db, "n2", 10)).map((d) => d.delivery_id),
        ["d4"],
        "the newest kept; finished older ones go",
      );

      assert.equal(await notifications.getNotificationProgress(db), undefined);
      await notifications.advanceNotificationProgress(db, 10);
      await notifications.advanceNotificationProgress(db, 5);
      assert.equal(await notifications.getNotificationProgress(db), 10, "never moves back");

      await pipelines.deletePipeline(db, "nt", "p");
      assert.equal(await notifications.getNotificationTarget(db, "n2"), undefined, "gone with its pipeline");
      assert.equal(await notifications.getDelivery(db, "d4"), undefined, "deliveries with their target");
      assert.ok(await notifications.getNotificationTarget(db, "n1"), "the namespace's target stays");
      await namespaces.deleteNamespace(db, "nt");
      assert.equal(await notifications.getNotificationTarget(db, "n1"), undefined);
    });

    test("retention: past-retention runs, pruning in one transaction, versions kept for runs", async () => {
      await pipelineWithRuns(db, "rt", 5);
      await configs.insertConfig(db, configOf("rt", 2, { state: "deprecated" }), ["a"]);
      await configs.insertConfig(db, configOf("rt", 3), ["a"]);
      await configs.setConfigState(db, "rt", "p", 1, "deprecated");
      for (let id = 1; id <= 5; id++) {
        await executions.insertTaskExecutions(db, [{ ...executionOf("rt", id, "a"), state: "complete" }]);
        if (id !== 5) await runs.completeRun(db, key("rt", id), "successful", null, NOW);
      }
      assert.ok((await retention.listPipelineKeys(db)).some((p) => p.namespace_id === "rt"));
      const past = await retention.listRunsPastRetention(db, { namespace_id: "rt", pipeline_id: "p" }, 2, 10);
      assert.deepEqual(past, [
        { run_id: 1, store_objects_expired: false },
        { run_id: 2, store_objects_expired: false },
      ]);
      await retention.closeRunObjects(db, { namespace_id: "rt", pipeline_id: "p" }, [1, 2]);
      const pruned = await retention.prunePipelineRows(db, { namespace_id: "rt", pipeline_id: "p" }, [1, 2], {
        taskLogs: 2,
        configVersions: 1,
        batch: 10,
      });
      assert.deepEqual(pruned.deletedRuns.sort(), [1, 2]);
      assert.deepEqual(pruned.expiredLogRuns, [3]);
      assert.deepEqual(pruned.logs.map((l) => `${l.run_id}/${l.task_id}`).sort(), ["1/a", "2/a", "3/a"]);
      assert.deepEqual(pruned.deletedVersions, [2], "version 1 is kept for the stored runs, 3 is live");
      assert.deepEqual(
        (await runs.listRuns(db, "rt", "p", { limit: 10, offset: 0, reverse: false })).map((r) => r.run_id),
        [3, 4, 5],
      );
      assert.equal(
        (await executions.getTaskExecution(db, { ...key("rt", 3), task_id: "a" }))?.logs_expired,
        true,
      );
    });

    test("audit: a call's row commits with its first write or not at all, never for reads; filters; pruning", async () => {
      const draft = (request_id: string, extra: Partial<AuditDraft> = {}): AuditDraft => ({
        request_id,
        token_id: "t1",
        user: "alice",
        method: "POST",
        operation: "create_namespace",
        route: "/api/namespaces",
        target: "namespaces",
        client_address: "127.0.0.1",
        forwarded_for: null,
        forwarded_by: null,
        success_status: 201,
        ...extra,
      });
      const requestIds = async () =>
        (await audit.listAuditRecords(db, { limit: 1000 })).map((row) => row.request_id).sort();
      const ns = (id: string) => ({ id, name: id, description: "", created: NOW, modified: NOW });

      // The first committed write carries the row; later transactions and single statements of the call add none.
      const first = new AuditScope(draft("call-1"));
      await runInAuditScope(first, async () => {
        await db.transaction().execute((tx) => namespaces.insertNamespace(tx, ns("au-1")));
        await namespaces.insertNamespace(db, ns("au-2"));
        await db.transaction().execute((tx) => namespaces.updateNamespace(tx, "au-1", { modified: NOW + 1 }));
      });
      assert.ok(first.written);
      const [row] = await audit.listAuditRecords(db, { limit: 10 });
      assert.deepEqual(
        [row?.request_id, row?.outcome, row?.status, row?.error_code, row?.user, row?.token_id, row?.target],
        ["call-1", "succeeded", 201, null, "alice", "t1", "namespaces"],
      );

      // A rolled-back transaction leaves no row; a single statement after it is made one transaction with the row.
      const second = new AuditScope(draft("call-2"));
      await runInAuditScope(second, async () => {
        await assert.rejects(
          db.transaction().execute(async (tx) => {
            await namespaces.insertNamespace(tx, ns("au-3"));
            throw new Error("changed my mind");
          }),
        );
        assert.deepEqual(await requestIds(), ["call-1"]);
        await namespaces.insertNamespace(db, ns("au-4"));
      });
      assert.deepEqual(await requestIds(), ["call-1", "call-2"]);

      // A row that cannot be written (its request id is taken) undoes the write it came with.
      const clash = new AuditScope(draft("call-1"));
      await runInAuditScope(clash, async () => {
        await assert.rejects(namespaces.insertNamespace(db, ns("au-5")));
        await assert.rejects(db.transaction().execute((tx) => namespaces.insertNamespace(tx, ns("au-6"))));
      });
      assert.equal(await namespaces.getNamespace(db, "au-5"), undefined);
      assert.equal(await namespaces.getNamespace(db, "au-6"), undefined);
      assert.ok(clash.open, "the next write of the call may still carry the row");

      // Reads write nothing, nor writes after the call ended, nor writes outside any call.
      const reads = new AuditScope(draft("call-3"));
      await runInAuditScope(reads, async () => {
        await namespaces.getNamespace(db, "au-1");
        await db.transaction().execute((tx) => namespaces.listNamespaces(tx));
      });
      reads.close();
      await runInAuditScope(reads, () => namespaces.insertNamespace(db, ns("au-7")));
      await namespaces.insertNamespace(db, ns("au-8"));
      assert.ok(await namespaces.getNamespace(db, "au-7"));
      assert.deepEqual(await requestIds(), ["call-1", "call-2"]);

      const outcome = { outcome: "failed" as const, status: 404, error_code: "NOT_FOUND" };
      const rows: [string, string, string, number][] = [
        ["f-1", "bob", "namespaces/a", NOW + 1],
        ["f-2", "alice", "namespaces/a/pipelines/p", NOW + 2],
        ["f-3", "bob", "namespaces/a-b", NOW + 3],
        ["f-4", "bob", "namespaces/b", NOW + 4],
      ];
      for (const [id, user, target, time] of rows)
        await audit.insertAuditRecord(db, audit.auditRow(draft(id, { user, target }), outcome, time));
      const ids = async (filter: Partial<audit.AuditFilter>) =>
        (await audit.listAuditRecords(db, { limit: 1000, ...filter }))
          .map((item) => item.request_id)
          .filter((id) => id.startsWith("f-"));
      assert.deepEqual(await ids({}), ["f-4", "f-3", "f-2", "f-1"], "newest first");
      assert.deepEqual(
        await ids({ target: "namespaces/a" }),
        ["f-2", "f-1"],
        "below the target, not beside it",
      );
      assert.deepEqual(await ids({ target: "namespaces/a/" }), ["f-2", "f-1"]);
      assert.deepEqual(await ids({ user: "bob" }), ["f-4", "f-3", "f-1"]);
      assert.deepEqual(await ids({ since: NOW + 2, until: NOW + 4 }), ["f-3", "f-2"]);
      const [newest] = await audit.listAuditRecords(db, { limit: 1, target: "namespaces/b" });
      assert.deepEqual(await ids({ before: newest?.id, limit: 2 }), ["f-3", "f-2"]);
      await audit.correctAuditOutcome(db, "call-2", {
        outcome: "failed",
        status: 409,
        error_code: "CONFLICT",
      });
      const corrected = (await audit.listAuditRecords(db, { limit: 1000 })).find(
        (item) => item.request_id === "call-2",
      );
      assert.deepEqual(
        [corrected?.outcome, corrected?.status, corrected?.error_code],
        ["failed", 409, "CONFLICT"],
      );

      assert.equal(await audit.deleteAuditRecordsBefore(db, NOW + 3, 1), 1, "bounded");
      assert.equal(await audit.deleteAuditRecordsBefore(db, NOW + 3, 10), 1);
      assert.deepEqual(await ids({}), ["f-4", "f-3"]);
    });

    test("large integers (epoch ms, sizes) and counts come back as numbers", async () => {
      await pipeline(db, "big");
      const far = 32_503_680_000_000; // year 3000
      await namespaces.updateNamespace(db, "big", { modified: far });
      const ns = await namespaces.getNamespace(db, "big");
      assert.equal(ns?.modified, far);
      assert.equal(typeof ns?.created, "number");
      const scope: objects.ObjectScope = { kind: "pipeline", namespace_id: "big", pipeline_id: "p" };
      await objects.replaceObjectRow(db, scope, { key: "k", file: "f", size: 5 * 2 ** 40, created: far });
      assert.deepEqual(
        { ...(await objects.getObjectRow(db, scope, "k")) },
        { key: "k", file: "f", size: 5 * 2 ** 40, created: far },
      );
    });
  });
}

// --- PostgreSQL only ----------------------------------------------------------------------------------------

describe("PostgreSQL: start, lease, masking, reconnect", () => {
  test("the work lease has one holder at a time; it passes on expiry with a new term, or at once when handed back", async () => {
    const url = await (postgres as PrivatePostgres).createDatabase("lease_test");
    const db = await openDatabase({ storage_path: "", database_url: url });
    try {
      const first = await replicas.claimLease(db, "work", "a", 1_000);
      assert.equal(first?.holder, "a");
      assert.equal(first?.term, 1);
      assert.equal(first?.serving, false);
      assert.equal(
        await replicas.claimLease(db, "work", "b", 1_000),
        undefined,
        "b is refused while a holds it",
      );
      assert.equal(await replicas.markLeaseServing(db, "work", "b", 1), false, "only the holder serves");
      assert.equal(await replicas.markLeaseServing(db, "work", "a", 1), true);
      const renewed = await replicas.claimLease(db, "work", "a", 1_000);
      assert.equal(renewed?.term, 1, "a renewal keeps the term");
      assert.equal(renewed?.serving, true, "and the serving flag");
      assert.ok((renewed?.expires ?? 0) >= (first?.expires ?? 0));
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      assert.equal((await replicas.getLease(db, "work"))?.expired, true);
      const taken = await replicas.claimLease(db, "work", "b", 60_000);
      assert.equal(taken?.holder, "b");
      assert.equal(taken?.term, 2, "a new holder starts a new term");
      assert.equal(taken?.serving, false, "not serving until it has taken over");
      assert.equal(await replicas.claimLease(db, "work", "a", 1_000), undefined, "a lost it");
      await replicas.releaseLease(db, "work", "b");
      assert.equal((await replicas.claimLease(db, "work", "a", 1_000))?.term, 3, "handed back: free at once");
    } finally {
      await db.destroy();
    }
  });

  test("an unreachable database is retried for the bound, then refused with what to check", async () => {
    const url = `postgres://gofer:${encodeURIComponent(PASSWORD)}@127.0.0.1:1/gofer`;
    const started = Date.now();
    const message = await openDatabase(
      { storage_path: "", database_url: url },
      { connectTimeoutMs: 1500 },
    ).then(
      () => "opened",
      (error: Error) => error.message,
    );
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1000 && elapsed < 10_000, `retried about the bound (${elapsed} ms)`);
    assert.match(
      message,
      /could not connect to PostgreSQL at postgres:\/\/gofer:\*\*\*@127\.0\.0\.1:1\/gofer/,
    );
    assert.match(message, /Check that PostgreSQL is running/);
    assert.ok(!message.includes(PASSWORD) && !message.includes(encodeURIComponent(PASSWORD)));
  });

  test("a wrong password or a missing database fails at once, naming what to check", async () => {
    const pgs = postgres as PrivatePostgres;
    const wrong = `postgres://gofer:not-the-password@127.0.0.1:${pgs.port}/postgres`;
    const started = Date.now();
    const message = await openDatabase({ storage_path: "", database_url: wrong }).then(
      () => "opened",
      (error: Error) => error.message,
    );
    assert.ok(Date.now() - started < 5_000, "no 30 s wait for a credential problem");
    assert.match(
      message,
      /refused Gofer: .*password authentication failed.*Check the user, password and database/,
    );
    assert.ok(!message.includes("not-the-password"));
    const missing = `postgres://gofer:${encodeURIComponent(PASSWORD)}@127.0.0.1:${pgs.port}/no_such_db`;
    const noDb = await openDatabase({ storage_path: "", database_url: missing }).then(
      () => "opened",
      (error: Error) => error.message,
    );
    assert.match(noDb, /does not exist/);
  });

  test("a lost connection surfaces as an error at most once; the pool reconnects", async () => {
    const pgs = postgres as PrivatePostgres;
    const url = await pgs.createDatabase("reconnect_test");
    const warnings: string[] = [];
    const db = await openDatabase(
      { storage_path: "", database_url: url },
      { warn: (message) => warnings.push(message) },
    );
    const admin = new pg.Client({ connectionString: pgs.adminUrl });
    await admin.connect();
    try {
      assert.equal((await namespaces.listNamespaces(db)).length, 0);
      // Ends every connection of the database.
      await admin.query(
        "select pg_terminate_backend(pid) from pg_stat_activity where datname = 'reconnect_test' and pid <> pg_backend_pid()",
      );
      let failures = 0;
      for (let i = 0; i < 3; i++) {
        try {
          await namespaces.listNamespaces(db);
        } catch {
          failures++;
        }
      }
      assert.ok(failures <= 1, `at most the first query after the loss fails (${failures})`);
      assert.deepEqual(await namespaces.listNamespaces(db), []);
      assert.ok(warnings.every((w) => !w.includes(PASSWORD) && !w.includes(encodeURIComponent(PASSWORD))));
    } finally {
      await admin.end();
      await db.destroy();
    }
  });

  test("a leader that cannot renew its lease in time stops leading and writes nothing more (fenced)", async () => {
    const url = await (postgres as PrivatePostgres).createDatabase("fence_test");
    let leadership: Leadership | undefined;
    const db = await openDatabase(
      { storage_path: "", database_url: url },
      { fence: () => leadership?.fenced() },
    );
    const lost: string[] = [];
    try {
      leadership = new Leadership({
        db,
        replicaId: "fenced-replica",
        version: "test",
        leaseTimeoutMs: 3_000,
        takeOver: async () => undefined,
        onLost: (reason) => lost.push(reason),
        log: { info: () => undefined, error: () => undefined },
      });
      await leadership.register({ url: "http://127.0.0.1:1", external_events_url: null });
      assert.equal(await leadership.tryLead(), true);
      await leadership.serve();
      assert.equal(leadership.role(), "leader");
      assert.deepEqual(await namespaces.listNamespaces(db), []);
      // No heartbeat renews the lease (as when the database is out of reach or the process was paused): two
      // thirds of the timeout later the leader stops, before another replica may take the lease.
      await new Promise((resolve) => setTimeout(resolve, 2_200));
      await assert.rejects(
        namespaces.listNamespaces(db),
        /may not use PostgreSQL .*stopped leading: its lease was not renewed in time/,
      );
      assert.equal(lost.length, 1, "told once");
      assert.match(lost[0] ?? "", /fenced-replica/);
      const lease = await (async () => {
        const other = await openDatabase({ storage_path: "", database_url: url });
        try {
          await new Promise((resolve) => setTimeout(resolve, 1_000));
          return await replicas.claimLease(other, "work", "next-replica", 3_000);
        } finally {
          await other.destroy();
        }
      })();
      assert.equal(lease?.holder, "next-replica", "the lease passes once it has expired");
      assert.equal(lease?.term, 2);
    } finally {
      await db.destroy();
    }
  });

  test("one migration list: SQLite and PostgreSQL end with the same tables and columns", async () => {
    const sqlite = await openDatabase(join(folder, "schema.db"));
    const postgresDb = await openDatabase({
      storage_path: "",
      database_url: await (postgres as PrivatePostgres).createDatabase("schema_test"),
    });
    try {
      const shape = async (db: GoferDb) => {
        const tables = await db.introspection.getTables();
        return Object.fromEntries(
          tables
            .filter((t) => !t.name.startsWith("kysely_"))
            .map((t) => [
              t.name,
              t.columns
                .map((c) => c.name)
                .filter((c) => c !== "rowid")
                .sort(),
            ])
            .sort(([a], [b]) => String(a).localeCompare(String(b))),
        );
      };
      assert.deepEqual(await shape(postgresDb), await shape(sqlite));
    } finally {
      await sqlite.destroy();
      await postgresDb.destroy();
    }
  });
});
