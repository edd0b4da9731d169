/**
 * What the chaos test crashes: one server (SQLite, restarted after each kill), or several replicas on one
 * PostgreSQL database behind haproxy (`--replicas N`), where a kill takes down one replica, random but the
 * leader half of the time, which comes back after a random pause while the others serve. Either way clients
 * talk to one URL; the harness measures how long the service took to answer again (one server) or until another
 * replica had taken over the work (replicas).
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import { freePort } from "../../packages/gofer/test/support/free-port.ts";
import {
  type PrivatePostgres,
  startPrivatePostgres,
} from "../../packages/gofer/test/support/private-postgres.ts";
import {
  type ReplicaCluster,
  startReplicaCluster,
} from "../../packages/gofer/test/support/replica-cluster.ts";
import { ServerProcess } from "./server-process.ts";

const ROOT = resolve(import.meta.dirname, "../..");

export interface CrashReport {
  /** What was killed, for the progress line. */
  victim: string;
  /** How long the killed process took to answer again once restarted. */
  bootMs: number;
  /** With replicas, when the leader was killed: the time until another replica served as leader. */
  adoptionMs?: number;
}

export interface ChaosTarget {
  /** Where clients send requests: the server, or the load balancer. */
  readonly url: string;
  describe(): string;
  /** Starts everything; answers how long the (first) server took to answer. */
  start(): Promise<number>;
  instanceId(): Promise<string>;
  /** One crash: kill -9, then a restart. `random` picks the victim and the pause. */
  crash(random: () => number): Promise<CrashReport>;
  /** Set when a process ended without being told to. */
  unexpectedExit(): string | undefined;
  /** Stops everything with SIGTERM. */
  stop(): Promise<{ exit: string; ms: number; clean: boolean }>;
  logTail(lines: number): string;
  /** Removes the data, or says where it was kept. */
  cleanup(keep: boolean): Promise<string | undefined>;
  /** Ends a start that failed part-way (the process exit hook). */
  killNow(): void;
}

/** Settings every chaos server gets: runs and logs are kept, so every one can be checked at the end. */
function chaosSettings(runs: number): Record<string, string> {
  return {
    // A fixed key keeps the "generated key" warning out of the log at every restart.
    GOFER_WEB_SECRET_STORE__SQLITE__ENCRYPTION_KEY: randomBytes(16).toString("hex"),
    GOFER_WEB_API__RUN_RETENTION: "0",
    GOFER_WEB_API__TASK_EXECUTION_LOG_RETENTION: String(runs + 50),
  };
}

export async function singleServer(runs: number): Promise<ChaosTarget> {
  const dataDir = await realpath(await mkdtemp(join(tmpdir(), "gofer-chaos-")));
  const server = new ServerProcess({
    root: ROOT,
    dataDir,
    port: await freePort(),
    settings: chaosSettings(runs),
  });
  return {
    url: server.url,
    describe: () => `data in ${dataDir}, server at ${server.url}, log ${server.logPath}`,
    async start() {
      server.start();
      return server.waitUntilUp(30_000);
    },
    async instanceId() {
      const db = new DatabaseSync(join(dataDir, "gofer.db"), { readOnly: true });
      try {
        const row = db.prepare("SELECT instance_id FROM system WHERE id = 1").get() as {
          instance_id?: string;
        };
        if (!row?.instance_id) throw new Error("the server's database holds no instance id");
        return row.instance_id;
      } finally {
        db.close();
      }
    },
    async crash() {
      await server.kill();
      server.start();
      return { victim: "the server", bootMs: await server.waitUntilUp(30_000) };
    },
    unexpectedExit: () => server.unexpectedExit,
    stop: () => server.terminate(20_000),
    logTail: (lines) => server.logTail(lines),
    async cleanup(keep) {
      if (keep) return dataDir;
      await rm(dataDir, { recursive: true, force: true });
      return undefined;
    },
    killNow: () => server.killNow(),
  };
}

/** The lease the replicas run with: short, so a takeover is quick, yet several heartbeats long on a busy machine. */
const LEASE_SECONDS = 6;

