/**
 * Bytes → text lines, for logs streamed as plain text. Works chunk by chunk so a log of any size is never held
 * whole, and decodes UTF-8 statefully so a character split across two chunks arrives intact.
 */

/**
 * Yields each line of `chunks` without its `\n`. A last line without a newline is still yielded; a trailing
 * newline does not produce an empty last line. `\r` is kept: it is part of what the program wrote.
 */
export async function* splitLines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder("utf-8");
  let partial = "";
  for await (const chunk of chunks) {
    // Only the new text is searched, so a long line arriving in many chunks is not rescanned each time.
    const text = decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", start)) {
      yield partial + text.slice(start, end);
      partial = "";
      start = end + 1;
    }
    partial += text.slice(start);
  }
  partial += decoder.decode();
  if (partial !== "") yield partial;
}

/** One line of a task log with where it came from, as `format: "lines"` reads it (an extension of v0). */
export interface TaskLogLine {
  /** The line without its newline. */
  line: string;
  /** Which output of the task printed it; absent where the server does not know (older logs, some backends). */
  stream?: "stdout" | "stderr";
  /** When the line arrived, in Unix epoch milliseconds (to a tenth of a second); absent where unknown. */
  time?: number;
  /** Bytes of the line left out: a line object carries at most 1 MiB of it (the plain log has it whole). */
  truncated?: number;
}

/** Yields each line object of an NDJSON body (one JSON object per line), as it streams in. */
export async function* splitLineObjects(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<TaskLogLine> {
  for await (const text of splitLines(chunks)) {
    if (text !== "") yield JSON.parse(text) as TaskLogLine;
  }
}
