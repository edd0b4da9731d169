import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer as createTcpServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { freePort } from "./support/free-port.ts";
import { startTestServer } from "./support/test-server.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;

function quickstart(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["scripts/quickstart.sh"], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the quickstart did not finish within 180 s:\n${output}`));
    }, 180_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopServer(pidFile: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8"));
  if (!isRunning(pid)) return;
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + 15_000;
  while (isRunning(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  if (isRunning(pid)) process.kill(pid, "SIGKILL");
}

describe("npm run quickstart", () => {
  const data = mkdtempSync(join(tmpdir(), "gofer-quickstart-"));
  const pidFile = join(data, "server.pid");
  after(async () => {
    await stopServer(pidFile);
    rmSync(data, { recursive: true, force: true });
  });

  it("takes a fresh data folder to a finished dag run with its logs, and works again when run twice", async () => {
    const env = { GOFER_WEB_SERVER__DATA_DIR: data, GOFER_QUICKSTART_PORT: String(await freePort()) };

    const first = await quickstart(env);
    assert.equal(first.code, 0, first.output);
    assert.match(first.output, /starting the Gofer server/);
    assert.match(first.output, /Registered and deployed version 1 of dag/);
    assert.match(first.output, /Run 1 successful in .* \(5 successful, 1 skipped\)/);
    assert.match(first.output, /── build \(successful\)\nbuild: compile\nbuild: link\nbuild: package\n/);
    assert.match(first.output, /Try next/);
    // The token is kept for the next run, readable by its owner only.
    assert.equal(statSync(join(data, "cli.toml")).mode & 0o077, 0);

    const second = await quickstart(env);
    assert.equal(second.code, 0, second.output);
    assert.match(second.output, /already answers/);
    assert.match(second.output, /Nothing to do: version 1 is live and identical/);
    assert.match(second.output, /Run 2 successful/);

    // With the server stopped, the same command starts it again on the kept data and token.
    await stopServer(pidFile);
    const third = await quickstart(env);
    assert.equal(third.code, 0, third.output);
    assert.match(third.output, /starting the Gofer server/);
    assert.match(third.output, /Run 3 successful/);
  });
});

/** Runs `work` with `server` listening on a free loopback port, and closes it after. */
async function holding<T>(server: Server, work: (port: number) => Promise<T>): Promise<T> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    return await work((server.address() as { port: number }).port);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** It stopped before starting a server, saying how to move it, without a stack trace. */
function assertStoppedForPort(result: { code: number | null; output: string }, why: RegExp): void {
  assert.equal(result.code, 1, result.output);
  assert.match(result.output, why);
  assert.match(result.output, /GOFER_QUICKSTART_PORT=\d+ npm run quickstart/);
  assert.doesNotMatch(
    result.output,
    /starting the Gofer server|using it|SyntaxError|^\s+at /m,
    result.output,
  );
}

describe("npm run quickstart on a port someone else holds", () => {
  const data = mkdtempSync(join(tmpdir(), "gofer-quickstart-taken-"));
  after(async () => {
    await stopServer(join(data, "server.pid"));
    rmSync(data, { recursive: true, force: true });
  });
  const env = (port: number) => ({ GOFER_WEB_SERVER__DATA_DIR: data, GOFER_QUICKSTART_PORT: String(port) });

  it("stops when a web server that is not Gofer answers there", async () => {
    // Like a single-page app's dev server: 200 and HTML for every path.
    const web = createHttpServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><p>another app</p>");
    });
    const result = await holding(web, async (port) => quickstart(env(port)));
    assertStoppedForPort(
      result,
      /something other than Gofer listens at http:\/\/127\.0\.0\.1:\d+ \(it answers/,
    );
    assert.match(result.output, /HTTP 200 \(text\/html\)/);
  });

  it("stops when a Gofer server it did not start answers there", async () => {
    const port = await freePort();
    const other = await startTestServer({ GOFER_WEB_SERVER__BIND_ADDRESS: `127.0.0.1:${port}` });
    try {
      const result = await quickstart(env(port));
      assertStoppedForPort(result, /a Gofer server that this quickstart did not start answers at/);
    } finally {
      await other.stop();
    }
  });

  it("stops when the webhook listener's port, the next one, is taken", async () => {
    const result = await holding(createTcpServer(), async (taken) => quickstart(env(taken - 1)));
    assertStoppedForPort(result, /port \d+, for the webhook listener, is taken by another process/);
  });
});
