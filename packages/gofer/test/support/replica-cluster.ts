/**
 * Several Gofer replicas as real processes (`gofer service start`) on one PostgreSQL database and one engine,
 * behind Debian's haproxy on loopback: what an operator runs, in miniature. The replicas share one folder for
 * task logs and objects (as they would share a network filesystem) and one secret key; each has its own data
 * folder and port. Used by replicas.test.ts, the replica chaos test and the browser tests run through the load
 * balancer.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pg from "pg";
import { ServerProcess } from "../../../../scripts/chaos/server-process.ts";
import { freePort } from "./free-port.ts";
import { type LoadBalancer, startLoadBalancer } from "./haproxy.ts";

const ROOT = resolve(import.meta.dirname, "../../../..");

export interface ReplicaCluster {
  readonly replicas: ServerProcess[];
  readonly balancer: LoadBalancer;
  /** The load balancer's address: what users, the CLI, tasks and extensions are given. */
  readonly url: string;
  /** The folder every replica keeps task logs and objects in. */
  readonly shared: string;
  /** The folder holding `shared` and each replica's data folder (`replica-N`, with its `server.log`). */
  readonly folder: string;
  /** Starts replica `index` again (after a kill), waiting until it answers. */
  restart(index: number, timeoutMs?: number): Promise<number>;
  /** SIGTERM every replica still running, then the load balancer; removes the folders unless told to keep them. */
  stop(options?: { keepFiles?: boolean }): Promise<void>;
}

export interface ReplicaClusterOptions {
  databaseUrl: string;
  count: number;
  /** Extra GOFER_WEB_* settings for every replica. */
  settings?: Record<string, string>;
  /** Seconds; short in tests so a takeover is quick. */
  leaseTimeoutSeconds?: number;
}

export async function startReplicaCluster(options: ReplicaClusterOptions): Promise<ReplicaCluster> {
  const folder = await realpath(await mkdtemp(join(tmpdir(), "gofer-replicas-")));
  const shared = join(folder, "shared");
  await mkdir(shared);
  const ports = await Promise.all(Array.from({ length: options.count }, () => freePort()));
  const balancerPort = await freePort();
  const url = `http://127.0.0.1:${balancerPort}`;
  const key = randomBytes(16).toString("hex");
  const replicas: ServerProcess[] = [];
  for (const [index, port] of ports.entries()) {
    const dataDir = join(folder, `replica-${index + 1}`);
    await mkdir(dataDir);
    replicas.push(
      new ServerProcess({
        root: ROOT,
        dataDir,
        port,
        settings: {
          GOFER_WEB_SERVER__DATABASE_URL: options.databaseUrl,
          GOFER_WEB_SERVER__URL: url,
          GOFER_WEB_SERVER__LEASE_TIMEOUT: String(options.leaseTimeoutSeconds ?? 3),
          GOFER_WEB_API__TASK_EXECUTION_LOGS_DIR: join(shared, "logs"),
          GOFER_WEB_OBJECT_STORE__FILESYSTEM__PATH: join(shared, "objects"),
          GOFER_WEB_SECRET_STORE__SQLITE__ENCRYPTION_KEY: key,
          ...options.settings,
        },
      }),
    );
  }
  let balancer: LoadBalancer | undefined;
  const stop = async (stopOptions: { keepFiles?: boolean } = {}) => {
    await Promise.all(replicas.map((replica) => replica.terminate(15_000)));
    await balancer?.stop();
    if (!stopOptions.keepFiles) await rm(folder, { recursive: true, force: true });
  };
  try {
    // One at a time: the first takes the lease, so which replica leads is known (the first).
    for (const replica of replicas) {
      replica.start();
      await replica.waitUntilUp(60_000);
    }
    balancer = await startLoadBalancer({
      port: balancerPort,
      backends: replicas.map((replica, index) => ({ name: `replica-${index + 1}`, url: replica.url })),
    });
    await balancer.waitUntilReady(10_000);
    await waitForServingLeader(options.databaseUrl, 60_000);
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  const started = balancer;
  return {
    replicas,
    balancer: started,
    url,
    shared,
    folder,
    async restart(index, timeoutMs = 60_000) {
      const replica = replicas[index];
      if (!replica) throw new Error(`no replica ${index}`);
      replica.start();
      return replica.waitUntilUp(timeoutMs);
    },
    stop,
  };
}

/** A replica answers before it has taken over the work; changes are refused (503) until one serves as leader. */
async function waitForServingLeader(databaseUrl: string, timeoutMs: number): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const result = await client.query(
        `select 1 from leases where name = 'work' and serving = 1
           and expires > (extract(epoch from clock_timestamp()) * 1000)::bigint`,
      );
      if (result.rowCount === 1) return;
      if (Date.now() > deadline) throw new Error(`no replica served as leader within ${timeoutMs} ms`);
      await new Promise((wake) => setTimeout(wake, 100));
    }
  } finally {
    await client.end();
  }
}
