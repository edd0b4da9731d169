/**
 * Which two config versions the compare opens on. Without a version asked for: the one before the live version
 * against the live one, which says what the last deployment changed. With a version asked for (a run's config,
 * linked from its page): that version against the live one, older on the left, so it says what changed since; the
 * live version itself, against the one before it.
 */

export interface VersionState {
  version: number;
  state: string;
}

export interface ComparePair {
  from: number;
  to: number;
}

export function comparePair(configs: VersionState[], requested?: number): ComparePair | undefined {
  const versions = configs.map((config) => config.version).sort((a, b) => a - b);
  if (versions.length < 2) return undefined;
  const newest = versions.at(-1) as number;
  const live = configs.find((config) => config.state === "live")?.version ?? newest;
  const anchor = requested !== undefined && versions.includes(requested) ? requested : live;
  if (anchor !== live) return { from: Math.min(anchor, live), to: Math.max(anchor, live) };
  const before = versions.filter((version) => version < anchor).at(-1);
  if (before !== undefined) return { from: before, to: anchor };
  // The live version is the oldest: what the versions registered since would change.
  return { from: anchor, to: newest };
}
