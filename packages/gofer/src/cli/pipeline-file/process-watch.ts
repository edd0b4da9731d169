/**
 * Watches a process the loader started to get a pipeline config: the Node child that evaluates a TypeScript
 * file, a toolchain building a Go or Rust program, or that program. The process runs someone else's code, so it
 * may print without end, hang, or leave a process of its own holding its pipes open; the loader must stay
 * bounded in memory and in time whatever it does.
 */
import type { ChildProcess } from "node:child_process";

// A process printing in an endless loop must not fill the CLI's memory; the end of the output is the useful part.
const MAX_OUTPUT_CHARS = 1024 * 1024;
// Far above any real pipeline config, far below what would hurt the CLI.
export const MAX_STDOUT_CHARS = 16 * 1024 * 1024;
// A process the watched one started may keep its output pipes open after the watched one itself has gone.
const PIPE_CLOSE_GRACE_MS = 250;

export interface WatchOptions {
  /** How long the process may run before it is killed; {@link WatchedProcess.restartTimer} sets a new limit. */
  timeoutMs: number;
  /**
   * `"output"`: stdout joins stderr in `output`, interleaved as it arrives. `"apart"`: stdout is the process's
   * answer, kept whole in `stdout` (and the process killed once it passes {@link MAX_STDOUT_CHARS}).
   */
  stdout: "output" | "apart";
  /** Receives whatever goes into `output`, as it arrives. */
  onOutput?: (chunk: string) => void;
}

export interface ProcessEnd {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Set when the process could not be started, or could not be talked to; ENOENT means no such command. */
  error?: NodeJS.ErrnoException;
  output: OutputBuffer;
  /** Empty unless stdout was kept apart. */
  stdout: string;
  /** Stdout passed {@link MAX_STDOUT_CHARS}, so the process was killed. */
  stdoutOverflowed: boolean;
}

export interface WatchedProcess {
  /** Replaces the time limit with `timeoutMs` from now. */
  restartTimer(timeoutMs: number): void;
  /** Settles once the process has ended and its pipes are closed, or shortly after it ended if they stay open. */
  ended: Promise<ProcessEnd>;
}

/** Watches `child`, which must have been spawned with piped stdout and stderr. */
export function watchProcess(child: ChildProcess, options: WatchOptions): WatchedProcess {
  const { stdout, stderr } = child;
  if (stdout === null || stderr === null)
    throw new Error("spawn() did not open the output pipes it was asked for");
  const output = new OutputBuffer();
  const answer: string[] = [];
  let answerLength = 0;
  let timedOut = false;
  let stdoutOverflowed = false;

  const collect = (chunk: string): void => {
    output.append(chunk);
    options.onOutput?.(chunk);
  };
  stderr.setEncoding("utf8").on("data", collect);
  if (options.stdout === "output") {
    stdout.setEncoding("utf8").on("data", collect);
  } else {
    stdout.setEncoding("utf8").on("data", (chunk: string) => {
      if (stdoutOverflowed) return;
      answerLength += chunk.length;
      if (answerLength > MAX_STDOUT_CHARS) {
        stdoutOverflowed = true;
        child.kill("SIGKILL");
        return;
      }
      answer.push(chunk);
    });
  }
  const kill = (): void => {
    timedOut = true;
    child.kill("SIGKILL");
  };
  let timer = setTimeout(kill, options.timeoutMs);

  const ended = new Promise<ProcessEnd>((resolve) => {
    let grace: NodeJS.Timeout | undefined;
    let settled = false;
    const settle = (
      exitCode: number | null,
      signal: NodeJS.Signals | null,
      error?: NodeJS.ErrnoException,
    ): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(grace);
      stdout.destroy();
      stderr.destroy();
      const end: ProcessEnd = {
        exitCode,
        signal,
        timedOut,
        output,
        stdout: answer.join(""),
        stdoutOverflowed,
      };
      resolve(error === undefined ? end : { ...end, error });
    };
    child.on("error", (error: NodeJS.ErrnoException) => settle(null, null, error));
    child.on("exit", (exitCode, signal) => {
      if (!settled) grace = setTimeout(() => settle(exitCode, signal), PIPE_CLOSE_GRACE_MS);
    });
    child.on("close", (exitCode, signal) => settle(exitCode, signal));
  });

  return {
    restartTimer(timeoutMs: number): void {
      clearTimeout(timer);
      timer = setTimeout(kill, timeoutMs);
    },
    ended,
  };
}

/** Collects a process's output, keeping only the last {@link MAX_OUTPUT_CHARS} characters. */
export class OutputBuffer {
  #text = "";
  #dropped = 0;

  append(chunk: string): void {
    this.#text += chunk;
    if (this.#text.length > MAX_OUTPUT_CHARS) {
      const excess = this.#text.length - MAX_OUTPUT_CHARS;
      this.#text = this.#text.slice(excess);
      this.#dropped += excess;
    }
  }

  /** Everything kept, after a note of how much was dropped, if anything was. */
  text(): string {
    return this.splitAt("")[0];
  }

  /** The text before the first `separator` and the text after it (empty when it does not occur). */
  splitAt(separator: string): [string, string] {
    const index = separator === "" ? -1 : this.#text.indexOf(separator);
    const before = index === -1 ? this.#text : this.#text.slice(0, index);
    const after = index === -1 ? "" : this.#text.slice(index + separator.length);
    const note = this.#dropped === 0 ? "" : `[${this.#dropped} earlier characters of output not kept]\n`;
    return [note + before, after];
  }
}
