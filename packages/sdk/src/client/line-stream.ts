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
