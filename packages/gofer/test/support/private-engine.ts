/**
 * Gives a test a Docker engine of its own: a second `dockerd` with its own data root, exec root, socket and
 * containerd, all under one short folder in /tmp. A test can stop, crash or restart it at will; the machine's
 * main engine, which other tests share, never notices.
 *
 * Needs root (dockerd does) and the images it is asked for on the main engine, which it copies over.
 *
 * What a restart does to containers (dockerd 20.10, no live-restore): running containers get SIGTERM, then
 * SIGKILL after their stop timeout (10 s by default), and keep their records as "exited" with the code they
 * died with (143 or a trap's own code on SIGTERM, 137 on SIGKILL). A graceful stop waits for that before the
 * daemon exits; after a crash the new daemon does the same while starting, before it answers. So a container
 * whose PID 1 ignores SIGTERM (a plain `sleep` does) holds every restart up by its stop timeout.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import { mkdir, mkdtemp, open, readdir, readFile, rm, unlink, writeFile } from "node:fs/promises";
import http, { type IncomingMessage } from "node:http";
import { createConnection } from "node:net";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import { promisify } from "node:util";

export const PRIVATE_ENGINE_DEFAULT_IMAGES = [process.env.GOFER_BUSYBOX_IMAGE ?? "gofer/busybox:latest"];

/**
 * Where a dockerd that is given no `--containerd` looks first: when a socket is there, dockerd uses that
 * containerd instead of starting its own, and the private engine would share it.
 */
const SYSTEM_CONTAINERD_SOCKET = "/run/containerd/containerd.sock";

export interface PrivateEngineOptions {
  /** Copied from the source engine once the private one answers. */
  images?: string[];
  /** The engine the images come from: `unix:///path` or `tcp://host:port`. Defaults as EngineClient does. */
  sourceHost?: string;
  /**
   * `"dockerd"` lets dockerd start and supervise its own containerd, as the main engine here does; `"own"`
   * starts one next to it and passes `--containerd`. The default is `"dockerd"` unless a system containerd
   * listens at /run/containerd/containerd.sock, which dockerd would otherwise attach to.
   */
  containerd?: "dockerd" | "own";
  /** How long the daemon gets to answer after a start. */
  startTimeoutMs?: number;
  /**
   * How long a graceful stop waits before SIGKILL. dockerd itself gives each running container its stop
   * timeout (10 s unless the container sets `StopTimeout`) before killing it, and only exits after that.
   */
  stopTimeoutMs?: number;
}

export interface RestartOptions {
  /**
   * SIGKILL the daemon (and its containerd) instead of SIGTERM, as in an engine crash: requests in flight fail
   * with a reset connection instead of an answer, running containers outlive the daemon, and the new daemon
   * stops them while it starts.
   */
  crash?: boolean;
}

export interface EngineProcess {
  pid: number;
  command: string;
}

export interface PrivateEngine {
  /** `unix://…/docker.sock`: what `DOCKER_HOST` and `new EngineClient({ host })` take. */
  readonly host: string;
  /** The folder holding everything of this engine. */
  readonly root: string;
  /** dockerd's (and containerd's) output, for diagnosis. */
  readonly logPath: string;
  /** The running dockerd's PID, or `null` while it is stopped. */
  readonly pid: number | null;
  /** Stops the daemon (SIGTERM, or SIGKILL with `crash`) and starts it again on the same data root. */
  restart(options?: RestartOptions): Promise<void>;
  /**
   * Stops the daemon (gracefully, or as a crash with `crash`: its containers keep running meanwhile); the engine
   * is unreachable until `start()`. Stopping a stopped engine succeeds.
   */
  stopDaemon(options?: RestartOptions): Promise<void>;
  /** Starts the daemon again; resolves once it answers. Starting a running engine succeeds. */
  start(): Promise<void>;
  /** Removes its containers, stops the daemon and deletes its folder. Safe to call more than once. */
  close(): Promise<void>;
  /** Processes running off this engine's folder: dockerd, containerd, containerd shims. */
  processes(): Promise<EngineProcess[]>;
  /** The last lines of the log. */
  logTail(lines?: number): Promise<string>;
}

