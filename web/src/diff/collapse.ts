/**
 * A config diff as people read one: the changed lines with a few unchanged lines around them, and each longer
 * unchanged stretch folded into one "n unchanged lines" row that opens on demand.
 */
import type { DiffLine } from "./line-diff.ts";

/** Unchanged lines kept on each side of a change, so the change can be placed in its config. */
export const CONTEXT_LINES = 3;

export type DiffHunk =
  | { kind: "shown"; lines: DiffLine[] }
  /** `at`: the index of the first folded line in the whole diff, which names the fold across renders. */
  | { kind: "folded"; at: number; lines: DiffLine[] };

/** Folds only a stretch longer than what it would hide behind: a fold of one line is a line. */
export function foldUnchanged(lines: DiffLine[], context = CONTEXT_LINES): DiffHunk[] {
  const hunks: DiffHunk[] = [];
  const push = (kind: "shown" | "folded", at: number, line: DiffLine) => {
    const last = hunks.at(-1);
    if (last && last.kind === kind) last.lines.push(line);
    else hunks.push(kind === "shown" ? { kind, lines: [line] } : { kind, at, lines: [line] });
  };
  let index = 0;
  while (index < lines.length) {
    if ((lines[index] as DiffLine).kind !== "same") {
      push("shown", index, lines[index] as DiffLine);
      index += 1;
      continue;
    }
    let end = index;
    while (end < lines.length && (lines[end] as DiffLine).kind === "same") end += 1;
    const keepBefore = index === 0 ? 0 : context;
    const keepAfter = end === lines.length ? 0 : context;
    const hidden = end - index - keepBefore - keepAfter;
    for (let at = index; at < end; at += 1) {
      const folded = hidden > 1 && at >= index + keepBefore && at < end - keepAfter;
      push(folded ? "folded" : "shown", at, lines[at] as DiffLine);
    }
    index = end;
  }
  return hunks;
}
