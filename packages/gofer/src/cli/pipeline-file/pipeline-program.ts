/**
 * Pipelines written as Go or Rust programs, run the way Gofer's `up` ran them: a folder with a `go.mod` is built
 * with `go build` and the binary run, a folder with a `Cargo.toml` is built and run with cargo, and what the
 * program prints on stdout is the config (Gofer's SDKs print it from `Finish()` / `finish()`).
 *
 * Where this differs from Gofer, on purpose:
 * - Building and running are two steps, each with the `--timeout` limit, so a build that fails is told apart from
 *   a program that fails, and a slow first build does not eat the program's time.
 * - Nothing is fetched: Go runs with `GOPROXY=off` and `GOTOOLCHAIN=local`, cargo with `--offline`. A pipeline
 *   load must not hang on the network or download a toolchain; dependencies are fetched once by the user
 *   (`go mod download`, `cargo fetch`), and the error says so.
 * - Nothing is left in the user's folder but what the toolchain itself keeps there (cargo's `Cargo.lock`): the Go
 *   binary goes to a temporary folder removed afterwards, cargo's `target` to a cache folder per program.
 * - Both programs run in their own folder, so a path in the program means the same for either language.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { access, lstat, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { parseJsonText } from "./json-text.ts";
import { PipelineFileError, type PipelineFileErrorCode } from "./pipeline-file-error.ts";
import { MAX_STDOUT_CHARS, type ProcessEnd, watchProcess } from "./process-watch.ts";
import { excerpt, indent } from "./report-text.ts";

export type ProgramLanguage = "go" | "rust";

/** The file that marks a folder as a pipeline program, and the language it is written in. */
export const PROGRAM_MANIFESTS: ReadonlyMap<string, ProgramLanguage> = new Map([
  ["go.mod", "go"],
  ["Cargo.toml", "rust"],
]);

export interface PipelineProgram {
  language: ProgramLanguage;
  /** The absolute path of its `go.mod` or `Cargo.toml`. */
  manifest: string;
  /** The folder holding the manifest, where the program is built and run. */
  dir: string;
}

export interface RunProgramOptions {
  /** How long the build may take, and then how long the program may take. */
  timeoutMs: number;
  /** Where the build's output and what the program prints on stderr are shown as they arrive; null for nowhere. */
  progress: NodeJS.WritableStream | null;
}

interface Toolchain {
  name: string;
  command: string;
  install: string;
  fetch: string;
}

const TOOLCHAINS: Record<ProgramLanguage, Toolchain> = {
  go: {
    name: "Go",
    command: "go",
    install: "apt-get install golang-go (Debian, Ubuntu), or see https://go.dev/doc/install",
    fetch: "go mod download",
  },
  rust: {
    name: "Rust",
    command: "cargo",
    install: "apt-get install cargo (Debian, Ubuntu), or rustup from https://rustup.rs",
    fetch: "cargo fetch",
  },
};

interface Step {
  command: string;
  args: string[];
}

interface BuildStep extends Step {
  /** How the build is named in messages. */
  shown: string;
  /** A command that builds the same in the program's folder, for the user to see the whole output. */
  manual: string;
}

/** How the program is named in messages; capitalized to start a sentence. */
export function programSubject(program: PipelineProgram, capitalized = false): string {
  return `${capitalized ? "The" : "the"} ${TOOLCHAINS[program.language].name} program in ${program.dir}`;
}

/**
 * Builds and runs `program` and parses what it printed on stdout as JSON; the caller validates it.
 *
 * @throws PipelineFileError when the toolchain is missing, the build fails, the program fails or prints
 * something that is not JSON, or either step runs out of time.
 */
