/**
 * Turns the pipeline file `gofer up` and `gofer pipeline create` are given into a validated v0 config.
 *
 * JSON is read here. TypeScript and JavaScript are evaluated in a child process (`pipeline-child.ts`), never in
 * the CLI's own: a pipeline file is arbitrary code that may print, hang, crash or change globals. The child
 * sends the config back over an IPC channel, so what the file prints cannot corrupt it, and is killed if it
 * takes too long. A folder holding a Go or Rust program is built and run by its toolchain
 * (`pipeline-program.ts`), and what the program prints on stdout is the config. Either way the config is then
 * checked with the same validator the server uses.
 */
import { spawn } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import { isSea } from "node:sea";
import { fileURLToPath } from "node:url";
import { type PipelineConfig, type ValidationProblem, validatePipelineConfig } from "@gofer/sdk";
import {
  type ChildFailure,
  type ChildMessage,
  type ChildStarted,
  UNSETTLED_TOP_LEVEL_AWAIT,
} from "./child-messages.ts";
import { commonJsFolderHint } from "./commonjs-folder-hint.ts";
import { parseJsonText } from "./json-text.ts";
import { PipelineFileError, type PipelineFileErrorCode } from "./pipeline-file-error.ts";
import {
  type PipelineProgram,
  PROGRAM_MANIFESTS,
  programSubject,
  runPipelineProgram,
} from "./pipeline-program.ts";
import { watchProcess } from "./process-watch.ts";
import { clipLines, indent } from "./report-text.ts";

export { PipelineFileError, type PipelineFileErrorCode } from "./pipeline-file-error.ts";

/** A pipeline file turned into a config the server will accept. */
export interface LoadedPipeline {
  /** Validated and in canonical form (every field present, conditions in PascalCase). */
  config: PipelineConfig;
  /**
   * The absolute path of the file the config came from (the file found, when a directory was given); for a Go or
   * Rust program, its `go.mod` or `Cargo.toml`.
   */
  source: string;
  /**
   * What the file printed on stdout and stderr while it ran, interleaved as it arrived; empty for JSON. For a
   * program, its build's output and what it printed on stderr.
   */
  output: string;
}

export interface LoadPipelineFileOptions {
  /**
   * How long evaluating a TypeScript or JavaScript file may take before it is killed, counted from when the
   * child process starts importing it; for a Go or Rust program, how long its build may take, and then how long
   * the program may take. 30 s unless given.
   */
  timeoutMs?: number;
  /**
   * Where a Go or Rust program's build output, and what the program prints on stderr, are shown as they arrive:
   * a build can take a while, and its warnings are worth reading. The CLI's stderr unless given (stdout is kept
   * for the command's result, `--output json` included); null to show nothing.
   */
  progress?: NodeJS.WritableStream | null;
}

/** The file names looked for, in this order, when the path given is a directory. */
export const PIPELINE_FILE_NAMES: readonly string[] = [
  "pipeline.ts",
  "pipeline.mts",
  "pipeline.js",
  "pipeline.mjs",
  "pipeline.json",
  "gofer.ts",
  "index.ts",
];

const MODULE_EXTENSIONS: readonly string[] = [".ts", ".mts", ".js", ".mjs"];
const MANIFEST_NAMES = [...PROGRAM_MANIFESTS.keys()];
const DEFAULT_TIMEOUT_MS = 30_000;
const CHILD_ENTRY = fileURLToPath(new URL("./pipeline-child-main.ts", import.meta.url));
// Starting Node and the child's own modules is not the file's time, but must not hang forever either.
const MIN_STARTUP_TIMEOUT_MS = 30_000;

const EXAMPLE_EXPORT =
  'export default pipeline("my-pipeline", "My pipeline").tasks(task("hello", "busybox:latest").command("echo", "hello"));';

/**
 * Loads the pipeline in the `.ts`, `.mts`, `.js`, `.mjs` or `.json` file at `path` (relative to the working
 * directory), or in the first of {@link PIPELINE_FILE_NAMES} found when `path` is a directory. A module's default
 * export (or else its export named `pipeline`) is taken: a pipeline builder, which is finished, or a config
 * object. A module may import `@gofer/sdk` without installing it.
 *
 * A directory with none of those files but a `go.mod` or a `Cargo.toml` (or the path of either file) holds a
 * pipeline written in Go or Rust: it is built and run, and the JSON it prints on stdout is the config.
 *
 * @throws PipelineFileError for every way the file can be missing, broken or invalid; its message says how to
 * fix it, and its `output` holds what the file printed.
 */
