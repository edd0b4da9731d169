/**
 * One pass of storing a task container's output in its log: from the live output the start handed back, or
 * by following the engine's log after what the file already holds. A pass that fails throws a
 * {@link LogCaptureError}; the caller decides whether the engine's state explains it and how to go on, and the
 * next pass resumes exactly after the last stored piece.
 */
import type { TaskExecutionKey } from "../domain/task-execution-key.ts";
import type { LogStore } from "../logs/log-store.ts";
import type { LineTransform, TaskLogWriter } from "../logs/log-writer.ts";
import type { ExitResult, LiveOutput, Scheduler } from "../scheduler/scheduler.ts";

/**
 * How long the exit may trail the end of the live output. It normally comes at once: the output ends because
 * the container's process did. A container still running after this lost its live output early.
 */
const LIVE_END_GRACE_MS = 2000;

/** Capture failed: reading the container's output or storing it. The original failure is the cause. */
export class LogCaptureError extends Error {
  override name = "LogCaptureError";

  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

export interface CapturePass {
  scheduler: Scheduler;
  logs: LogStore;
  key: TaskExecutionKey;
  containerId: string;
  transformLine: LineTransform | undefined;
  /** The log may already hold part of the output: cut it back to its resume point and go on from there. */
  resume: boolean;
  /** The output as the start handed it back; without it the engine's log is followed. */
  live: LiveOutput | undefined;
  /** Settles with the container's exit. */
  exit: Promise<ExitResult>;
  /** Ends the pass early; the log then keeps its resume point for a later pass. */
  signal: AbortSignal;
}

/** Stores the output until it ends: "complete" when the log is closed whole, "stopped" when `signal` ended it. */
export async function capturePass(pass: CapturePass): Promise<"complete" | "stopped"> {
  const { live, signal } = pass;
  const stopLive = () => live?.close();
  signal.addEventListener("abort", stopLive, { once: true });
  let writer: TaskLogWriter | undefined;
  try {
    writer = await pass.logs.openWriter(pass.key, {
      transformLine: pass.transformLine,
      resume: pass.resume,
      streamsKnown: pass.scheduler.mergesStreams !== true,
    });
    const output =
      live?.chunks ??
      pass.scheduler.logs(pass.containerId, { follow: true, after: writer.resumeAfter, signal });
    for await (const chunk of output) await writer.write(chunk);
    if (!signal.aborted && live !== undefined && !(await exitsSoon(pass.exit))) {
      throw new Error("the container's live output ended while it still ran");
    }
    if (signal.aborted) {
      await writer.detach();
      return "stopped";
    }
    await writer.close();
    return "complete";
  } catch (error) {
    live?.close();
    await writer?.detach().catch(() => undefined);
    if (signal.aborted) return "stopped";
    throw new LogCaptureError(error);
  } finally {
    signal.removeEventListener("abort", stopLive);
  }
}

/** Whether `exit` settles (either way) within {@link LIVE_END_GRACE_MS}. */
async function exitsSoon(exit: Promise<ExitResult>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), LIVE_END_GRACE_MS);
  });
  try {
    return await Promise.race([
      exit.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Adds a last line saying the log is incomplete and why, after what was stored, so a reader of the log learns
 * it. Fails quietly (the caller has logged the problem): the task's outcome does not depend on it.
 */
export async function noteIncompleteLog(
  logs: LogStore,
  key: TaskExecutionKey,
  problem: string,
): Promise<void> {
  const writer = await logs.openWriter(key, { resume: true });
  await writer.write({ stream: "stderr", data: Buffer.from(`[gofer] this log is incomplete: ${problem}\n`) });
  await writer.close();
}
