/**
 * A private PostgreSQL for one test file: Debian's binaries (/usr/lib/postgresql/<version>/bin, installed by
 * scripts/install.sh), a cluster in a fresh temp folder owned by `postgres` (PostgreSQL refuses to run as root,
 * so as root every command goes through `runuser -u postgres`), listening on 127.0.0.1 only, on a free port, with
 * its socket in that folder. Never touches a cluster or service the machine already runs.
 *
 * `stop()` stops the postmaster (pg_ctl, then by its PID if it lingers) and removes the folder; an exit hook does
 * the same if the test process ends without calling it.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "./free-port.ts";

export interface PrivatePostgres {
  /** postgres://gofer:<password>@127.0.0.1:<port>/<database> for a new, empty database owned by `gofer`. */
  createDatabase(name: string): Promise<string>;
  /** A superuser connection URL (over the socket folder), for tests that break connections on purpose. */
  readonly adminUrl: string;
  readonly port: number;
  /** PID of the postmaster. */
  readonly pid: number;
  stop(): Promise<void>;
}

/** Has characters that must be URL-encoded, so the tests also prove the password is decoded and masked. */
export const PASSWORD = "s3cret:p@ss/w0rd";
const USER = "gofer";

export function postgresBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((name) => existsSync(join(root, name, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], "bin");
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  if (bin === undefined) {
    throw new Error(
      "PostgreSQL's server binaries are missing (/usr/lib/postgresql/*/bin/initdb): run scripts/install.sh " +
        "(it installs Debian's postgresql) or apt-get install postgresql",
    );
  }
  const asRoot = process.getuid?.() === 0;
  const folder = mkdtempSync(join(tmpdir(), "gofer-pg-"));
  const data = join(folder, "data");
  const socket = join(folder, "socket");
  mkdirSync(socket);
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    for (const path of [folder, socket]) chownSync(path, uid, gid);
  }
  const run = (command: string, args: string[]) => {
    const [file, argv] = asRoot
      ? ["runuser", ["-u", "postgres", "--", join(bin, command), ...args]]
      : [join(bin, command), args];
    const result = spawnSync(file, argv, { encoding: "utf8", cwd: folder });
    if (result.status !== 0) {
      throw new Error(`${command} failed (${result.status}): ${result.stderr || result.stdout}`);
    }
  };
  let pid = 0;
  let stopped = false;
  const stopNow = () => {
    if (stopped) return;
    stopped = true;
    if (pid > 0) {
      try {
        process.kill(pid, "SIGINT"); // fast shutdown
      } catch {
        // already gone
      }
    }
    rmSync(folder, { recursive: true, force: true });
  };
  process.once("exit", stopNow);
  // pg_ctl starts the postmaster in a session of its own, so an interrupted test run would leave it running.
  const onSignal = (signal: NodeJS.Signals) => {
    stopNow();
    process.kill(process.pid, signal);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    run("initdb", [
      "-D",
      data,
      "-U",
      "postgres",
      "--auth-local=trust",
      "--auth-host=scram-sha-256",
      "-E",
      "UTF8",
    ]);
    const port = await freePort();
    const options = [
      "-c listen_addresses=127.0.0.1",
      `-p ${port}`,
      `-k ${socket}`,
      // A test cluster: durability is not the point, speed is.
      "-c fsync=off",
      "-c synchronous_commit=off",
      "-c full_page_writes=off",
    ].join(" ");
    run("pg_ctl", ["-D", data, "-l", join(folder, "server.log"), "-o", options, "-w", "-t", "60", "start"]);
    pid = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
    const adminUrl = `postgres://postgres@localhost:${port}/postgres?host=${encodeURIComponent(socket)}`;
    const admin = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
      const client = new pg.Client({ host: socket, port, user: "postgres", database: "postgres" });
      await client.connect();
      try {
        return await work(client);
      } finally {
        await client.end();
      }
    };
    await admin((client) =>
      client.query(`create role ${USER} login password '${PASSWORD.replace(/'/g, "''")}'`),
    );
    return {
      adminUrl,
      port,
      pid,
      async createDatabase(name) {
        if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
        await admin((client) => client.query(`create database ${name} owner ${USER}`));
        return `postgres://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/${name}`;
      },
      async stop() {
        if (stopped) return;
        const result = spawnSync(
          asRoot ? "runuser" : join(bin, "pg_ctl"),
          asRoot
            ? [
                "-u",
                "postgres",
                "--",
                join(bin, "pg_ctl"),
                "-D",
                data,
                "-m",
                "fast",
                "-w",
                "-t",
                "30",
                "stop",
              ]
            : ["-D", data, "-m", "fast", "-w", "-t", "30", "stop"],
          { encoding: "utf8" },
        );
        if (result.status !== 0 && isAlive(pid)) process.kill(pid, "SIGQUIT");
        for (let waited = 0; isAlive(pid) && waited < 10_000; waited += 100) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        process.off("exit", stopNow);
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        stopNow();
      },
    };
  } catch (error) {
    if (existsSync(join(data, "postmaster.pid")) && pid === 0) {
      pid = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
    }
    process.off("exit", stopNow);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    stopNow();
    throw error;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