/** Starts a private engine and copies the images into it; on any failure, removes what it made and throws. */
export async function startPrivateEngine(options: PrivateEngineOptions = {}): Promise<PrivateEngine> {
  if (process.getuid?.() !== 0) throw new Error("a private Docker engine needs root: dockerd runs as root");
  // /tmp, not os.tmpdir(): unix socket paths under exec root must stay well under the 108-byte limit.
  const root = await mkdtemp("/tmp/gofer-pe-");
  const engine = new Engine(root, {
    containerd: options.containerd ?? (existsSync(SYSTEM_CONTAINERD_SOCKET) ? "own" : "dockerd"),
    startTimeoutMs: options.startTimeoutMs ?? 30_000,
    stopTimeoutMs: options.stopTimeoutMs ?? 60_000,
  });
  try {
    await engine.prepare();
    await engine.start();
    const images = options.images ?? PRIVATE_ENGINE_DEFAULT_IMAGES;
    if (images.length > 0) {
      const source = options.sourceHost || process.env.DOCKER_HOST || "unix:///var/run/docker.sock";
      await copyImages(parseHost(source), source, { socketPath: engine.socketPath }, images);
    }
    return engine;
  } catch (error) {
    const failure =
      error instanceof Error && error.message.includes(root)
        ? error
        : new Error(`starting private engine ${root}: ${describe(error)}`, { cause: error });
    await engine.close().catch((closeError: unknown) => {
      throw new AggregateError([failure, closeError], `${failure.message}; cleaning up failed too`);
    });
    throw failure;
  }
}

interface EngineSettings {
  containerd: "dockerd" | "own";
  startTimeoutMs: number;
  stopTimeoutMs: number;
}

/** A child process and a promise that settles once it is gone, whether it exited or never started. */
interface Child {
  process: ChildProcess;
  gone: Promise<void>;
  isGone: boolean;
  /** Why it could not be started (a missing binary, say). */
  spawnError: Error | null;
}

/** Engines not closed yet, so that a test process exiting without `close()` does not leave daemons running. */
const liveEngines = new Set<Engine>();
let exitHookInstalled = false;

class Engine implements PrivateEngine {
  readonly root: string;
  readonly host: string;
  readonly socketPath: string;
  readonly logPath: string;
  readonly #settings: EngineSettings;
  readonly #dataRoot: string;
  readonly #execRoot: string;
  readonly #pidFile: string;
  readonly #containerdDir: string;
  #dockerd: Child | null = null;
  #containerd: Child | null = null;
  #closing: Promise<void> | null = null;
  // Starts, stops and restarts run one at a time: a restart racing a close would leave a daemon behind.
  #queue: Promise<unknown> = Promise.resolve();

  constructor(root: string, settings: EngineSettings) {
    this.root = root;
    this.#settings = settings;
    this.socketPath = join(root, "docker.sock");
    this.host = `unix://${this.socketPath}`;
    this.logPath = join(root, "engine.log");
    this.#dataRoot = join(root, "data");
    this.#execRoot = join(root, "exec");
    this.#pidFile = join(root, "docker.pid");
    // The same place dockerd puts the containerd it supervises, so both setups leave the same folders.
    this.#containerdDir = join(this.#execRoot, "containerd");
  }

  get pid(): number | null {
    return this.#dockerd !== null && !this.#dockerd.isGone ? (this.#dockerd.process.pid ?? null) : null;
  }

  get #containerdSocket(): string {
    return join(this.#containerdDir, "containerd.sock");
  }