export async function replicaServers(count: number, runs: number): Promise<ChaosTarget> {
  let postgres: PrivatePostgres | undefined;
  let cluster: ReplicaCluster | undefined;
  let databaseUrl = "";
  const running = () => (cluster?.replicas ?? []).filter((replica) => replica.running);
  const sql = async <T>(text: string): Promise<T[]> => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return (await client.query(text)).rows as T[];
    } finally {
      await client.end();
    }
  };
  const leaderUrl = async (): Promise<string | undefined> => {
    const rows = await sql<{ url: string }>(
      `select r.url from leases l join replicas r on r.replica_id = l.holder
       where l.name = 'work' and l.serving = 1 and l.expires > (extract(epoch from clock_timestamp()) * 1000)::bigint`,
    );
    return rows[0]?.url;
  };
  return {
    get url() {
      return cluster?.url ?? "";
    },
    describe: () =>
      `${count} replicas behind haproxy at ${cluster?.url}, lease ${LEASE_SECONDS} s; PostgreSQL on port ${postgres?.port}; ` +
      `logs of each replica under ${cluster?.shared.replace(/\/shared$/, "")}`,
    async start() {
      postgres = await startPrivatePostgres();
      databaseUrl = await postgres.createDatabase("gofer_chaos");
      const began = Date.now();
      cluster = await startReplicaCluster({
        databaseUrl,
        count,
        leaseTimeoutSeconds: LEASE_SECONDS,
        settings: {
          // One key for every replica, as replicas must share it.
          ...chaosSettings(runs),
        },
      });
      return Date.now() - began;
    },
    async instanceId() {
      const rows = await sql<{ instance_id: string }>("select instance_id from system");
      const id = rows[0]?.instance_id;
      if (!id) throw new Error("the database holds no instance id");
      return id;
    },
    async crash(random) {
      const c = cluster as ReplicaCluster;
      const alive = running();
      const leader = await leaderUrl().catch(() => undefined);
      // Never the last one standing: the service must survive, which needs someone to take over.
      const candidates = alive.length > 1 ? alive : [];
      if (candidates.length === 0) return { victim: "nobody (one replica left)", bootMs: 0 };
      const leading = candidates.find((replica) => replica.url === leader);
      const victim =
        leading && random() < 0.5
          ? leading
          : (candidates[Math.floor(random() * candidates.length)] ?? leading);
      if (!victim) return { victim: "nobody", bootMs: 0 };
      const index = c.replicas.indexOf(victim);
      const killedAt = Date.now();
      await victim.kill();
      let adoptionMs: number | undefined;
      if (victim.url === leader) {
        for (;;) {
          const now = await leaderUrl().catch(() => undefined);
          if (now !== undefined && now !== victim.url) {
            adoptionMs = Date.now() - killedAt;
            break;
          }
          if (Date.now() - killedAt > 120_000) break;
          await new Promise((wake) => setTimeout(wake, 100));
        }
      }
      await new Promise((wake) => setTimeout(wake, 200 + random() * 1_800));
      const bootMs = await c.restart(index, 60_000);
      return {
        victim: `replica ${index + 1}${victim.url === leader ? " (the leader)" : ""}`,
        bootMs,
        ...(adoptionMs !== undefined && { adoptionMs }),
      };
    },
    unexpectedExit() {
      const gone = (cluster?.replicas ?? []).find((replica) => replica.unexpectedExit);
      return gone
        ? `replica ${(cluster?.replicas.indexOf(gone) ?? 0) + 1} ${gone.unexpectedExit}`
        : undefined;
    },
    async stop() {
      const started = Date.now();
      const results = await Promise.all(
        (cluster?.replicas ?? []).map((replica) => replica.terminate(20_000)),
      );
      const clean = results.every((result) => result.clean || result.exit === "not running");
      return { exit: results.map((result) => result.exit).join(", "), ms: Date.now() - started, clean };
    },
    logTail(lines) {
      return (cluster?.replicas ?? [])
        .map((replica, index) => `--- replica ${index + 1}\n${replica.logTail(Math.ceil(lines / count))}`)
        .join("\n");
    },
    async cleanup(keep) {
      const folder = cluster?.folder;
      await cluster?.stop({ keepFiles: keep });
      await postgres?.stop();
      return keep
        ? `${folder} (each replica's log in its folder; the PostgreSQL cluster was removed)`
        : undefined;
    },
    killNow() {
      for (const replica of cluster?.replicas ?? []) replica.killNow();
    },
  };
}
