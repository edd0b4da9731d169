/**
 * Gives a test a single-node Docker Swarm of its own: a private engine (private-engine.ts) made a swarm manager
 * advertising 127.0.0.1, in a network namespace of its own. The machine's main engine never joins a swarm.
 *
 * Why a namespace of its own: `swarm init` does more than start a cluster. Seen with dockerd 20.10 started with
 * `--bridge=none --iptables=false`, within a second it creates the `ingress` overlay network (10.0.0.0/24), a
 * namespace for it holding a VXLAN device, an `ingress_sbox` namespace joined by a veth pair to a new
 * `docker_gwbridge` bridge (172.17.0.0/16 or the next free /16) in the daemon's own network namespace, and
 * listeners on 127.0.0.1:7946 (gossip, a fixed port) and the cluster port. Removing `ingress` right after init
 * does not prevent any of it (the daemon sets the ingress sandbox up from the cluster's first state). In the
 * machine's namespace that would put a bridge with a private range on the machine, which these machines must
 * never get, and two swarm engines would share port 7946. In a namespace of its own (loopback only) all of it
 * stays out of sight, and goes with the namespace when the engine closes.
 *
 * After init, `ingress` is removed and, once the daemon has dropped its sandbox, `docker_gwbridge` too: the
 * swarm is left with the `host` and `none` networks only, and no overlay network exists while tests run.
 * Services must therefore use the `host` network, which here is the namespace's: Gofer's scheduler reaches a
 * service port from inside it ({@link SwarmEngine.fetchInside}), not from the test process.
 *
 * The engine lives in a child process started in the new namespace (it must run there to start dockerd there);
 * the test talks to the engine over its unix socket, which crosses namespaces. Closing (or the test process
 * exiting, which ends the child's stdin) leaves the swarm, closes the engine and ends the child.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import http from "node:http";
import type { Socket } from "node:net";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { promisify } from "node:util";
import { startPrivateEngine } from "./private-engine.ts";

export interface SwarmEngine {
  /** `unix://…/docker.sock` of the manager. */
  host: string;
  /** What `swarm init` created, as observed (networks, interfaces, namespaces, listeners). */
  created: string[];
  /** What is left once `ingress` and `docker_gwbridge` are gone. */
  remaining: string[];
  /** Fetches `url` from inside the engine's network namespace, where host-network services listen. */
  fetchInside(url: string): Promise<string>;
  /** Leaves the swarm, then closes the private engine. */
  close(): Promise<void>;
}

/** Why a swarm engine cannot be started here, or undefined when it can. */
export function swarmEngineUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "a private swarm engine needs root (dockerd does)";
  const missing = ["dockerd", "unshare", "nsenter", "ip"].filter((tool) => !onPath(tool));
  if (missing.length > 0) return `a private swarm engine needs ${missing.join(", ")} on PATH`;
  return undefined;
}

const CHILD_FLAG = "--swarm-engine-child";

export async function startSwarmEngine(): Promise<SwarmEngine> {
  const child = spawn(
    "unshare",
    [
      "--net",
      "--",
      "sh",
      "-c",
      'ip link set lo up && exec "$@"',
      "sh",
      process.execPath,
      import.meta.filename,
      CHILD_FLAG,
    ],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (text: string) => {
    stderr = (stderr + text).slice(-8192);
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.once("error", () => resolve(null));
  });
  const first = await firstLine(child);
  const ready = parseReady(first);
  if (ready === undefined) {
    child.kill("SIGTERM");
    await exited;
    throw new Error(`starting a swarm engine failed: ${first || "(no answer)"}\n${stderr}`);
  }
  // The child cleans up when its stdin ends, which also happens when this process exits without close().
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as Socket | null)?.unref();
  const namespace = `/proc/${child.pid}/ns/net`;
  let closing: Promise<void> | undefined;
  return {
    host: ready.host,
    created: ready.created,
    remaining: ready.remaining,
    async fetchInside(url) {
      const { stdout } = await promisify(execFile)(
        "nsenter",
        [`--net=${namespace}`, process.execPath, "-e", FETCH_SCRIPT, url],
        { timeout: 10_000 },
      );
      return stdout;
    },
    close() {
      closing ??= (async () => {
        child.stdin?.end();
        const code = await exited;
        if (code !== 0) throw new Error(`closing the swarm engine failed (exit ${code}):\n${stderr}`);
      })();
      return closing;
    },
  };
}

