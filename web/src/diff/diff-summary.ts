/**
 * The one-line summary beside the config compare. Removed and added lines are counted apart: a change of one
 * value is one line removed and one added, which "2 changed lines" overstated.
 */
import type { DiffLine } from "./line-diff.ts";

/** "identical", "1 removed", "20 added", "2 removed, 20 added". */
export function diffSummary(lines: readonly DiffLine[]): string {
  const removed = lines.filter((line) => line.kind === "removed").length;
  const added = lines.filter((line) => line.kind === "added").length;
  const parts = [
    ...(removed > 0 ? [`${removed.toLocaleString()} removed`] : []),
    ...(added > 0 ? [`${added.toLocaleString()} added`] : []),
  ];
  return parts.length === 0 ? "identical" : parts.join(", ");
}
