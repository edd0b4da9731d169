/**
 * Reading an engine log stream (a container's or a swarm service's: both are framed alike) as timestamped
 * frames, and resuming it at a {@link LogCursor}: the `since` to ask for and the frames to skip.
 */
import type { Readable } from "node:stream";
import type { LogChunk, LogOptions } from "../scheduler.ts";
import { EngineError } from "./engine-client.ts";
import { toSchedulerError } from "./engine-errors.ts";
import { demuxLogStream, splitTimestamp } from "./log-demux.ts";
import { LogPosition } from "./log-position.ts";

export interface TimestampedFrame {
  timestamp: string;
  chunk: LogChunk;
}

/**
 * The frames of the log stream `open` asks for (with timestamps), each with its engine timestamp; nothing when
 * `missingOk` and the engine says the container or service is gone.
 */
export async function* timestampedFrames(
  open: () => Promise<Readable>,
  { missingOk = false, signal }: { missingOk?: boolean; signal?: AbortSignal } = {},
): AsyncGenerator<TimestampedFrame> {
  let stream: Readable;
  try {
    stream = await open();
  } catch (error) {
    if (missingOk && error instanceof EngineError && error.status === 404) return;
    throw error;
  }
  if (signal?.aborted) {
    stream.destroy();
    return;
  }
  // A follow stream of a quiet container would otherwise stay open until the container exits.
  const close = () => stream.destroy();
  signal?.addEventListener("abort", close, { once: true });
  try {
    for await (const chunk of demuxLogStream(stream)) {
      const frame = splitTimestamp(chunk);
      if (frame.chunk.data.length > 0) yield frame;
    }
  } finally {
    signal?.removeEventListener("abort", close);
  }
}

/**
 * Yields the frames after the first `skip` (delivered before), each with the position right after it. Skipped
 * frames still advance the position: they are part of what the stream has delivered.
 */
export async function* positioned(
  frames: AsyncIterable<TimestampedFrame>,
  skip: number,
  position: LogPosition,
): AsyncGenerator<LogChunk> {
  let toSkip = skip;
  for await (const frame of frames) {
    const cursor = position.advance(frame.timestamp);
    if (toSkip > 0) {
      toSkip--;
      continue;
    }
    yield { ...frame.chunk, position: cursor };
  }
}

/** The engine's `since` for a log request: the cursor's timestamp when resuming, else `sinceMs` if given. */
export function logSince(options: Pick<LogOptions, "after" | "sinceMs">): string | undefined {
  if (options.after) return sinceOfTimestamp(options.after.timestamp);
  return options.sinceMs === undefined ? undefined : dockerSince(options.sinceMs);
}

/**
 * Docker's `since`: Unix seconds with a nine-digit fraction. Whole milliseconds and the sub-millisecond rest are
 * converted apart because epoch nanoseconds exceed a double's exact integer range.
 */
function dockerSince(ms: number): string {
  const whole = Math.floor(ms);
  const nanos = BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1_000_000));
  return `${nanos / 1_000_000_000n}.${(nanos % 1_000_000_000n).toString().padStart(9, "0")}`;
}

/** The `since` that starts at a timestamp the engine printed (RFC 3339 with up to nine fraction digits). */
export function sinceOfTimestamp(timestamp: string): string {
  const match = /^(.+T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(timestamp);
  const seconds = match ? Date.parse(`${match[1]}${match[3]}`) / 1000 : Number.NaN;
  if (!match || !Number.isInteger(seconds)) throw new Error(`unexpected log timestamp "${timestamp}"`);
  return `${seconds}.${(match[2] ?? "").padEnd(9, "0")}`;
}

/**
 * `Scheduler.logs` for the engine backends: a follower (`follow`, which knows how its stream can end early) or a
 * plain read of `read`'s frames, both resuming after `options.after`; failures become SchedulerErrors naming
 * `what`, and an aborted read ends quietly.
 */
export async function* readLogs(
  what: string,
  options: LogOptions,
  follow: (since: string | undefined, skip: number, signal?: AbortSignal) => AsyncIterable<LogChunk>,
  read: (since: string | undefined, signal?: AbortSignal, tail?: number) => AsyncIterable<TimestampedFrame>,
): AsyncGenerator<LogChunk> {
  const { signal, after } = options;
  const since = logSince(options);
  const skip = after?.count ?? 0;
  try {
    if (options.follow) yield* follow(since, skip, signal);
    else yield* positioned(read(since, signal, options.tailLines), skip, new LogPosition());
  } catch (error) {
    if (signal?.aborted) return;
    throw toSchedulerError(`could not read the logs of ${what}`, error);
  }
}

/**
 * What a follow stream did not deliver (engines can end one before the last output reaches it): a plain read
 * after the last frame it saw, skipped ones included, or from the caller's own start when it saw none.
 */
export function unreadRest(
  position: LogPosition,
  since: string | undefined,
  skip: number,
  read: (since: string | undefined) => AsyncIterable<TimestampedFrame>,
): AsyncGenerator<LogChunk> {
  const seen = position.cursor();
  return seen
    ? positioned(read(sinceOfTimestamp(seen.timestamp)), seen.count, new LogPosition())
    : positioned(read(since), skip, new LogPosition());
}
