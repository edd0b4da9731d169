/**
 * The child process that evaluates a pipeline file, started by `loadPipelineFile` with the file's absolute path
 * and a token as its arguments and an IPC channel: from sources as `node pipeline-child-main.ts <file> <token>`,
 * in the single binary as the binary itself with `GOFER_PIPELINE_CHILD=1` (see main.ts). A pipeline file is
 * arbitrary code that may print, hang, crash or change globals, so it never runs in the CLI's own process.
 *
 * Kept free of the SDK: the pipeline file may bring its own copy, so builders and config errors are recognised
 * by shape, and the config is validated by the parent.
 */
import { isSea } from "node:sea";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  type ChildFailure,
  type ChildFailureReason,
  type ChildMessage,
  type ChildProblem,
  type ChildStarted,
  UNSETTLED_TOP_LEVEL_AWAIT,
} from "./child-messages.ts";
import { registerSdkFallback } from "./sdk-resolution.ts";
import { registerTypeScriptAsModule } from "./typescript-as-module.ts";

/** A message before the token is added: the evaluation does not need to know it. */
type Unsent<T> = T extends unknown ? Omit<T, "token"> : never;

/** What to send, and for a parse error the error to let Node report after it. */
interface Outcome {
  message: Unsent<ChildMessage>;
  parseError?: unknown;
}

const MAX_SHOWN_FRAMES = 5;
// Frames in the CLI's own modules (this one, the resolution hook) are not the user's to fix. In the single
// binary those are the frames of the bundle, which stack traces name by the file the binary was built from;
// the binary's own folder may well hold the user's pipeline file, so it is no guide there.
const CLI_FOLDER_URL = new URL(".", import.meta.url).href;
const CLI_FOLDER = fileURLToPath(CLI_FOLDER_URL);
const BUNDLE_FRAME = /^(?:.*\()?gofer\.cjs:\d+:\d+\)?$/;

/**
 * Evaluates the file named by the process's arguments, sends the result to the parent and ends the process.
 * The caller must not do anything else in this process.
 */
export async function runPipelineChild(): Promise<void> {
  const [file, token = ""] = process.argv.slice(2);
  const send = process.send?.bind(process);
  if (file === undefined || token === "" || send === undefined) {
    process.stderr.write(
      "the pipeline child is started by the gofer CLI with a file, a token and an IPC channel\n",
    );
    process.exit(2);
  }
  const sendAndWait = (message: ChildMessage | ChildStarted) =>
    new Promise<void>((resolve) => {
      send(message, () => resolve());
    });

  await registerSdkFallback();
  registerTypeScriptAsModule();
  // The event loop emptying while the import is pending means the file awaits something nothing can settle.
  // Node gives that its own exit code only when the entry module is ESM, and the single binary's is CommonJS.
  // Not on "exit": that also follows a process.exit() in the file, which is reported as such.
  let evaluating = true;
  process.once("beforeExit", () => {
    if (evaluating) process.exitCode = UNSETTLED_TOP_LEVEL_AWAIT;
  });
  await sendAndWait({ token, kind: "started" });
  const outcome = await evaluate(file);
  evaluating = false;
  await sendAndWait({ ...outcome.message, token });
  await flush(process.stdout);
  await flush(process.stderr);
  if (outcome.parseError !== undefined) {
    // Node prints the offending source line and a caret only for an error nobody catches; the token tells the
    // parent where the pipeline file's own output ends and that report begins.
    process.stderr.write(`\n${token}\n`);
    throw outcome.parseError;
  }
  // The pipeline file may have left timers or sockets open; they must not keep the CLI waiting.
  process.exit(0);
}

async function evaluate(path: string): Promise<Outcome> {
  let namespace: Record<string, unknown>;
  try {
    namespace = await import(pathToFileURL(path).href);
  } catch (error) {
    if (isParseError(error)) {
      // TypeScript's parse errors already carry the source line in their stack; JavaScript's do not.
      const report = sourceReport(error);
      return report === undefined
        ? { message: failed("syntax", headline(error), errorCode(error)), parseError: error }
        : { message: failed("syntax", report, errorCode(error)) };
    }
    if (isLoadError(error))
      return { message: failed("import-failed", describeError(error), errorCode(error)) };
    return { message: failed("threw", describeError(error)) };
  }

  const picked = pickExport(namespace);
  if (picked === undefined) return { message: failed("no-export", describeExports(namespace)) };

  let value = picked.value;
  if (isBuilder(value)) {
    try {
      value = value.finish();
    } catch (error) {
      if (isConfigError(error)) {
        return {
          message: { ...failed("invalid-config", error.message), problems: copyProblems(error.problems) },
        };
      }
      return { message: failed("threw", describeError(error)) };
    }
  }
  if (!isPlainObject(value))
    return { message: failed("wrong-export", describeWrongExport(picked.name, value)) };

  let config: unknown;
  try {
    config = JSON.parse(JSON.stringify(value));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { message: failed("wrong-export", `the ${picked.name} cannot be turned into JSON: ${reason}`) };
  }
  return { message: { kind: "config", config } };
}

function failed(reason: ChildFailureReason, detail: string, code?: string): Unsent<ChildFailure> {
  return code === undefined
    ? { kind: "failed", reason, detail }
    : { kind: "failed", reason, detail, errorCode: code };
}

