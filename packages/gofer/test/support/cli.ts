/**
 * Runs the real `gofer` executable (bin/gofer.js on the pinned Node) the way a user would, against a test server,
 * with a HOME of its own so no ~/.gofer.toml on the machine can change what a test sees.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { startTestServer, type TestServer } from "./test-server.ts";

export const GOFER_BIN = new URL("../../bin/gofer.js", import.meta.url).pathname;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  cwd?: string;
}

/** A home folder with nothing in it, made once per test file. */
const emptyHome = mkdtempSync(join(tmpdir(), "gofer-cli-home-"));

export function runGofer(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({
    PATH: process.env.PATH,
    HOME: emptyHome,
    NO_COLOR: "1",
    NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE,
    ...options.env,
  }))
    if (value !== undefined) env[key] = value;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [GOFER_BIN, ...args], {
      env,
      cwd: options.cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timeoutMs = options.timeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(`gofer ${args.join(" ")} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`),
      );
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `runGofer` pointed at `server` with its bootstrap token, as a logged-in user would run it. */
export function goferAgainst(server: TestServer) {
  return (args: string[], options: CliOptions = {}) =>
    runGofer(args, {
      ...options,
      env: { GOFER_API_BASE_URL: server.url, GOFER_TOKEN: server.token, ...options.env },
    });
}

/** Parses stdout as the one JSON document `--json` promises, failing with the whole output when it is not. */
export function parseJson(result: CliResult): unknown {
  try {
    return JSON.parse(result.stdout);
  } catch {
    throw new Error(`stdout is not one JSON document:\n${result.stdout}\n--- stderr:\n${result.stderr}`);
  }
}

export type Gofer = ReturnType<typeof goferAgainst>;

/**
 * One test server for a test file's CLI tests, with `gofer` pointed at it: started before the file's tests and
 * stopped after them. `assign` receives both, for the file's own variables.
 */
export function useCliServer(assign: (server: TestServer, gofer: Gofer) => void): void {
  let server: TestServer | undefined;
  before(async () => {
    server = await startTestServer();
    assign(server, goferAgainst(server));
  });
  after(async () => {
    await server?.stop();
  });
}

/** Checks the exit code, showing everything the command printed when it is not the expected one. */
export function assertExit(result: CliResult, code: number): void {
  assert.equal(
    result.code,
    code,
    `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
  );
}
