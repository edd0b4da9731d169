import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { freePort } from "./support/free-port.ts";

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
