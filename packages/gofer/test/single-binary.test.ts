/**
 * The single binary and the server image: scripts/build-binary.sh must produce a dist/gofer that runs with no
 * sources or node_modules around it, serves the API with the commit stamped at build time, and runs as the
 * Dockerfile's image built on the offline base (images/build-runtime-base.sh) against the real engine. Its
 * `gofer up` must load a TypeScript pipeline file from a folder with no node_modules, serving `@gofer/sdk` from
 * its own bundle.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { VERSION } from "../src/version.ts";
import { freePort } from "./support/free-port.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
const BINARY = join(ROOT, "dist", "gofer");
const RUNTIME_BASE = "gofer/runtime-base:latest";
// Tests run in parallel and may share the engine with other checkouts: every name here is this run's own.
const RUN_ID = `${process.pid}-${randomBytes(4).toString("hex")}`;
const IMAGE = `gofer-single-binary-test:${RUN_ID}`;
const CONTAINER = `gofer-single-binary-test-${RUN_ID}`;
// A value the binary must ignore: its commit was fixed when it was built.
const RUNTIME_COMMIT = "not-the-stamped-commit";

interface CommandResult {
  stdout: string;
  stderr: string;
}

interface RunOptions {
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Runs a command to completion within `timeoutMs`; a failure carries the command's output. */
async function run(file: string, args: string[], options: RunOptions): Promise<CommandResult> {
  const result = await runToExit(file, args, options);
  if (result.exitCode !== 0) {
    throw new Error(
      `${[file, ...args].join(" ")} exited with ${result.exitCode}\n${result.stdout}${result.stderr}`,
    );
  }
  return result;
}

/** Runs a command to completion within `timeoutMs`, failing only if it cannot be started or is stopped. */
function runToExit(
  file: string,
  args: string[],
  options: RunOptions,
): Promise<CommandResult & { exitCode: number }> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      file,
      args,
      {
        cwd: options.cwd ?? ROOT,
        timeout: options.timeoutMs,
        maxBuffer: 16 * 1024 * 1024,
        env: options.env ?? process.env,
      },
      (error, stdout, stderr) => {
        if (error === null) {
          resolvePromise({ stdout, stderr, exitCode: 0 });
        } else if (error.killed || typeof error.code !== "number") {
          const why = error.killed
            ? `was stopped after ${options.timeoutMs} ms`
            : `failed (${error.message})`;
          reject(new Error(`${[file, ...args].join(" ")} ${why}\n${stdout}${stderr}`.trimEnd()));
        } else {
          resolvePromise({ stdout, stderr, exitCode: error.code });
        }
      },
    );
  });
}

const docker = (args: string[], timeoutMs = 30_000) => run("docker", args, { timeoutMs });

/** The commit build-binary.sh stamps, found the same way it finds it. */
async function expectedCommit(): Promise<string> {
  if (process.env.GOFER_BUILD_COMMIT) return process.env.GOFER_BUILD_COMMIT;
  try {
    return (await run("git", ["rev-parse", "--short", "HEAD"], { timeoutMs: 10_000 })).stdout.trim();
  } catch {
    return "development";
  }
}

