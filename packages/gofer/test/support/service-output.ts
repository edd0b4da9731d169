/**
 * `gofer service start` as a child process, for tests of what it says while starting: its output is collected
 * until the "Gofer is listening" line and whatever else `ready` waits for, and `stop` ends it with SIGTERM.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const ROOT = resolve(import.meta.dirname, "../../../..");

export interface StartedService {
  /** Everything printed so far, stdout and stderr together. */
  output(): string;
  stop(): Promise<void>;
}

export async function startServiceOutput(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: (output: string) => boolean = () => true,
  timeoutMs = 45_000,
): Promise<StartedService> {
  const child = spawn(process.execPath, ["packages/gofer/src/main.ts", "service", "start", ...args], {
    cwd: ROOT,
    env: { ...process.env, GOFER_WEB_API__LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk) => {
    output += chunk;
  });
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill("SIGTERM");
    await new Promise((done) => child.once("exit", done));
  };
  const deadline = Date.now() + timeoutMs;
  while (!/Gofer is listening/.test(output) || !ready(output)) {
    if (child.exitCode !== null) assert.fail(`the server exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      await stop();
      assert.fail(`the server did not start:\n${output}`);
    }
    await sleep(100);
  }
  return { output: () => output, stop };
}
