/**
 * Runs the real `gofer` executable (bin/gofer.js on the pinned Node) the way a user would, against a test server,
 * with a HOME of its own so no ~/.gofer.toml on the machine can change what a test sees.
 */
import assert from "node:assert/strict";
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { after, before } from "node:test";
import { startTestServer, type TestServer } from "./test-server.ts";

export const GOFER_BIN = new URL("../../bin/gofer.js", import.meta.url).pathname;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A `CliResult` whose stdout is kept as the bytes the command wrote. */
export interface CliBytesResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  cwd?: string;
  /** Written to the command's stdin, which is then closed; without it stdin is closed from the start. */
  input?: string | Buffer;
}

const scratch: string[] = [];

/** A temporary folder, removed when the test file that made it ends. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

after(() => {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A home folder with nothing in it, made once per test file. */
const emptyHome = scratchDir("gofer-cli-home-");

export async function runGofer(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const result = await runGoferBytes(args, options);
  return { ...result, stdout: result.stdout.toString("utf8") };
}

/** `runGofer` keeping stdout as bytes, for commands that write binary contents. */
export function runGoferBytes(args: string[], options: CliOptions = {}): Promise<CliBytesResult> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({
    PATH: process.env.PATH,
    HOME: emptyHome,
    NO_COLOR: "1",
    NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE,
    ...options.env,
  }))
    if (value !== undefined) env[key] = value;
  const { input } = options;
  return new Promise((resolve, reject) => {
    const command = [GOFER_BIN, ...args];
    const child: ChildProcessByStdio<Writable | null, Readable, Readable> =
      input === undefined
        ? spawn(process.execPath, command, { env, cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] })
        : spawn(process.execPath, command, { env, cwd: options.cwd, stdio: "pipe" });
    const stdout: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timeoutMs = options.timeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `gofer ${args.join(" ")} did not finish within ${timeoutMs} ms\n${Buffer.concat(stdout)}\n${stderr}`,
        ),
      );
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(stdout), stderr });
    });
    if (input !== undefined) {
      // A command that exits without reading all of its input is judged by its exit code and output, not by EPIPE.
      child.stdin?.on("error", (error: NodeJS.ErrnoException) => {
        if (error.code !== "EPIPE") reject(error);
      });
      child.stdin?.end(input);
    }
  });
}

/** `options` with `server`'s URL and bootstrap token added to the environment. */
function againstServer(server: TestServer, options: CliOptions): CliOptions {
  return { ...options, env: { GOFER_API_BASE_URL: server.url, GOFER_TOKEN: server.token, ...options.env } };
}

/** `runGofer` pointed at `server` with its bootstrap token, as a logged-in user would run it. */
export function goferAgainst(server: TestServer) {
  return (args: string[], options: CliOptions = {}) => runGofer(args, againstServer(server, options));
}

/** `runGoferBytes` pointed at `server` like `goferAgainst`. */
export function goferBytesAgainst(server: TestServer) {
  return (args: string[], options: CliOptions = {}) => runGoferBytes(args, againstServer(server, options));
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

/** Everything a command printed, with its exit code, for an assertion's message. */
export const showResult = (result: CliResult): string =>
  `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;

/** Checks the exit code, showing everything the command printed when it is not the expected one. */
export function assertExit(result: CliResult, code: number): void {
  assert.equal(result.code, code, showResult(result));
}

/** The start of an ANSI escape sequence (colour, bold). */
export const ANSI = "\u001b[";

/** Success with no colour codes: nothing in the tests runs on a terminal. */
export function assertOk(result: CliResult): CliResult {
  assertExit(result, 0);
  assert.ok(!result.stdout.includes(ANSI), `colour codes on stdout\n${showResult(result)}`);
  assert.ok(!result.stderr.includes(ANSI), `colour codes on stderr\n${showResult(result)}`);
  return result;
}