const FETCH_SCRIPT =
  "fetch(process.argv[1]).then(async (r) => { if (!r.ok) throw new Error('HTTP ' + r.status); " +
  "process.stdout.write(await r.text()); }).catch((e) => { console.error(String(e)); process.exit(1); })";

interface Ready {
  host: string;
  created: string[];
  remaining: string[];
}

function parseReady(line: string): Ready | undefined {
  try {
    const parsed = JSON.parse(line) as Partial<Ready>;
    return typeof parsed.host === "string" ? (parsed as Ready) : undefined;
  } catch {
    return undefined;
  }
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    const stdout = child.stdout;
    if (!stdout) {
      resolve("");
      return;
    }
    stdout.setEncoding("utf8");
    const onData = (chunk: string) => {
      text += chunk;
      const newline = text.indexOf("\n");
      if (newline === -1) return;
      stdout.off("data", onData);
      resolve(text.slice(0, newline));
    };
    stdout.on("data", onData);
    stdout.once("end", () => resolve(text));
  });
}

function onPath(tool: string): boolean {
  const path = process.env.PATH ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  return [...path.split(":"), "/usr/sbin", "/sbin"].some((dir) => dir !== "" && existsSync(join(dir, tool)));
}

// ---- the child, in the new network namespace ----

interface NetworkSummary {
  Name: string;
  Driver: string;
  IPAM?: { Config?: Array<{ Subnet?: string }> | null };
}

async function runChild(): Promise<void> {
  const engine = await startPrivateEngine();
  const socketPath = engine.host.slice("unix://".length);
  let ready: Ready;
  try {
    ready = { host: engine.host, ...(await initSwarm(socketPath, join(engine.root, "exec", "netns"))) };
  } catch (error) {
    await engine.close().catch(() => undefined);
    throw error;
  }
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  process.stdin.resume();
  await new Promise<void>((resolve) => {
    process.stdin.once("end", resolve);
    process.stdin.once("close", resolve);
  });
  const problems: string[] = [];
  const left = await request(socketPath, "POST", "/swarm/leave?force=1").catch((error: Error) => error);
  if (left instanceof Error || left.status >= 300)
    problems.push(`leaving the swarm: ${left instanceof Error ? left.message : left.body}`);
  await engine.close().catch((error: Error) => problems.push(error.message));
  if (problems.length > 0) {
    process.stderr.write(`${problems.join("\n")}\n`);
    process.exitCode = 1;
  }
}

/**
 * Makes the engine a single-node manager on loopback, then removes the overlay network and the bridge that init
 * brings along (see the module comment), and says what came and what is left.
 */
async function initSwarm(
  socketPath: string,
  namespaceDir: string,
): Promise<{ created: string[]; remaining: string[] }> {
  const before = await observe(socketPath, namespaceDir);
  const init = await request(socketPath, "POST", "/swarm/init", {
    ListenAddr: "127.0.0.1:0",
    AdvertiseAddr: "127.0.0.1",
  });
  if (init.status !== 200) throw new Error(`swarm init: ${init.status} ${init.body}`);
  const removed = await request(socketPath, "DELETE", "/networks/ingress");
  if (removed.status !== 204)
    throw new Error(`removing the ingress network: ${removed.status} ${removed.body}`);

  // The daemon sets its ingress sandbox (and docker_gwbridge with it) up from the cluster's first state, and
  // drops the sandbox once it learns the network is gone; only then can the bridge go.
  const seen = new Set<string>();
  let sawIngress = false;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const now = await observe(socketPath, namespaceDir);
    for (const item of now) if (!before.includes(item)) seen.add(item);
    const networks = await listNetworks(socketPath);
    const ingress = networks.some((network) => network.Name === "ingress");
    const bridge = networks.some((network) => network.Name === "docker_gwbridge");
    sawIngress ||= ingress;
    if (!ingress && bridge) {
      const gone = await request(socketPath, "DELETE", "/networks/docker_gwbridge");
      if (gone.status === 204 || gone.status === 404) break;
    } else if (!ingress && (sawIngress || Date.now() > deadline - 12_000)) {
      break;
    }
    if (Date.now() > deadline) throw new Error(`the swarm's networks did not settle: ${now.join("; ")}`);
    await delay(50);
  }
  await nodeReady(socketPath);
  const remaining = (await observe(socketPath, namespaceDir)).filter((item) => !before.includes(item));
  const networks = (await listNetworks(socketPath)).map((network) => network.Name).sort();
  if (networks.join(",") !== "host,none")
    throw new Error(`networks left after swarm init: ${networks.join(", ")}`);
  return { created: [...seen].sort(), remaining };
}

