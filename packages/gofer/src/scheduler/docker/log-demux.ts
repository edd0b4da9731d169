/**
 * Demultiplexes Docker's non-TTY attach/logs stream: frames of an 8-byte header (stream type, three zero bytes,
 * big-endian uint32 payload size) followed by the payload. Network chunks cut frames anywhere, headers included.
 * With `timestamps=1` every frame's payload starts with its RFC 3339 timestamp and a space.
 */
import type { LogChunk } from "../scheduler.ts";

const HEADER_SIZE = 8;

/** Stream types of the frame header; stdin frames only appear on attach and are output like stdout. */
const STREAMS: Readonly<Record<number, LogChunk["stream"]>> = { 0: "stdout", 1: "stdout", 2: "stderr" };

/** Stream type the engine uses to report an error of its own in place of output. */
const SYSTEM_ERROR = 3;

/**
 * Turns network chunks into one {@link LogChunk} per non-empty frame. A chunk's `data` may share memory with the
 * buffers pushed, which must therefore not be modified afterwards.
 */
export class LogDemuxer {
  readonly #header = Buffer.alloc(HEADER_SIZE);
  #headerFilled = 0;
  #streamType = 0;
  #frameSize = 0;
  /** Payload bytes still expected for the current frame; 0 while reading a header. */
  #remaining = 0;
  // Pieces are joined once per frame: appending chunk by chunk would copy a large frame quadratically.
  #pieces: Buffer[] = [];

  /** The complete frames `chunk` finishes, in order. */
  push(chunk: Buffer): LogChunk[] {
    const out: LogChunk[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#remaining === 0) {
        const take = Math.min(HEADER_SIZE - this.#headerFilled, chunk.length - offset);
        chunk.copy(this.#header, this.#headerFilled, offset, offset + take);
        this.#headerFilled += take;
        offset += take;
        if (this.#headerFilled === HEADER_SIZE) this.#beginFrame();
        continue;
      }
      const take = Math.min(this.#remaining, chunk.length - offset);
      this.#pieces.push(chunk.subarray(offset, offset + take));
      this.#remaining -= take;
      offset += take;
      if (this.#remaining === 0) out.push(this.#endFrame());
    }
    return out;
  }

  /** True when the bytes pushed so far end inside a frame. */
  get midFrame(): boolean {
    return this.#headerFilled > 0 || this.#remaining > 0;
  }

  #beginFrame(): void {
    this.#headerFilled = 0;
    this.#streamType = this.#header[0] ?? 0;
    if (this.#streamType !== SYSTEM_ERROR && STREAMS[this.#streamType] === undefined) {
      // Anything else means we lost frame alignment or were handed a TTY (raw) stream.
      throw new Error(`corrupt log stream: unknown stream type ${this.#streamType}`);
    }
    this.#frameSize = this.#header.readUInt32BE(4);
    this.#remaining = this.#frameSize;
  }

  #endFrame(): LogChunk {
    const data = this.#pieces.length === 1 ? (this.#pieces[0] as Buffer) : Buffer.concat(this.#pieces);
    this.#pieces = [];
    const stream = STREAMS[this.#streamType];
    if (stream === undefined) throw new Error(`Docker engine reported: ${data.toString("utf8")}`);
    return { stream, data };
  }
}

/** Demultiplexes a whole stream; fails if it ends inside a frame, since output would be silently lost. */
export async function* demuxLogStream(source: AsyncIterable<Buffer>): AsyncGenerator<LogChunk> {
  const demuxer = new LogDemuxer();
  for await (const chunk of source) yield* demuxer.push(chunk);
  if (demuxer.midFrame) throw new Error("log stream ended inside a frame");
}

const SPACE = 0x20;

/** Separates the timestamp the engine put in front of a frame's payload from the output itself. */
export function splitTimestamp(chunk: LogChunk): { timestamp: string; chunk: LogChunk } {
  const space = chunk.data.indexOf(SPACE);
  if (space <= 0) throw new Error("corrupt log stream: a frame lacks its timestamp");
  return {
    timestamp: chunk.data.toString("latin1", 0, space),
    chunk: { stream: chunk.stream, data: chunk.data.subarray(space + 1) },
  };
}