  async prepare(): Promise<void> {
    liveEngines.add(this);
    installExitHook();
    await mkdir(this.#containerdDir, { recursive: true });
    // An empty config keeps /etc/docker/daemon.json (the main engine's) out; the key path keeps dockerd from
    // reading, or creating, /etc/docker/key.json.
    await writeFile(
      join(this.root, "daemon.json"),
      `${JSON.stringify({ "deprecated-key-path": join(this.root, "key.json") }, null, 2)}\n`,
    );
    if (this.#settings.containerd === "own") {
      await writeFile(join(this.root, "containerd.toml"), this.#containerdConfig());
    }
  }

  dockerdArgs(): string[] {
    return [
      `--config-file=${join(this.root, "daemon.json")}`,
      `--data-root=${this.#dataRoot}`,
      `--exec-root=${this.#execRoot}`,
      `--pidfile=${this.#pidFile}`,
      `--host=unix://${this.socketPath}`,
      // Host networking only, like the main engine: no bridge, no firewall rules, no sysctl changes.
      "--bridge=none",
      "--iptables=false",
      "--ip6tables=false",
      "--ip-forward=false",
      "--ip-masq=false",
      "--userland-proxy=false",
      // Makes this engine's shims recognisable in `ps` next to the main engine's ("moby").
      "--containerd-namespace=gofer-pe",
      "--containerd-plugins-namespace=gofer-pe-plugins",
      ...(this.#settings.containerd === "own" ? [`--containerd=${this.#containerdSocket}`] : []),
    ];
  }

  start(): Promise<void> {
    return this.#serial(() => this.#start());
  }

  stopDaemon(options: RestartOptions = {}): Promise<void> {
    return this.#serial(() => this.#stop(options.crash === true));
  }

  restart(options: RestartOptions = {}): Promise<void> {
    return this.#serial(async () => {
      await this.#stop(options.crash === true);
      await this.#start();
    });
  }

  close(): Promise<void> {
    this.#closing ??= this.#serial(() => this.#close());
    return this.#closing;
  }

  async processes(): Promise<EngineProcess[]> {
    return (await listProcesses()).filter((p) => p.command.includes(`${this.root}/`));
  }

  async logTail(lines = 40): Promise<string> {
    return logTail(this.logPath, lines);
  }

  /** Stops whatever of this engine still runs without waiting: the test process is exiting. */
  terminateNow(): void {
    const dockerd = this.#dockerd?.isGone === false ? this.#dockerd.process.pid : undefined;
    const containerd = this.#containerd?.isGone === false ? this.#containerd.process.pid : undefined;
    if (dockerd !== undefined) signal(dockerd, "SIGTERM");
    if (containerd === undefined) return;
    if (dockerd === undefined) {
      signal(containerd, "SIGTERM");
      return;
    }
    // dockerd needs its containerd to stop its containers, so containerd may only go once dockerd has; nobody
    // will be left here to wait for that.
    const waiter = spawn(
      "sh",
      [
        "-c",
        'while grep -q . "/proc/$1/cmdline" 2>/dev/null; do sleep 0.2; done; kill "$2"',
        "sh",
        `${dockerd}`,
        `${containerd}`,
      ],
      { detached: true, stdio: "ignore" },
    );
    waiter.unref();
  }

  #serial<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(operation);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #start(): Promise<void> {
    if (this.#closing !== null) throw new Error(`private engine ${this.root} is closed`);
    if (this.pid !== null) return;
    // A daemon that was killed leaves its PID file, and dockerd refuses to start while the PID in it is alive:
    // a zombie, or an unrelated process that got the number since, counts.
    await unlink(this.#pidFile).catch(ignoreMissing);
    await unlink(join(this.#containerdDir, "containerd.pid")).catch(ignoreMissing);
    const deadline = Date.now() + this.#settings.startTimeoutMs;
    try {
      if (this.#settings.containerd === "own" && (this.#containerd === null || this.#containerd.isGone)) {
        const containerd = this.#spawn("containerd", ["--config", join(this.root, "containerd.toml")]);
        this.#containerd = containerd;
        await this.#waitUntil(deadline, containerd, "containerd", () => canConnect(this.#containerdSocket));
      }
      const dockerd = this.#spawn("dockerd", this.dockerdArgs());
      this.#dockerd = dockerd;
      await this.#waitUntil(deadline, dockerd, "dockerd", () => ping(this.socketPath));
    } catch (error) {
      await this.#stop(true);
      throw new Error(`starting private engine ${this.root}: ${describe(error)}`, { cause: error });
    }
  }

  /** Resolves once `ready()` does; rejects with the log tail if the process exits or the deadline passes. */
  async #waitUntil(
    deadline: number,
    child: Child,
    name: string,
    ready: () => Promise<boolean>,
  ): Promise<void> {
    while (!(await ready())) {
      if (child.spawnError !== null) throw new Error(`could not start ${name}: ${child.spawnError.message}`);
      if (child.isGone) {
        const { exitCode, signalCode } = child.process;
        throw new Error(
          `${name} exited (${signalCode ?? `code ${exitCode}`}) before it answered; log tail:\n${await this.logTail()}`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(
          `${name} did not answer within ${this.#settings.startTimeoutMs} ms; log tail:\n${await this.logTail()}`,
        );
      }
      await delay(50);
    }
  }

  #spawn(command: string, args: string[]): Child {
    const log = openSync(this.logPath, "a");
    let child: ChildProcess;
    try {
      // In a process group of its own, so that a Ctrl-C meant for the test runner reaches the daemon only
      // through close() or the exit hook, in order; with a file, not a pipe, so its output outlives the test.
      child = spawn(command, args, {
        detached: true,
        stdio: ["ignore", log, log],
        env: { PATH: process.env.PATH ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
      });
    } finally {
      closeSync(log);
    }
    // A test that forgets close() must still end; the exit hook stops the daemon then.
    child.unref();
    const entry: Child = { process: child, gone: Promise.resolve(), isGone: false, spawnError: null };
    entry.gone = new Promise<void>((resolve) => {
      child.once("exit", () => {
        entry.isGone = true;
        resolve();
      });
      child.once("error", (error) => {
        entry.spawnError = error;
        entry.isGone = true;
        resolve();
      });
    });
    return entry;
  }

  async #stop(crash: boolean): Promise<void> {
    const dockerd = this.#dockerd;
    if (dockerd !== null && !dockerd.isGone) {
      const managedContainerd = await this.#managedContainerdPid();
      await stopChild(dockerd, crash ? "SIGKILL" : "SIGTERM", this.#settings.stopTimeoutMs);
      // dockerd stops the containerd it supervises on a clean exit, and the kernel kills it (Pdeathsig) when
      // dockerd is killed; waiting here makes sure of it, since the next start needs the socket free.
      if (managedContainerd !== null) await this.#stopForeign(managedContainerd, "containerd");
    }
    const containerd = this.#containerd;
    if (containerd !== null && !containerd.isGone) {
      await stopChild(containerd, crash ? "SIGKILL" : "SIGTERM", 15_000);
    }
  }

  /** The containerd dockerd started, when it is still running off this engine's folder. */
  async #managedContainerdPid(): Promise<number | null> {
    if (this.#settings.containerd === "own") return null;
    const text = await readFile(join(this.#containerdDir, "containerd.pid"), "utf8").catch(() => "");
    const pid = Number.parseInt(text.trim(), 10);
    return Number.isInteger(pid) && (await this.#ownsProcess(pid)) ? pid : null;
  }

  /** Whether `pid` still runs a program of this engine; a PID reused by someone else does not count. */
  async #ownsProcess(pid: number): Promise<boolean> {
    const command = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    return command.includes(`${this.root}/`);
  }

  /** Waits for a process this engine's dockerd started to exit; SIGKILL after a grace period. */
  async #stopForeign(pid: number, name: string): Promise<void> {
    for (let waited = 0; waited < 5_000; waited += 50) {
      if (!(await this.#ownsProcess(pid))) return;
      await delay(50);
    }
    signal(pid, "SIGKILL");
    for (let waited = 0; waited < 5_000; waited += 50) {
      if (!(await this.#ownsProcess(pid))) return;
      await delay(50);
    }
    throw new Error(`${name} (PID ${pid}) of private engine ${this.root} survived SIGKILL`);
  }

  async #close(): Promise<void> {
    const problems: unknown[] = [];
    if (this.pid !== null && (await ping(this.socketPath))) {
      // Removed while the daemon runs, so that it stops them and releases their mounts and shims itself.
      await removeAllContainers(this.socketPath).catch((error: unknown) => problems.push(error));
    }
    await this.#stop(false).catch((error: unknown) => problems.push(error));
    await this.#killStragglers().catch((error: unknown) => problems.push(error));
    liveEngines.delete(this);
    // dockerd leaves its data root bind-mounted on itself and the host network namespace bound under exec
    // root after it exits; removing the folder through live mounts would fail, or reach where it must not.
    const mounts = await mountsUnder(this.root);
    for (const mountPoint of mounts) {
      await promisify(execFile)("umount", ["-l", mountPoint]).catch((error: unknown) => problems.push(error));
    }
    const remaining = await mountsUnder(this.root);
    if (remaining.length > 0) {
      problems.push(new Error(`still mounted, so not deleted: ${remaining.join(", ")}`));
    } else {
      await rm(this.root, { recursive: true, force: true }).catch((error: unknown) => problems.push(error));
    }
    if (problems.length > 0) {
      throw new AggregateError(
        problems,
        `closing private engine ${this.root}: ${problems.map(describe).join("; ")}`,
      );
    }
  }

  /**
   * Kills shims (and the containers under them) that outlived their daemon, which only happens when the daemon
   * had to be killed with containers running. They are found by this engine's folder in their command line.
   */
  async #killStragglers(): Promise<void> {
    const stragglers = await this.processes();
    if (stragglers.length === 0) return;
    const all = await listProcesses();
    for (const straggler of stragglers) {
      for (const child of all) if (child.ppid === straggler.pid) signal(child.pid, "SIGKILL");
      signal(straggler.pid, "SIGKILL");
    }
    for (let waited = 0; waited < 5_000; waited += 50) {
      if ((await this.processes()).length === 0) return;
      await delay(50);
    }
    const left = (await this.processes()).map((p) => `${p.pid} ${p.command}`);
    throw new Error(`processes of private engine ${this.root} survived SIGKILL: ${left.join("; ")}`);
  }

  #containerdConfig(): string {
    // The layout dockerd gives the containerd it supervises, so both setups look the same on disk.
    return [
      "version = 2",
      `root = ${JSON.stringify(join(this.#dataRoot, "containerd", "daemon"))}`,
      `state = ${JSON.stringify(join(this.#containerdDir, "daemon"))}`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      "",
      "[grpc]",
      `  address = ${JSON.stringify(this.#containerdSocket)}`,
      "",
      "[debug]",
      `  address = ${JSON.stringify(join(this.#containerdDir, "containerd-debug.sock"))}`,
      "",
    ].join("\n");
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const engine of liveEngines) engine.terminateNow();
  });
}

/** Signals the child and waits for it to exit; SIGKILL if it is still there after `timeoutMs`. */
async function stopChild(child: Child, first: NodeJS.Signals, timeoutMs: number): Promise<void> {
  if (child.isGone || child.process.pid === undefined) return;
  signal(child.process.pid, first);
  if (await exitsWithin(child, timeoutMs)) return;
  signal(child.process.pid, "SIGKILL");
  if (await exitsWithin(child, 5_000)) return;
  throw new Error(`PID ${child.process.pid} survived SIGKILL`);
}

async function exitsWithin(child: Child, timeoutMs: number): Promise<boolean> {
  // The timer, not the child (which is unref'd), keeps the event loop alive while waiting.
  const timeout = new AbortController();
  try {
    return await Promise.race([
      child.gone.then(() => true),
      delay(timeoutMs, false, { signal: timeout.signal }),
    ]);
  } finally {
    timeout.abort();
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== "ENOENT") throw error;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function logTail(path: string, lines: number): Promise<string> {
  const file = await open(path, "r").catch(() => null);
  if (file === null) return "(no log)";
  try {
    const { size } = await file.stat();
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    await file.read(buffer, 0, length, size - length);
    return buffer
      .toString("utf8")
      .split("\n")
      .slice(-lines - 1)
      .join("\n");
  } finally {
    await file.close();
  }
}

interface ProcessEntry extends EngineProcess {
  ppid: number;
}

/** Every process with a command line; zombies have none and are left out. */
async function listProcesses(): Promise<ProcessEntry[]> {
  const result: ProcessEntry[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const [cmdline, stat] = await Promise.all([
      readFile(`/proc/${name}/cmdline`, "utf8").catch(() => ""),
      readFile(`/proc/${name}/stat`, "utf8").catch(() => ""),
    ]);
    if (cmdline === "") continue;
    // The command name in stat is in parentheses and may itself contain spaces and parentheses.
    const ppid = Number.parseInt(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1] ?? "", 10);
    result.push({ pid: Number(name), ppid, command: cmdline.replace(/\0+$/, "").replaceAll("\0", " ") });
  }
  return result;
}

/** Mount points at or below `root`, deepest first. */
async function mountsUnder(root: string): Promise<string[]> {
  const table = await readFile("/proc/self/mountinfo", "utf8");
  const points = table
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((point): point is string => point !== undefined)
    .map((point) =>
      point.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8))),
    )
    .filter((point) => point === root || point.startsWith(`${root}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

type Address = { socketPath: string } | { host: string; port: number };

function parseHost(host: string): Address {
  if (host.startsWith("unix://")) return { socketPath: host.slice("unix://".length) };
  if (host.startsWith("tcp://")) {
    const url = new URL(`http://${host.slice("tcp://".length)}`);
    return {
      host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: url.port === "" ? 2375 : Number(url.port),
    };
  }
  throw new Error(`unsupported engine address "${host}": expected unix:///path or tcp://host:port`);
}

/** Whether something accepts connections at the socket; containerd speaks gRPC, so connecting is the test. */
function canConnect(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(socketPath);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Whether the engine answers its ping. */
function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.request({ socketPath, path: "/_ping", agent: false, timeout: 2_000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on("timeout", () => request.destroy(new Error("timeout")));
    request.on("error", () => resolve(false));
    request.end();
  });
}

/** Sends a request; resolves with the response once its headers arrive. */
function send(
  address: Address,
  method: string,
  path: string,
  body?: Readable,
  headers: http.OutgoingHttpHeaders = {},
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = http.request({ ...address, agent: false, method, path, headers }, resolve);
    request.on("error", reject);
    if (body === undefined) {
      request.end();
      return;
    }
    body.on("error", (error) => request.destroy(error));
    body.pipe(request);
  });
}

