/** "Did you mean …?" for mistyped configuration keys. */

/**
 * Returns the known key closest to `unknown`, or undefined when none is close enough to be a likely typo.
 * A key whose last segment matches exactly wins: that is a setting placed in the wrong section.
 */
export function suggestKey(unknown: string, known: readonly string[]): string | undefined {
  const lastSegment = unknown.split(".").at(-1);
  const moved = known.find((key) => key.split(".").at(-1) === lastSegment);
  if (moved !== undefined) return moved;

  const limit = Math.max(2, Math.floor(unknown.length / 4));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const key of known) {
    const distance = editDistance(unknown, key);
    if (distance < bestDistance) {
      best = key;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
