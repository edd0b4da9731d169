/**
 * A real load balancer in front of server replicas in tests: a private `haproxy` (Debian's, installed by
 * scripts/install.sh) that spreads requests round-robin over the backends it is given, as a deployment with several
 * Gofer replicas would. Nothing of the machine's own haproxy service is used or touched.
 *
 * One process per instance, in the foreground (`-db`: no daemon, no master process, no chroot, no user switch), so
 * the PID we hold is haproxy's own. It listens on 127.0.0.1 only; its config and its output (alerts, server state
 * changes, one line per request) live in a fresh temp folder. A dead backend costs no failed request: a connection
 * it refuses is retried on another one (`option redispatch 1`, `retries 2`), and a health check every 500 ms takes
 * it out after two misses. Timeouts are an hour long so log follows and WebSockets are not cut in the middle.
 *
 * `stop()` ends haproxy (SIGTERM, SIGKILL after 5 s) and removes the folder; an exit hook does the same if the test
 * process ends without calling it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  accessSync,
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { freePort } from "./free-port.ts";

export interface LoadBalancerBackend {
  /** haproxy's name for the server: letters, digits, `.`, `_`, `-`. */
  name: string;
  /** `http://127.0.0.1:PORT`: where the replica listens. */
  url: string;
}

export interface LoadBalancerOptions {
  backends: LoadBalancerBackend[];
  /**
   * Health-check the backends with `GET <path>` (any 2xx or 3xx is healthy) instead of the default plain TCP
   * connect.
   */
  httpCheckPath?: string;
  /** The loopback port to listen on; a free one by default. */
  port?: number;
}