async function readText(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function expectOk(response: IncomingMessage, what: string): Promise<string> {
  const text = await readText(response);
  const status = response.statusCode ?? 0;
  if (status < 200 || status >= 300) throw new Error(`${what}: engine answered ${status}: ${text.trim()}`);
  return text;
}

async function copyImages(
  source: Address,
  sourceHost: string,
  target: Address,
  images: string[],
): Promise<void> {
  for (const image of images) {
    const response = await send(source, "GET", `/images/${encodeURI(image)}/json`);
    if (response.statusCode === 404) {
      response.resume();
      throw new Error(
        `image ${image} is not on the engine at ${sourceHost}; build it first (npm run images)`,
      );
    }
    await expectOk(response, `inspecting ${image} on ${sourceHost}`);
  }
  const names = images.map((image) => `names=${encodeURIComponent(image)}`).join("&");
  const exported = await send(source, "GET", `/images/get?${names}`);
  if (exported.statusCode !== 200) await expectOk(exported, `exporting ${images.join(", ")}`);
  const loaded = await send(target, "POST", "/images/load?quiet=1", exported, {
    "Content-Type": "application/x-tar",
  });
  // Errors inside the tar (a truncated export, say) arrive as a message in a 200 answer.
  const text = await expectOk(loaded, "loading images into the private engine");
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const message = JSON.parse(line) as { error?: string; errorDetail?: { message?: string } };
    const failure = message.errorDetail?.message || message.error;
    if (failure) throw new Error(`loading images into the private engine: ${failure}`);
  }
}

async function removeAllContainers(socketPath: string): Promise<void> {
  const address = { socketPath };
  const list = JSON.parse(
    await expectOk(await send(address, "GET", "/containers/json?all=1"), "listing"),
  ) as Array<{
    Id: string;
  }>;
  await Promise.all(
    list.map(async ({ Id }) => {
      const response = await send(address, "DELETE", `/containers/${Id}?force=1&v=1`);
      if (response.statusCode === 404) response.resume();
      else await expectOk(response, `removing container ${Id}`);
    }),
  );
}