/** Waits until the swarm's one node takes tasks: before that the swarm would keep a new task pending. */
async function nodeReady(socketPath: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const answer = await request(socketPath, "GET", "/nodes");
    const nodes =
      answer.status === 200 ? (JSON.parse(answer.body) as Array<{ Status?: { State?: string } }>) : [];
    if (nodes.length > 0 && nodes.every((node) => node.Status?.State === "ready")) return;
    if (Date.now() > deadline)
      throw new Error(`the swarm node is not ready: ${answer.status} ${answer.body}`);
    await delay(50);
  }
}

/** The engine's networks, the namespace's interfaces and listeners, and the daemon's network namespaces. */
async function observe(socketPath: string, namespaceDir: string): Promise<string[]> {
  const networks = (await listNetworks(socketPath)).map((network) => {
    const subnets = (network.IPAM?.Config ?? []).map((config) => config.Subnet).filter(Boolean);
    return `network ${network.Name} (${network.Driver}${subnets.length > 0 ? ` ${subnets.join(" ")}` : ""})`;
  });
  const run = promisify(execFile);
  const addresses = (await run("ip", ["-o", "addr", "show"])).stdout
    .split("\n")
    .map((line) => line.split(/\s+/))
    .filter((fields) => fields.length > 3 && fields[1] !== "lo")
    .map((fields) => `interface ${fields[1]} ${fields[2]} ${fields[3]}`);
  const links = (await run("ip", ["-o", "link", "show"])).stdout
    .split("\n")
    .map((line) => /^\d+: ([^:@]+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name !== "lo")
    .map((name) => `interface ${name}`);
  const listeners = (await run("ss", ["-Hltun"]).catch(() => ({ stdout: "" }))).stdout
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length > 4)
    .map((fields) => `listening ${fields[0]} ${fields[4]}`);
  // A namespace the daemon dropped can leave its file behind; only a mounted one is still there.
  const mounted = new Set(
    (await readFile("/proc/self/mountinfo", "utf8")).split("\n").map((line) => line.split(" ")[4]),
  );
  const namespaces = (await readdir(namespaceDir).catch(() => [] as string[]))
    .filter((name) => name !== "default" && mounted.has(join(namespaceDir, name)))
    .map((name) => `namespace ${name}`);
  return [...networks, ...links, ...addresses, ...listeners, ...namespaces];
}

async function listNetworks(socketPath: string): Promise<NetworkSummary[]> {
  const answer = await request(socketPath, "GET", "/networks");
  if (answer.status !== 200) throw new Error(`listing networks: ${answer.status} ${answer.body}`);
  return JSON.parse(answer.body) as NetworkSummary[];
}

function request(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: string }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath,
        method,
        path,
        agent: false,
        headers: payload === undefined ? {} : { "Content-Type": "application/json" },
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          text += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text.trim() }));
        response.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

if (process.argv[1] === import.meta.filename && process.argv[2] === CHILD_FLAG) {
  runChild().catch((error: unknown) => {
    process.stdout.write(
      `${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n`,
    );
    process.exitCode = 1;
  });
}