/** Where haproxy is: on the PATH, or in /usr/sbin, which is not on every user's PATH. */
export function findHaproxy(): string | undefined {
  const folders = [
    ...(process.env.PATH ?? "").split(delimiter).filter(Boolean),
    "/usr/sbin",
    "/usr/local/sbin",
  ];
  for (const folder of folders) {
    const candidate = join(folder, "haproxy");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Starts haproxy in front of `options.backends`; `waitUntilReady()` tells when it accepts connections. */
export async function startLoadBalancer(options: LoadBalancerOptions): Promise<LoadBalancer> {
  const binary = findHaproxy();
  if (binary === undefined) {
    throw new Error(
      "haproxy is missing (not on the PATH nor in /usr/sbin): run scripts/install.sh (it installs Debian's " +
        "haproxy without starting its service) or apt-get install --no-install-recommends haproxy",
    );
  }
  const port = options.port ?? (await freePort());
  return new LoadBalancer(binary, haproxyConfig(options, port), port);
}

export class LoadBalancer {
  /** `http://127.0.0.1:PORT`: where clients send their requests. */
  readonly url: string;
  readonly port: number;
  /** The temp folder holding the config and the log. */
  readonly folder: string;
  /** haproxy's stdout and stderr. */
  readonly logPath: string;
  readonly pid: number;
  readonly #child: ChildProcess;
  readonly #gone: Promise<void>;
  #exit: string | undefined;
  #stopped = false;
  readonly #stopNow = () => this.#terminateNow();
  readonly #onSignal = (signal: NodeJS.Signals) => {
    this.#terminateNow();
    process.kill(process.pid, signal);
  };

  constructor(binary: string, config: string, port: number) {
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.folder = mkdtempSync(join(tmpdir(), "gofer-haproxy-"));
    this.logPath = join(this.folder, "haproxy.log");
    const configPath = join(this.folder, "haproxy.cfg");
    writeFileSync(configPath, config);
    const log = openSync(this.logPath, "a");
    try {
      this.#child = spawn(binary, ["-db", "-f", configPath], {
        cwd: this.folder,
        stdio: ["ignore", log, log],
      });
    } finally {
      closeSync(log);
    }
    this.#gone = new Promise((resolve) => {
      this.#child.once("exit", (code, signal) => {
        this.#exit = signal === null ? `exit code ${code}` : `signal ${signal}`;
        resolve();
      });
      this.#child.once("error", (error) => {
        this.#exit = `error: ${error.message}`;
        resolve();
      });
    });
    // A test that forgets stop() must still end; the exit hook then takes haproxy down with it.
    this.#child.unref();
    this.pid = this.#child.pid ?? 0;
    process.once("exit", this.#stopNow);
    process.once("SIGINT", this.#onSignal);
    process.once("SIGTERM", this.#onSignal);
  }

  /** Resolves once the port accepts a connection; rejects with haproxy's output if it exits or time runs out. */
  async waitUntilReady(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.#exit !== undefined) {
        throw new Error(`haproxy ended (${this.#exit}) before it listened on ${this.url}:\n${this.log()}`);
      }
      if (await canConnect(this.port, Math.min(1_000, Math.max(deadline - Date.now(), 1)))) return;
      await delay(50);
    }
    throw new Error(`haproxy did not listen on ${this.url} within ${timeoutMs} ms:\n${this.log()}`);
  }

  /** What haproxy printed so far. */
  log(): string {
    try {
      return readFileSync(this.logPath, "utf8");
    } catch {
      return "";
    }
  }

  /** SIGTERM (haproxy's hard stop), SIGKILL after 5 s; then the temp folder goes. Stopping twice is fine. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    if (this.#exit === undefined && this.pid > 0) {
      signal(this.pid, "SIGTERM");
      if (!(await this.#exitsWithin(5_000))) {
        signal(this.pid, "SIGKILL");
        if (!(await this.#exitsWithin(5_000))) throw new Error(`haproxy (PID ${this.pid}) survived SIGKILL`);
      }
    }
    this.#terminateNow();
  }

  #terminateNow(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    process.off("exit", this.#stopNow);
    process.off("SIGINT", this.#onSignal);
    process.off("SIGTERM", this.#onSignal);
    if (this.#exit === undefined && this.pid > 0) signal(this.pid, "SIGKILL");
    rmSync(this.folder, { recursive: true, force: true });
  }

  async #exitsWithin(timeoutMs: number): Promise<boolean> {
    // The timer, not the child (which is unref'd), keeps the event loop alive while waiting.
    const timeout = new AbortController();
    try {
      return await Promise.race([
        this.#gone.then(() => true),
        delay(timeoutMs, false, { signal: timeout.signal }),
      ]);
    } finally {
      timeout.abort();
    }
  }
}

function haproxyConfig(options: LoadBalancerOptions, port: number): string {
  if (options.backends.length === 0) throw new Error("a load balancer needs at least one backend");
  const servers = options.backends.map(({ name, url }) => {
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`bad backend name ${JSON.stringify(name)}`);
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" || (parsed.pathname !== "/" && parsed.pathname !== "")) {
      throw new Error(`backend ${name}: ${url} is not an http://host:port URL`);
    }
    const address = `${parsed.hostname}:${parsed.port || "80"}`;
    return `  server ${name} ${address} check inter 500ms fall 2 rise 1`;
  });
  const check = options.httpCheckPath;
  if (check !== undefined && !/^\/\S*$/.test(check)) {
    throw new Error(`httpCheckPath must be a path without spaces: ${JSON.stringify(check)}`);
  }
  return [
    "global",
    "  nbthread 1",
    "  maxconn 1024",
    "  log stdout format raw local0",
    "",
    "defaults",
    "  mode http",
    "  log global",
    "  option httplog",
    "  option dontlognull",
    "  timeout connect 2s",
    // Long-lived streams: log follows (chunked responses) and WebSockets (tunnels after the upgrade).
    "  timeout client 1h",
    "  timeout server 1h",
    "  timeout tunnel 1h",
    // A connection a backend refuses is retried, each time on another server.
    "  retries 2",
    "  option redispatch 1",
    "",
    "frontend gofer",
    `  bind 127.0.0.1:${port}`,
    "  default_backend replicas",
    "",
    "backend replicas",
    "  balance roundrobin",
    ...(check === undefined ? [] : [`  option httpchk GET ${check}`]),
    ...servers,
    "",
  ].join("\n");
}

function canConnect(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}
