/**
 * Reads a task log as line objects (`format=lines`: one JSON object per line, with the stream it came from and
 * when it arrived) over plain HTTP as it grows, handing them over in batches as they arrive.
 */
import { streamLines } from "../api/log-stream.ts";

export interface LogLineObject {
  line: string;
  stream?: "stdout" | "stderr";
  time?: number;
  /** Bytes of the line the server left out (a line object holds at most 1 MiB); the download has them. */
  truncated?: number;
}

/** The same HTTP reading as a plain log's ({@link streamLines}), each complete line parsed as it arrives. */
export function streamLineObjects(
  path: string,
  onLines: (lines: LogLineObject[]) => void,
  signal: AbortSignal,
): Promise<void> {
  return streamLines(
    path,
    (texts) => {
      const lines = parseLineObjects(texts);
      if (lines.length > 0) onLines(lines);
    },
    signal,
  );
}

/** NDJSON lines, each one line object; blank ones (none are sent) skipped. */
export function parseLineObjects(texts: readonly string[]): LogLineObject[] {
  const lines: LogLineObject[] = [];
  for (const text of texts) if (text !== "") lines.push(JSON.parse(text) as LogLineObject);
  return lines;
}