function pickExport(namespace: Record<string, unknown>): { name: string; value: unknown } | undefined {
  // A CommonJS file that assigns nothing still has a default export: the empty `module.exports`.
  const emptyCommonJs =
    "module.exports" in namespace &&
    isPlainObject(namespace.default) &&
    Object.keys(namespace.default).length === 0;
  if ("default" in namespace && !emptyCommonJs) return { name: "default export", value: namespace.default };
  if ("pipeline" in namespace) return { name: "export `pipeline`", value: namespace.pipeline };
  return undefined;
}

function describeExports(namespace: Record<string, unknown>): string {
  const names = Object.keys(namespace).filter((name) => name !== "default" && name !== "module.exports");
  return names.length === 0
    ? "the module exports nothing"
    : `the module exports only ${names.map((name) => `\`${name}\``).join(", ")}`;
}

function describeWrongExport(name: string, value: unknown): string {
  if (typeof value === "function") {
    return value.name === "pipeline"
      ? `the ${name} is the function \`pipeline\` itself; call it: pipeline("id", "Name").tasks(...)`
      : `the ${name} is a function; export the pipeline it makes, not the function`;
  }
  if (isThenable(value)) return `the ${name} is a Promise; await it: export default await ...`;
  if (value === null || value === undefined) return `the ${name} is ${String(value)}`;
  if (Array.isArray(value)) return `the ${name} is an array, not a pipeline`;
  if (typeof value !== "object") return `the ${name} is a ${typeof value}, not a pipeline`;
  const kind = value.constructor?.name;
  if (kind === "TaskBuilder") {
    return `the ${name} is a task, not a pipeline; add it to one: pipeline("id", "Name").tasks(yourTask)`;
  }
  return `the ${name} is ${kind ? `a ${kind}` : "an object with no prototype"}, not a pipeline builder or a plain config object`;
}

// A parse or link error reaches the import with nothing but Node's loader on its stack; a SyntaxError the
// file's code throws while running (from JSON.parse, say) has the file's own frames.
function isParseError(error: unknown): boolean {
  return error instanceof SyntaxError && userFrames(error).length === 0;
}

function isLoadError(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && userFrames(error).length === 0 && /^ERR_|^MODULE_NOT_FOUND$/.test(code);
}

function isBuilder(value: unknown): value is { finish(): unknown } {
  return (
    typeof value === "object" && value !== null && "finish" in value && typeof value.finish === "function"
  );
}

function isConfigError(error: unknown): error is Error & { problems: unknown[] } {
  return (
    error instanceof Error &&
    error.name === "PipelineConfigError" &&
    "problems" in error &&
    Array.isArray(error.problems)
  );
}

function copyProblems(problems: readonly unknown[]): ChildProblem[] {
  return problems.map((problem) => {
    const fields =
      typeof problem === "object" && problem !== null ? (problem as Record<string, unknown>) : {};
    const copy: ChildProblem = {
      path: typeof fields.path === "string" ? fields.path : "",
      message: typeof fields.message === "string" ? fields.message : String(problem),
    };
    if (typeof fields.taskId === "string") copy.taskId = fields.taskId;
    return copy;
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function isThenable(value: unknown): boolean {
  return typeof value === "object" && value !== null && "then" in value && typeof value.then === "function";
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  return typeof error.code === "string" ? error.code : undefined;
}

function headline(error: unknown): string {
  if (!(error instanceof Error))
    return `threw ${typeof error === "string" ? JSON.stringify(error) : String(error)}`;
  const code = errorCode(error);
  return `${error.name}${code === undefined ? "" : ` [${code}]`}: ${error.message}`;
}

// The error and where in the user's code it came from, without the frames of Node's loader and of this file.
function describeError(error: unknown): string {
  const frames = userFrames(error).slice(0, MAX_SHOWN_FRAMES);
  return [headline(error), ...frames.map((frame) => `    at ${frame}`)].join("\n");
}

// The part of a stack before its frames, when it starts with a source location rather than the error's name.
function sourceReport(error: unknown): string | undefined {
  if (!(error instanceof Error) || typeof error.stack !== "string" || error.stack.startsWith(error.name)) {
    return undefined;
  }
  const lines = error.stack.split("\n");
  const firstFrame = lines.findIndex((line) => /^\s+at /.test(line));
  return (firstFrame === -1 ? lines : lines.slice(0, firstFrame)).join("\n").trimEnd();
}

function userFrames(error: unknown): string[] {
  if (!(error instanceof Error) || typeof error.stack !== "string") return [];
  return error.stack
    .split("\n")
    .filter((line) => /^\s+at /.test(line))
    .map((line) => line.trim().slice("at ".length))
    .filter((frame) => !/\bnode:|<anonymous>/.test(frame))
    .filter((frame) => !isCliFrame(frame))
    .map(withPaths);
}

function isCliFrame(frame: string): boolean {
  if (isSea()) return BUNDLE_FRAME.test(frame);
  return frame.includes(CLI_FOLDER_URL) || frame.includes(CLI_FOLDER);
}

function withPaths(frame: string): string {
  return frame.replace(/file:\/\/[^\s)]+/g, (url) => {
    try {
      return fileURLToPath(url);
    } catch {
      return url;
    }
  });
}

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    stream.write("", () => resolve());
  });
}
