/**
 * The Gofer server under test, as a child process: `node packages/gofer/src/main.ts service start` with its
 * settings in GOFER_WEB_* variables (a clean environment, so the caller's own settings cannot leak in), output
 * appended to one log file across restarts. Only this child is ever signalled, by its PID.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { appendFileSync, closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface ServerSettings {
  root: string;
  dataDir: string;
  port: number;
  /** Extra GOFER_WEB_* settings. */
  settings: Record<string, string>;
}

export class ServerProcess {
  readonly url: string;
  readonly logPath: string;
  readonly #settings: ServerSettings;
  readonly #configPath: string;
  #child: ChildProcess | undefined;
  #starts = 0;
  /** Set when the child exits without being told to: a crash the test did not cause. */
  unexpectedExit: string | undefined;

  constructor(settings: ServerSettings) {
    this.#settings = settings;
    this.url = `http://127.0.0.1:${settings.port}`;
    this.logPath = join(settings.dataDir, "server.log");
    // An empty config file keeps a machine-wide /etc/gofer/gofer_web.toml out of the test.
    this.#configPath = join(settings.dataDir, "gofer.toml");
    writeFileSync(this.#configPath, "");
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  start(): void {
    if (this.#child) throw new Error("the server is already running");
    const { root, dataDir, port, settings } = this.#settings;
    this.#starts += 1;
    appendFileSync(this.logPath, `=== chaos: server start #${this.#starts} at ${new Date().toISOString()}\n`);
    const log = openSync(this.logPath, "a");
    try {
      const child = spawn(
        process.execPath,
        [join(root, "packages/gofer/src/main.ts"), "service", "start", "--config", this.#configPath],
        {
          cwd: dataDir,
          stdio: ["ignore", log, log],
          env: {
            PATH: process.env.PATH,
            HOME: dataDir,
            ...(process.env.DOCKER_HOST && { DOCKER_HOST: process.env.DOCKER_HOST }),
            GOFER_WEB_SERVER__DATA_DIR: dataDir,
            GOFER_WEB_SERVER__BIND_ADDRESS: `127.0.0.1:${port}`,
            GOFER_WEB_SCHEDULER__DOCKER__NETWORK_MODE: "host",
            GOFER_WEB_EXTENSIONS__INSTALL_STD_EXTENSIONS: "false",
            GOFER_WEB_EXTERNAL_EVENTS__ENABLE: "false",
            GOFER_WEB_API__LOG_LEVEL: "warn",
            GOFER_WEB_API__TASK_EXECUTION_STOP_TIMEOUT: "2",
            ...settings,
          },
        },
      );
      this.#child = child;
      this.unexpectedExit = undefined;
      child.once("exit", (code, signal) => {
        if (this.#child === child) {
          this.#child = undefined;
          this.unexpectedExit = `exited on its own (${signal ?? `code ${code}`})`;
        }
      });
    } finally {
      closeSync(log);
    }
  }

  /** Polls the metadata route until it answers 200; fails at once if the process exits. */
  async waitUntilUp(timeoutMs: number): Promise<number> {
    const started = Date.now();
    for (;;) {
      if (!this.#child)
        throw new Error(`the server ${this.unexpectedExit ?? "is not running"} while starting`);
      try {
        const response = await fetch(`${this.url}/api/system/metadata`, {
          headers: { "gofer-api-version": "v0" },
          signal: AbortSignal.timeout(1000),
        });
        await response.body?.cancel();
        if (response.status === 200) return Date.now() - started;
      } catch {
        // Not listening yet.
      }
      if (Date.now() - started > timeoutMs)
        throw new Error(`the server did not answer within ${timeoutMs} ms`);
      await new Promise((wake) => setTimeout(wake, 25));
    }
  }

  /** SIGKILL, then waits for the process to be gone (the port is free again once it is). */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
  }

  /** SIGTERM, waiting up to `timeoutMs` for a clean exit before SIGKILL. */
  async terminate(timeoutMs: number): Promise<{ exit: string; ms: number; clean: boolean }> {
    const child = this.#child;
    if (!child) return { exit: this.unexpectedExit ?? "not running", ms: 0, clean: false };
    this.#child = undefined;
    const started = Date.now();
    const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
    child.kill("SIGTERM");
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    const [code, signal] = await exited;
    clearTimeout(timer);
    const ms = Date.now() - started;
    if (timedOut) return { exit: `did not stop within ${timeoutMs} ms; killed`, ms, clean: false };
    return { exit: signal ?? `code ${code}`, ms, clean: code === 0 };
  }

  /** For the process's exit handler: no waiting possible there. */
  killNow(): void {
    this.#child?.kill("SIGKILL");
    this.#child = undefined;
  }

  /** The last lines the server logged, each marked with the start (1, 2, …) that logged it. */
  logTail(lines: number): string {
    let text: string;
    try {
      text = readFileSync(this.logPath, "utf8");
    } catch (error) {
      return `(no server log: ${String(error)})`;
    }
    let start = 0;
    const logged: string[] = [];
    for (const line of text.split("\n")) {
      const marker = /^=== chaos: server start #(\d+)/.exec(line);
      if (marker) start = Number(marker[1]);
      else if (line.trim() !== "") logged.push(`[start ${start}] ${line}`);
    }
    if (logged.length === 0) return "(the server logged nothing at level warn or above)";
    return logged.slice(-lines).join("\n");
  }
}
