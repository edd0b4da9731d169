/**
 * What the log viewer says about its length: the count beside its tools, and the note shown when a linked line
 * (`#L120`) lies past the end of the log, which would otherwise select nothing and say nothing.
 */

/** "1 line", "2 lines", "100,000 lines". */
export function lineCountText(count: number): string {
  return `${count.toLocaleString()} line${count === 1 ? "" : "s"}`;
}

/**
 * Said when `line` (counted from 1) is past the end of a whole log of `count` lines; undefined when the line is
 * there. The viewer then shows the log's last lines.
 */
export function pastEndNote(line: number | undefined, count: number): string | undefined {
  if (line === undefined || line <= count) return undefined;
  if (count === 0) return `Line ${line.toLocaleString()} is past the end: this log has no lines.`;
  return `Line ${line.toLocaleString()} is past the end: this log has only ${lineCountText(count)}; showing the last.`;
}
