/**
 * Reading an engine log stream (a container's or a swarm service's: both are framed alike) as timestamped
 * frames, and resuming it at a {@link LogCursor}: the `since` to ask for and the bytes to skip.
 */
import type { Readable } from "node:stream";
import type { LogChunk, LogOptions } from "../scheduler.ts";
import { EngineError } from "./engine-client.ts";
import { toSchedulerError } from "./engine-errors.ts";
import { demuxLogStream, splitTimestamp } from "./log-demux.ts";
import { engineCursor, LogPosition } from "./log-position.ts";

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

/** Bytes of each stream to pass over before output is new to the reader. */
export type Skip = { stdout: number; stderr: number };

export const NOTHING_TO_SKIP: Skip = { stdout: 0, stderr: 0 };

/**
 * Yields what follows the first `skip` bytes of each stream (delivered before), each piece with the position
 * right after it; a frame only partly delivered before yields its rest. Skipped bytes still advance the
 * position: they are part of what the stream has delivered.
 */
export async function* positioned(
  frames: AsyncIterable<TimestampedFrame>,
  skip: Skip,
  position: LogPosition,
): AsyncGenerator<LogChunk> {
  const toSkip = { ...skip };
  for await (const { timestamp, chunk } of frames) {
    const cursor = position.advance(timestamp, chunk.stream, chunk.data.length);
    const skipped = Math.min(toSkip[chunk.stream], chunk.data.length);
    if (skipped === chunk.data.length) {
      toSkip[chunk.stream] -= skipped;
      continue;
    }
    toSkip[chunk.stream] = 0;
    yield {
      stream: chunk.stream,
      data: skipped === 0 ? chunk.data : chunk.data.subarray(skipped),
      position: cursor,
    };
  }
}

/** Where a read resumes after `after`: the engine's `since`, the bytes to skip, and the base of its positions. */
export interface ResumePoint {
  since: string | undefined;
  skip: Skip;
  base: string | undefined;
}

/** The read that continues after `options.after`, or starts at `sinceMs` (or the first byte) without one. */
export function resumePoint(options: Pick<LogOptions, "after" | "sinceMs">): ResumePoint {
  if (options.after) {
    const { timestamp, stdout, stderr } = engineCursor(options.after);
    return {
      since: timestamp === undefined ? undefined : sinceOfTimestamp(timestamp),
      skip: { stdout, stderr },
      base: timestamp,
    };
  }
  if (options.sinceMs === undefined) return { since: undefined, skip: NOTHING_TO_SKIP, base: undefined };
  const since = dockerSince(options.sinceMs);
  return { since, skip: NOTHING_TO_SKIP, base: timestampOfSince(since) };
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

/** The engine's stamp for a `since`, so that positions counted from it resume at exactly that instant. */
function timestampOfSince(since: string): string {
  const [seconds, fraction] = since.split(".") as [string, string];
  return new Date(Number(seconds) * 1000).toISOString().replace(/\.\d+Z$/, `.${fraction}Z`);
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
  follow: (from: ResumePoint, signal?: AbortSignal) => AsyncIterable<LogChunk>,
  read: (since: string | undefined, signal?: AbortSignal, tail?: number) => AsyncIterable<TimestampedFrame>,
): AsyncGenerator<LogChunk> {
  const { signal } = options;
  try {
    const from = resumePoint(options);
    if (options.follow) yield* follow(from, signal);
    else
      yield* positioned(read(from.since, signal, options.tailLines), from.skip, new LogPosition(from.base));
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
  from: ResumePoint,
  read: (since: string | undefined) => AsyncIterable<TimestampedFrame>,
): AsyncGenerator<LogChunk> {
  const seen = position.cursor();
  if (!seen) return positioned(read(from.since), from.skip, new LogPosition(from.base));
  const since = seen.timestamp === undefined ? undefined : sinceOfTimestamp(seen.timestamp);
  return positioned(read(since), seen, new LogPosition(seen.timestamp));
}