async function getMetadata(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/api/system/metadata`, {
    headers: { "gofer-api-version": "v0" },
    signal: AbortSignal.timeout(5_000),
  });
  return { status: response.status, body: await response.json() };
}

/**
 * Polls the metadata route of a server starting in a container until it answers; fails with the container's
 * logs as soon as the container stops, or after `timeoutMs`.
 */
async function waitForContainerMetadata(
  url: string,
  container: string,
  timeoutMs: number,
): Promise<{ status: number; body: unknown }> {
  const deadline = Date.now() + timeoutMs;
  const logs = async () => {
    const { stdout, stderr } = await docker(["logs", container]).catch((error: unknown) => ({
      stdout: "",
      stderr: String(error),
    }));
    return `container logs:\n${stdout}${stderr}`;
  };
  for (;;) {
    try {
      return await getMetadata(url);
    } catch (error) {
      const { stdout: running } = await docker(["inspect", "--format", "{{.State.Running}}", container]);
      if (running.trim() !== "true") throw new Error(`the container stopped\n${await logs()}`);
      if (Date.now() > deadline) {
        throw new Error(`${url} did not answer within ${timeoutMs} ms (${String(error)})\n${await logs()}`);
      }
      await new Promise((wake) => setTimeout(wake, 200));
    }
  }
}

/** Starts `dist/gofer service start` and resolves with the URL its "Gofer is listening on" log line names. */
async function startBinaryServer(
  child: ChildProcess,
  timeoutMs: number,
): Promise<{ url: string; output: () => string }> {
  let output = "";
  child.stdout?.setEncoding("utf8");
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    output += chunk;
  });
  const url = new Promise<string>((resolvePromise, reject) => {
    let pending = "";
    child.stdout?.on("data", (chunk: string) => {
      output += chunk;
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const found = /^Gofer is listening on (\S+)/.exec(logMessage(line) ?? "");
        if (found?.[1]) resolvePromise(found[1]);
      }
    });
    child.once("exit", (code, signal) =>
      reject(new Error(`the server exited (${code ?? signal}):\n${output}`)),
    );
    child.once("error", reject);
    setTimeout(
      () => reject(new Error(`the server did not log its URL within ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    ).unref();
  });
  return { url: await url, output: () => output };
}

/** The `msg` of a pino log line (one JSON object per line), if the line is one. */
function logMessage(line: string): string | undefined {
  try {
    const { msg } = JSON.parse(line) as { msg?: unknown };
    return typeof msg === "string" ? msg : undefined;
  } catch {
    return undefined;
  }
}

/** How the container reaches the engine the test uses: its socket mounted, or the same TCP address. */
function engineAccess(): string[] {
  const host = process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
  return host.startsWith("unix://")
    ? ["--volume", `${host.slice("unix://".length)}:/var/run/docker.sock`]
    : ["--env", `DOCKER_HOST=${host}`];
}

