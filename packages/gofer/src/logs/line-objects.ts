/**
 * A log as line objects, `{"line": "...", "stream": "stderr", "time": 1733580000123}`, one JSON text per line
 * (NDJSON), for clients that asked to tell stderr from stdout and see when each line came. `stream` and `time`
 * are left out for lines the log's stream index does not describe (see stream-index.ts); a line longer than
 * {@link MAX_LINE_BYTES} is cut there and says by how much (`"truncated": bytes`).
 */
import { StreamIndexReader } from "./stream-index.ts";

const NEWLINE = 0x0a;

/**
 * A line object carries at most this many bytes of its line, and says how many more there were (`truncated`): a
 * line of hundreds of MB (a task printing a binary) would pass V8's longest string once escaped as JSON, and cut
 * the answer short for every line after it. The plain log keeps the whole line.
 */
export const MAX_LINE_BYTES = 1024 * 1024;

/** The log each read handed out by a {@link LogStore} reads, so its lines can be given their streams. */
const readPaths = new WeakMap<object, string>();

/** Remembers that `blocks` reads the log at `logPath` from its start. */
export function noteLogRead(blocks: object, logPath: string): void {
  readPaths.set(blocks, logPath);
}

/**
 * `blocks` (a log read a LogStore handed out, as blocks of whole lines) as blocks of line objects, each ending in
 * "\n". Blocks of another origin have no stream index: their lines come without stream and time.
 */
export async function* lineObjects(blocks: AsyncIterable<Buffer>): AsyncGenerator<Buffer, void, undefined> {
  const path = readPaths.get(blocks);
  const index = path === undefined ? undefined : new StreamIndexReader(path);
  let offset = 0;
  try {
    for await (const block of blocks) {
      // Read after the block: its records were stored before its lines, so they are all there now.
      await index?.refresh(offset + block.length);
      const texts: string[] = [];
      for (
        let start = 0, end = block.indexOf(NEWLINE);
        end !== -1;
        start = end + 1, end = block.indexOf(NEWLINE, start)
      ) {
        const mark = index?.at(offset + start);
        const kept = Math.min(end, start + MAX_LINE_BYTES);
        const line = block.toString("utf8", start, kept);
        const cut = kept < end ? `,"truncated":${end - kept}` : "";
        texts.push(
          mark
            ? `{"line":${JSON.stringify(line)}${cut},"stream":"${mark.stream}","time":${mark.time}}\n`
            : `{"line":${JSON.stringify(line)}${cut}}\n`,
        );
      }
      offset += block.length;
      yield Buffer.from(texts.join(""));
    }
  } finally {
    await index?.close();
  }
}