export async function runPipelineProgram(
  program: PipelineProgram,
  options: RunProgramOptions,
): Promise<{ value: unknown; output: string }> {
  const toolchain = TOOLCHAINS[program.language];
  const subject = programSubject(program, true);
  const work = await mkdtemp(join(tmpdir(), "gofer-pipeline-program-"));
  try {
    const env = await toolchainEnv(program, work);
    const { build, run } = steps(program, work);
    options.progress?.write(`Building ${programSubject(program)}: ${build.shown}\n`);
    const built = await execute(build, program, env, "output", options);
    const buildOutput = built.output.text();
    if (built.error !== undefined) throw startFailure(program, toolchain, built.error, buildOutput);
    if (built.timedOut) {
      throw failure(
        "PIPELINE_FILE_TIMEOUT",
        program,
        buildOutput,
        `Building ${programSubject(program)} did not finish within ${seconds(options)}: \`${build.shown}\` was ` +
          "stopped.\nWhat it compiled is kept, so running the command again carries on where it stopped; a " +
          "first build that compiles many dependencies may need more time: pass --timeout <seconds>.",
      );
    }
    if (built.exitCode !== 0) {
      throw failure(
        "PIPELINE_FILE_BUILD_FAILED",
        program,
        buildOutput,
        `${subject} does not build: \`${build.shown}\` ${ending(built)}:\n${indent(excerpt(buildOutput))}\n` +
          offlineHint(buildOutput, toolchain) +
          `Fix the program and try again; \`cd ${program.dir} && ${build.manual}\` shows the whole output.`,
      );
    }

    const ran = await execute(run, program, env, "apart", options);
    const output = buildOutput + ran.output.text();
    if (ran.error !== undefined) throw startFailure(program, toolchain, ran.error, output);
    if (ran.stdoutOverflowed) {
      throw failure(
        "PIPELINE_FILE_INVALID_JSON",
        program,
        output,
        `${subject} printed more than ${MAX_STDOUT_CHARS / 1024 / 1024} MiB on stdout, far more than a ` +
          "pipeline config, and was stopped.\nStdout must hold the pipeline config only; print anything else " +
          "on stderr.",
      );
    }
    if (ran.timedOut) {
      throw failure(
        "PIPELINE_FILE_TIMEOUT",
        program,
        output,
        `${subject} did not finish within ${seconds(options)} and was stopped.\n` +
          "Look for code that never finishes: an endless loop, a network call without a timeout. A pipeline " +
          "program should only build the pipeline and print it.",
      );
    }
    if (ran.exitCode !== 0) {
      const tail = excerpt(ran.output.text());
      throw failure(
        "PIPELINE_FILE_CRASHED",
        program,
        output,
        `${subject} ${ending(ran)} before it printed a pipeline config` +
          (tail === "" ? ".\n" : `:\n${indent(tail)}\n`) +
          "A pipeline program should build the pipeline, print it (the SDK's Finish() does) and exit 0.",
      );
    }
    return { value: parseStdout(program, ran.stdout, output), output };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function steps(program: PipelineProgram, work: string): { build: BuildStep; run: Step } {
  if (program.language === "go") {
    const binary = join(work, "pipeline");
    return {
      build: {
        command: "go",
        args: ["build", "-o", binary, "."],
        shown: "go build",
        manual: "go build -o /dev/null .",
      },
      run: { command: binary, args: [] },
    };
  }
  const manifest = ["--manifest-path", program.manifest];
  return {
    build: {
      command: "cargo",
      args: ["build", "--offline", ...manifest],
      shown: "cargo build",
      manual: "cargo build --offline",
    },
    // Already built, so cargo only checks that it is fresh; --quiet keeps that from repeating in the output.
    run: { command: "cargo", args: ["run", "--offline", "--quiet", ...manifest] },
  };
}

function execute(
  step: Step,
  program: PipelineProgram,
  env: NodeJS.ProcessEnv,
  stdout: "output" | "apart",
  options: RunProgramOptions,
): Promise<ProcessEnd> {
  const { progress } = options;
  const child = spawn(step.command, step.args, { cwd: program.dir, env, stdio: ["ignore", "pipe", "pipe"] });
  return watchProcess(child, {
    timeoutMs: options.timeoutMs,
    stdout,
    ...(progress === null ? {} : { onOutput: (chunk: string) => progress.write(chunk) }),
  }).ended;
}

/** The environment the toolchain runs in: the user's, kept from the network and given caches it can write. */
async function toolchainEnv(program: PipelineProgram, work: string): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (program.language === "go") {
    env.GOPROXY = "off";
    env.GOTOOLCHAIN = "local";
    // Go keeps its caches under the user's cache folder and home; without a writable one it refuses to build.
    if ((await userCacheDir()) === undefined) {
      const cache = (await sharedTempCache()) ?? work;
      env.GOCACHE ||= join(cache, "go-build");
      env.GOPATH ||= join(cache, "go");
    }
    return env;
  }
  if (!env.CARGO_TARGET_DIR) {
    // One target folder per program: cargo would rebuild, or mix up, two programs sharing a package name.
    const key = createHash("sha256").update(program.dir).digest("hex").slice(0, 16);
    const home = await userCacheDir();
    const cache = home === undefined ? await sharedTempCache() : join(home, "gofer");
    env.CARGO_TARGET_DIR = join(cache ?? work, "cargo-target", key);
  }
  return env;
}

/** `$XDG_CACHE_HOME` or `~/.cache`, when it exists or can be made, and can be written. */
async function userCacheDir(): Promise<string | undefined> {
  const xdg = process.env.XDG_CACHE_HOME;
  const home = process.env.HOME;
  const dir =
    xdg !== undefined && isAbsolute(xdg)
      ? xdg
      : home !== undefined && isAbsolute(home)
        ? join(home, ".cache")
        : undefined;
  if (dir === undefined) return undefined;
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
    return dir;
  } catch {
    return undefined;
  }
}