/** Stops the server by its PID, killing it if it does not shut down in time. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

describe("single binary", () => {
  let commit = "";

  before(async () => {
    commit = await expectedCommit();
    await run("bash", [join(ROOT, "scripts/build-binary.sh")], { timeoutMs: 90_000 });
  });

  it("prints its version", async () => {
    const { stdout } = await run(BINARY, ["--version"], { timeoutMs: 10_000 });
    assert.equal(stdout.trim(), VERSION.semver);
  });

  describe("its own server", () => {
    let dataDir = "";
    let server: ChildProcess | undefined;
    let url = "";
    let output = (): string => "";

    before(async () => {
      dataDir = await realpath(await mkdtemp(join(tmpdir(), "gofer-single-binary-")));
      // An empty config file keeps the machine's /etc/gofer/gofer_web.toml out of the test.
      const configPath = join(dataDir, "gofer.toml");
      await writeFile(configPath, "");
      server = spawn(BINARY, ["service", "start", "--config", configPath], {
        cwd: dataDir,
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          PATH: process.env.PATH,
          HOME: dataDir,
          ...(process.env.DOCKER_HOST && { DOCKER_HOST: process.env.DOCKER_HOST }),
          GOFER_BUILD_COMMIT: RUNTIME_COMMIT,
          GOFER_WEB_SERVER__DATA_DIR: dataDir,
          GOFER_WEB_SERVER__BIND_ADDRESS: "127.0.0.1:0",
          GOFER_WEB_SCHEDULER__DOCKER__NETWORK_MODE: "host",
          GOFER_WEB_EXTENSIONS__INSTALL_STD_EXTENSIONS: "false",
          GOFER_WEB_EXTERNAL_EVENTS__ENABLE: "false",
        },
      });
      ({ url, output } = await startBinaryServer(server, 15_000));
    });

    after(async () => {
      if (server !== undefined) await stopProcess(server);
      await rm(dataDir, { recursive: true, force: true });
    });

    it("serves the API from a data directory, with the commit stamped at build time", async () => {
      const metadata = await getMetadata(url);
      assert.equal(metadata.status, 200, `${JSON.stringify(metadata.body)}\n${output()}`);
      assert.deepEqual(metadata.body, { commit, semver: VERSION.semver });
    });

    it("serves the web UI built into it, with no checkout on the machine", async () => {
      const page = await fetch(`${url}/namespaces/default`);
      assert.equal(page.status, 200, output());
      const html = await page.text();
      assert.match(html, /<div id="app"><\/div>/);
      const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
      assert.ok(script, html);
      const asset = await fetch(`${url}${script}`);
      assert.equal(asset.status, 200);
      assert.equal(asset.headers.get("cache-control"), "public, max-age=31536000, immutable");
      assert.ok((await asset.text()).length > 1000);
    });

    it("registers a TypeScript pipeline file that imports @gofer/sdk with nothing installed", async () => {
      const response = await fetch(`${url}/api/tokens/bootstrap`, {
        method: "POST",
        headers: { "gofer-api-version": "v0" },
        signal: AbortSignal.timeout(5_000),
      });
      assert.equal(response.status, 201, output());
      const { secret } = (await response.json()) as { secret: string };
      // Under the temp dir, like the data directory: no node_modules in it or above it.
      const project = join(dataDir, "project");
      await mkdir(project);
      const gofer = (file: string) =>
        runToExit(BINARY, ["up", file, "--json"], {
          cwd: project,
          timeoutMs: 20_000,
          env: { PATH: process.env.PATH, HOME: dataDir, GOFER_API_BASE_URL: url, GOFER_TOKEN: secret },
        });

      await writeFile(
        join(project, "pipeline.ts"),
        [
          'import { pipeline, task } from "@gofer/sdk";',
          'const greeting: string = "hello";',
          'export default pipeline("from-binary", "From the binary").tasks(',
          '  task("greet", "gofer/busybox:latest").command("echo", greeting),',
          ");",
        ].join("\n"),
      );
      await writeFile(
        join(project, "broken.ts"),
        'import { pipeline } from "@gofer/sdk";\nconst limit: number = ;\n',
      );
      const [registered, broken] = await Promise.all([gofer("pipeline.ts"), gofer("broken.ts")]);

      assert.equal(registered.exitCode, 0, `${registered.stdout}${registered.stderr}`);
      const { namespace_id, pipeline_id, version, deployed } = JSON.parse(registered.stdout);
      assert.deepEqual(
        { namespace_id, pipeline_id, version, deployed },
        { namespace_id: "default", pipeline_id: "from-binary", version: 1, deployed: true },
      );
      assert.notEqual(broken.exitCode, 0);
      assert.match(broken.stderr, /broken\.ts has a syntax error/);
      assert.match(broken.stderr, /broken\.ts:2\n[\s\S]*const limit: number = ;\n\s+\^/);
      assert.match(broken.stderr, /SyntaxError/);
    });
  });

  it("runs as the server image built from the Dockerfile on the offline base", async () => {
    await run("bash", [join(ROOT, "images/build-runtime-base.sh")], { timeoutMs: 60_000 });
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    try {
      await docker(
        ["build", "--quiet", "--build-arg", `BASE_IMAGE=${RUNTIME_BASE}`, "--tag", IMAGE, "."],
        60_000,
      );
      await docker([
        "run",
        "--detach",
        "--name",
        CONTAINER,
        "--network",
        "host",
        ...engineAccess(),
        "--env",
        `GOFER_WEB_SERVER__BIND_ADDRESS=127.0.0.1:${port}`,
        "--env",
        "GOFER_WEB_SCHEDULER__DOCKER__NETWORK_MODE=host",
        "--env",
        "GOFER_WEB_EXTENSIONS__INSTALL_STD_EXTENSIONS=false",
        "--env",
        "GOFER_WEB_EXTERNAL_EVENTS__ENABLE=false",
        "--env",
        `GOFER_BUILD_COMMIT=${RUNTIME_COMMIT}`,
        IMAGE,
      ]);
      const metadata = await waitForContainerMetadata(url, CONTAINER, 15_000);
      assert.equal(metadata.status, 200, JSON.stringify(metadata.body));
      assert.deepEqual(metadata.body, { commit, semver: VERSION.semver });
    } finally {
      // --volumes also removes the anonymous volume the image's VOLUME gave the container.
      await docker(["rm", "--force", "--volumes", CONTAINER]).catch(() => undefined);
      await docker(["rmi", "--force", IMAGE]).catch(() => undefined);
    }
  });
});
