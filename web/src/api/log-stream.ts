/**
 * Reads a log over plain HTTP (where headers work) as it grows: with `follow=true` the server keeps the
 * response open until the task ends, sending each line as it is written.
 */
import { apiFetch } from "./client.ts";

export async function streamLines(
  path: string,
  onLines: (lines: string[]) => void,
  signal: AbortSignal,
): Promise<void> {
  const response = await apiFetch("GET", path, { signal });
  if (!response.body) {
    onLines(splitComplete(await response.text()).lines);
    return;
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let rest = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const { lines, remainder } = splitComplete(rest + value);
    rest = remainder;
    if (lines.length > 0) onLines(lines);
  }
  if (rest) onLines([rest]);
}

function splitComplete(text: string): { lines: string[]; remainder: string } {
  const parts = text.split("\n");
  const remainder = parts.pop() ?? "";
  return { lines: parts, remainder };
}
