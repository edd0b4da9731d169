/**
 * A line diff by longest common subsequence: enough for two pipeline configs (hundreds of lines). Past a few
 * thousand lines on each side the table would be too large, so the diff falls back to "all removed, all added".
 */

export interface DiffLine {
  kind: "same" | "added" | "removed";
  text: string;
}

const MAX_CELLS = 4_000_000;

export function lineDiff(before: string[], after: string[]): DiffLine[] {
  if (before.length * after.length > MAX_CELLS) {
    return [
      ...before.map((text) => ({ kind: "removed" as const, text })),
      ...after.map((text) => ({ kind: "added" as const, text })),
    ];
  }
  const width = after.length + 1;
  // lengths[i * width + j]: the LCS length of before[i..] and after[j..].
  const lengths = new Uint32Array((before.length + 1) * width);
  for (let i = before.length - 1; i >= 0; i -= 1) {
    for (let j = after.length - 1; j >= 0; j -= 1) {
      lengths[i * width + j] =
        before[i] === after[j]
          ? (lengths[(i + 1) * width + j + 1] ?? 0) + 1
          : Math.max(lengths[(i + 1) * width + j] ?? 0, lengths[i * width + j + 1] ?? 0);
    }
  }
  const lines: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < before.length && j < after.length) {
    if (before[i] === after[j]) {
      lines.push({ kind: "same", text: before[i] as string });
      i += 1;
      j += 1;
    } else if ((lengths[(i + 1) * width + j] ?? 0) >= (lengths[i * width + j + 1] ?? 0)) {
      lines.push({ kind: "removed", text: before[i] as string });
      i += 1;
    } else {
      lines.push({ kind: "added", text: after[j] as string });
      j += 1;
    }
  }
  for (; i < before.length; i += 1) lines.push({ kind: "removed", text: before[i] as string });
  for (; j < after.length; j += 1) lines.push({ kind: "added", text: after[j] as string });
  return lines;
}