/**
 * A cache folder of this user's in the shared temp folder, when there is no home to keep one in. A build cache is
 * code the next build runs, so a folder someone else made, or can write, is not used.
 */
async function sharedTempCache(): Promise<string | undefined> {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  const dir = join(tmpdir(), `gofer-cache-${uid}`);
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") return undefined;
  }
  const stats = await lstat(dir);
  return stats.isDirectory() && stats.uid === uid && (stats.mode & 0o022) === 0 ? dir : undefined;
}

function parseStdout(program: PipelineProgram, stdout: string, output: string): unknown {
  const subject = programSubject(program, true);
  if (stdout.trim() === "") {
    throw failure(
      "PIPELINE_FILE_INVALID_JSON",
      program,
      output,
      `${subject} printed nothing on stdout.\n` +
        "A pipeline program prints its pipeline config as JSON on stdout; the SDK's Finish() does that.",
    );
  }
  const parsed = parseJsonText(stdout);
  if (parsed.ok) return parsed.value;
  throw failure(
    "PIPELINE_FILE_INVALID_JSON",
    program,
    output,
    `${subject} printed something on stdout that is not valid JSON: ${parsed.reason}${parsed.pointer}\n` +
      "Stdout must hold the pipeline config only, as the SDK's Finish() prints it; print anything else on stderr.",
  );
}

function startFailure(
  program: PipelineProgram,
  toolchain: Toolchain,
  error: NodeJS.ErrnoException,
  output: string,
): Error {
  if (error.code !== "ENOENT") return error;
  return failure(
    "PIPELINE_FILE_TOOLCHAIN_MISSING",
    program,
    output,
    `${programSubject(program, true)} needs \`${toolchain.command}\` to build it, and ` +
      `\`${toolchain.command}\` is not installed or not on the PATH.\n` +
      `Install ${toolchain.name}: ${toolchain.install}.`,
  );
}

// GOPROXY=off and --offline turn a missing dependency into an error that names the setting, not the cure.
function offlineHint(buildOutput: string, toolchain: Toolchain): string {
  return /GOPROXY=off|--offline|offline mode/i.test(buildOutput)
    ? `Gofer builds without the network: run \`${toolchain.fetch}\` in the folder once to fetch the dependencies.\n`
    : "";
}

function ending(end: ProcessEnd): string {
  return end.signal === null ? `failed (exit code ${end.exitCode})` : `was stopped by ${end.signal}`;
}

function seconds(options: RunProgramOptions): string {
  return `${options.timeoutMs / 1000} s`;
}

function failure(
  code: PipelineFileErrorCode,
  program: PipelineProgram,
  output: string,
  message: string,
): PipelineFileError {
  return new PipelineFileError(code, message, { source: program.manifest, output });
}
