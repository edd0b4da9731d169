/** Runs scripts/chaos.ts as the test command does: its exit code and everything it printed. */
import { execFile } from "node:child_process";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../../../..");

export function runChaos(
  args: string[],
  timeoutMs: number,
): Promise<{ exit: number | string; output: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ["scripts/chaos.ts", ...args],
      { cwd: ROOT, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const exit = error === null ? 0 : typeof error.code === "number" ? error.code : String(error.signal);
        done({ exit, output: `${stdout}${stderr}` });
      },
    );
  });
}
