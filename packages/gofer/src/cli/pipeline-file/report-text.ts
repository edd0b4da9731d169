/**
 * Shaping what a pipeline file or program printed into the few lines an error message can show: a message is
 * read in a terminal, so a megabyte of output or a minified line must not bury the sentence that says what to fix.
 */

export const MAX_REPORT_LINES = 20;
export const MAX_REPORT_LINE_CHARS = 240;

/** At most {@link MAX_REPORT_LINES} lines, each cut at {@link MAX_REPORT_LINE_CHARS} characters. */
export function clipLines(lines: readonly string[]): string[] {
  return lines
    .slice(0, MAX_REPORT_LINES)
    .map((line) => (line.length > MAX_REPORT_LINE_CHARS ? `${line.slice(0, MAX_REPORT_LINE_CHARS)}…` : line));
}

/**
 * The lines of a toolchain's or program's output, the first and the last of them when there are too many: a
 * compiler names the first error first and sums up at the end, a panic says why before its trace.
 */
export function excerpt(text: string, head = 8, tail = 12): string {
  const lines = text.replace(/^(\s*\n)+|\s+$/g, "").split("\n");
  if (lines.length === 1 && lines[0] === "") return "";
  if (lines.length <= head + tail) return clipLines(lines).join("\n");
  const hidden = lines.length - head - tail;
  return [
    ...clipLines(lines.slice(0, head)),
    `[… ${hidden} more lines …]`,
    ...clipLines(lines.slice(-tail)),
  ].join("\n");
}

export function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => (line === "" ? "" : `  ${line}`))
    .join("\n");
}