export async function loadPipelineFile(
  path: string,
  options: LoadPipelineFileOptions = {},
): Promise<LoadedPipeline> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(`timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`);
  }
  const located = await locatePipelineFile(resolve(path));
  if (typeof located !== "string") {
    const progress = options.progress === undefined ? process.stderr : options.progress;
    const { value, output } = await runPipelineProgram(located, { timeoutMs, progress });
    return validated(value, located.manifest, output, programSubject(located, true), "the program");
  }
  const source = located;
  const { value, output } =
    extname(source) === ".json"
      ? { value: await readJsonFile(source), output: "" }
      : await evaluateInChild(source, timeoutMs);
  return validated(value, source, output, source, "the file");
}

function validated(
  value: unknown,
  source: string,
  output: string,
  subject: string,
  fixIn: string,
): LoadedPipeline {
  const result = validatePipelineConfig(value);
  if (!result.ok) throw invalidConfig(source, output, result.problems, subject, fixIn);
  return { config: result.config, source, output };
}

/** The pipeline file at or in `path`, or the Go or Rust program there. */
async function locatePipelineFile(path: string): Promise<string | PipelineProgram> {
  const kind = await fileKind(path);
  if (kind === "missing") {
    throw new PipelineFileError(
      "PIPELINE_FILE_NOT_FOUND",
      `${path} does not exist.\nGive the path of a pipeline file (pipeline.ts, say) or of the directory holding it.`,
      { source: path },
    );
  }
  if (kind === "directory") {
    for (const name of PIPELINE_FILE_NAMES) {
      const candidate = join(path, name);
      if ((await fileKind(candidate)) === "file") return candidate;
    }
    const manifests: string[] = [];
    for (const name of MANIFEST_NAMES) {
      if ((await fileKind(join(path, name))) === "file") manifests.push(join(path, name));
    }
    const [manifest, other] = manifests;
    if (manifest !== undefined && other !== undefined) {
      throw new PipelineFileError(
        "PIPELINE_FILE_AMBIGUOUS",
        `${path} holds both a Go program (go.mod) and a Rust program (Cargo.toml).\n` +
          `Give the path of the one that prints the pipeline: ${manifests.join(" or ")}.`,
        { source: path },
      );
    }
    if (manifest !== undefined) return programAt(manifest);
    throw new PipelineFileError(
      "PIPELINE_FILE_NOT_FOUND",
      `found no pipeline file in ${path}: looked for ${PIPELINE_FILE_NAMES.join(", ")}, ` +
        `and for ${MANIFEST_NAMES.join(" or ")} (a pipeline written in Go or Rust).\n` +
        `Create pipeline.ts there with\n  import { pipeline, task } from "@gofer/sdk";\n  ${EXAMPLE_EXPORT}\n` +
        "or give the path of the file itself.",
      { source: path },
    );
  }
  if (PROGRAM_MANIFESTS.has(basename(path))) return programAt(path);
  const extension = extname(path);
  if (extension !== ".json" && !MODULE_EXTENSIONS.includes(extension)) {
    throw new PipelineFileError(
      "PIPELINE_FILE_UNSUPPORTED",
      `${path} is not a pipeline file: write the pipeline in a ${[...MODULE_EXTENSIONS, ".json"].join(", ")} ` +
        `file, or give the folder (or the ${MANIFEST_NAMES.join(" or ")}) of a pipeline written in Go or Rust.`,
      { source: path },
    );
  }
  return path;
}

function programAt(manifest: string): PipelineProgram {
  const language = PROGRAM_MANIFESTS.get(basename(manifest));
  if (language === undefined) throw new Error(`${manifest} is not the manifest of a pipeline program`);
  return { language, manifest, dir: dirname(manifest) };
}

async function fileKind(path: string): Promise<"file" | "directory" | "missing"> {
  try {
    return (await stat(path)).isDirectory() ? "directory" : "file";
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return "missing";
    throw error;
  }
}

