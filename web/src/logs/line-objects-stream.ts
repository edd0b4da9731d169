/**
 * Reads a task log as line objects (`format=lines`: one JSON object per line, with the stream it came from and
 * when it arrived) over plain HTTP as it grows, handing them over in batches as they arrive.
 */
import { apiFetch } from "../api/client.ts";

export interface LogLineObject {
  line: string;
  stream?: "stdout" | "stderr";
  time?: number;
}

export async function streamLineObjects(
  path: string,
  onLines: (lines: LogLineObject[]) => void,
  signal: AbortSignal,
): Promise<void> {
  const response = await apiFetch("GET", path, { signal });
  if (!response.body) {
    onLines(parseComplete(`${await response.text()}\n`).lines);
    return;
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let rest = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const { lines, remainder } = parseComplete(rest + value);
    rest = remainder;
    if (lines.length > 0) onLines(lines);
  }
  if (rest) onLines(parseComplete(`${rest}\n`).lines);
}

/** The complete NDJSON lines of `text`, parsed, and the unterminated rest. */
export function parseComplete(text: string): { lines: LogLineObject[]; remainder: string } {
  const parts = text.split("\n");
  const remainder = parts.pop() ?? "";
  const lines: LogLineObject[] = [];
  for (const part of parts) if (part !== "") lines.push(JSON.parse(part) as LogLineObject);
  return { lines, remainder };
}