async function readJsonFile(source: string): Promise<unknown> {
  const parsed = parseJsonText(await readFile(source, "utf8"));
  if (parsed.ok) return parsed.value;
  throw new PipelineFileError(
    "PIPELINE_FILE_INVALID_JSON",
    `${source} is not valid JSON: ${parsed.reason}${parsed.pointer}\n` +
      "JSON needs double quotes around names and strings and allows no comments or trailing commas.",
    { source },
  );
}

interface ChildResult {
  message: ChildMessage | undefined;
  /** What the file printed, without Node's report of a parse error. */
  output: string;
  /** Node's report of an uncaught parse error, when the child said it would print one. */
  report: string;
  timedOut: boolean;
  /** Whether the child got as far as importing the file. */
  started: boolean;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

async function evaluateInChild(
  source: string,
  timeoutMs: number,
): Promise<{ value: unknown; output: string }> {
  const result = await runChild(source, timeoutMs);
  const { message, output } = result;
  if (message?.kind === "config") return { value: message.config, output };
  if (message?.kind === "failed") throw childFailure(source, message, result);
  if (result.timedOut && !result.started) {
    throw new PipelineFileError(
      "PIPELINE_FILE_TIMEOUT",
      `${source}: the process to evaluate the pipeline file did not start within ` +
        `${startupTimeoutMs(timeoutMs) / 1000} s and was stopped. Is the machine overloaded?`,
      { source, output },
    );
  }
  if (result.timedOut) {
    throw new PipelineFileError(
      "PIPELINE_FILE_TIMEOUT",
      `${source}: the pipeline file did not finish within ${timeoutMs / 1000} s and was stopped.\n` +
        "Look for code that never finishes: an endless loop, a promise that never settles, a network call " +
        "without a timeout. A pipeline file should only build the pipeline and export it.",
      { source, output },
    );
  }
  if (result.exitCode === UNSETTLED_TOP_LEVEL_AWAIT) {
    throw new PipelineFileError(
      "PIPELINE_FILE_CRASHED",
      `${source}: the pipeline file awaits a promise that can never settle, so it never finishes.\n` +
        "Look for a top-level await on something that nothing resolves.",
      { source, output },
    );
  }
  const ending = result.signal === null ? `exit code ${result.exitCode}` : `signal ${result.signal}`;
  const tail = lastLines(output, 10);
  throw new PipelineFileError(
    "PIPELINE_FILE_CRASHED",
    `${source}: the process evaluating the pipeline file ended (${ending}) before the file exported a pipeline.\n` +
      (tail === "" ? "" : `${indent(tail)}\n`) +
      "Look for an error thrown in a callback or a call to process.exit(); a pipeline file should only build " +
      "the pipeline and export it.",
    { source, output },
  );
}

function startupTimeoutMs(timeoutMs: number): number {
  return Math.max(timeoutMs, MIN_STARTUP_TIMEOUT_MS);
}

async function runChild(source: string, timeoutMs: number): Promise<ChildResult> {
  const token = globalThis.crypto.randomUUID();
  // The single binary has no child module on disk: it starts itself, and main.ts runs the child when it sees
  // the variable.
  const child = isSea()
    ? spawn(process.execPath, [source, token], {
        stdio: ["ignore", "pipe", "pipe", "ipc"],
        env: { ...process.env, GOFER_PIPELINE_CHILD: "1" },
      })
    : spawn(process.execPath, [CHILD_ENTRY, source, token], { stdio: ["ignore", "pipe", "pipe", "ipc"] });
  const watched = watchProcess(child, { timeoutMs: startupTimeoutMs(timeoutMs), stdout: "output" });
  let message: ChildMessage | undefined;
  let started = false;
  child.on("message", (received: unknown) => {
    if (!started && isStartedMessage(received, token)) {
      started = true;
      watched.restartTimer(timeoutMs);
    } else if (message === undefined && isChildMessage(received, token)) {
      message = received;
    }
  });

  const { error, output, timedOut, exitCode, signal } = await watched.ended;
  if (error !== undefined) throw error;
  const [printed, report] = output.splitAt(`\n${token}\n`);
  return { message, output: printed, report, timedOut, started, exitCode, signal };
}

function isStartedMessage(value: unknown, token: string): value is ChildStarted {
  if (typeof value !== "object" || value === null) return false;
  const fields = value as Record<string, unknown>;
  return fields.token === token && fields.kind === "started";
}

function isChildMessage(value: unknown, token: string): value is ChildMessage {
  if (typeof value !== "object" || value === null) return false;
  const fields = value as Record<string, unknown>;
  if (fields.token !== token) return false;
  if (fields.kind === "config") return "config" in fields;
  return fields.kind === "failed" && typeof fields.reason === "string" && typeof fields.detail === "string";
}

function childFailure(source: string, message: ChildFailure, result: ChildResult): PipelineFileError {
  const { output } = result;
  const fail = (code: PipelineFileErrorCode, text: string) =>
    new PipelineFileError(code, text, { source, output });
  switch (message.reason) {
    case "syntax": {
      const report = parseReport(result.report || message.detail);
      return fail(
        "PIPELINE_FILE_SYNTAX_ERROR",
        `${source} has a syntax error:\n${indent(report)}\n` +
          (message.errorCode === "ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX"
            ? "Node.js runs TypeScript by erasing the types, so syntax that generates code is not supported: " +
              "use a union of string literals or a plain object instead of an enum, a module instead of a " +
              "namespace, and ordinary fields instead of constructor parameter properties."
            : (commonJsFolderHint(source, report) ?? "Fix the line shown and try again.")),
      );
    }
    case "import-failed":
      return fail(
        "PIPELINE_FILE_IMPORT_FAILED",
        `${source} imports a module that could not be loaded:\n${indent(message.detail)}\n` +
          "Check the import path, and install the packages the file imports next to it (npm install <package>); " +
          "only @gofer/sdk is available without installing.",
      );
    case "threw":
      return fail(
        "PIPELINE_FILE_THREW",
        `${source} threw an error while it was evaluated:\n${indent(message.detail)}\n` +
          "Fix the error where the frames above point; the file runs as `node <file>` would run it.",
      );
    case "invalid-config":
      return invalidConfig(source, output, message.problems ?? []);
    case "no-export":
      return fail(
        "PIPELINE_FILE_NO_EXPORT",
        `${source} has no default export (${message.detail}).\n` +
          `Export the pipeline as the module's default export:\n  ${EXAMPLE_EXPORT}`,
      );
    case "wrong-export":
      return fail(
        "PIPELINE_FILE_WRONG_EXPORT",
        `${source} does not export a pipeline: ${message.detail}.\n` +
          "Export a pipeline builder, or the config object its finish() returns:\n" +
          `  ${EXAMPLE_EXPORT}`,
      );
  }
}

function invalidConfig(
  source: string,
  output: string,
  problems: readonly ValidationProblem[],
  subject = source,
  fixIn = "the file",
): PipelineFileError {
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  return new PipelineFileError(
    "PIPELINE_FILE_INVALID_CONFIG",
    `${subject} describes a pipeline that is not valid (${count}):\n` +
      `${problems.map((problem) => `  - ${describeProblem(problem)}`).join("\n")}\n` +
      `Fix these in ${fixIn} and try again; the server applies the same rules.`,
    { source, output, problems },
  );
}

// Builder users know a task by its id rather than by its index in `tasks`, so the id leads unless the message
// already starts with it (the same convention as the SDK's PipelineConfigError).
function describeProblem(problem: ValidationProblem): string {
  if (problem.taskId === undefined) return problem.message;
  const subject = `task \`${problem.taskId}\``;
  return problem.message.startsWith(`${subject} `) || problem.message.startsWith(`${subject}:`)
    ? problem.message
    : `${subject}: ${problem.message}`;
}

// Node's report of an uncaught error: the offending source line and a caret, then the error, then its stack;
// the stack is only Node's loader, so it is dropped.
function parseReport(report: string): string {
  const lines = report.replace(/^\n+/, "").split("\n");
  const firstFrame = lines.findIndex((line) => /^\s+at /.test(line));
  return clipLines(firstFrame === -1 ? lines : lines.slice(0, firstFrame))
    .join("\n")
    .replace(/file:\/\/\S+/g, toPath)
    .trimEnd();
}

function lastLines(text: string, count: number): string {
  const lines = text
    .split("\n")
    .filter((line) => !/^\s+at /.test(line) && !/^Node\.js v\d/.test(line) && line.trim() !== "");
  return clipLines(lines.slice(-count)).join("\n");
}

function toPath(url: string): string {
  try {
    return fileURLToPath(url);
  } catch {
    return url;
  }
}
