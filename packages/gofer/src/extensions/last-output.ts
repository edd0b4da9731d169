/**
 * What an extension's container printed before it was removed. A container that fails is removed at once (and
 * an install that fails removes the registration too), yet its output is usually the only account of why:
 * the last container's output is kept here, so its failure reason can quote it and `gofer extension logs` can
 * still show it. Kept in memory and bounded: it is diagnostics, like the live output, not a record.
 */

/** Lines read from a container before it goes: a Node stack trace with its code frame fits many times over. */
export const KEPT_LINES = 1_000;
/** And at most this many characters of them: a line can be as long as a program cares to make it. */
const KEPT_CHARACTERS = 1024 * 1024;
/** Extensions whose last output is kept; the oldest is forgotten first (failed installs could pile up). */
const KEPT_EXTENSIONS = 64;
/** Lines quoted in a failure reason: enough to show why, short enough to read in `extension get`. */
const QUOTED_LINES = 15;
/** A line longer than this is cut in a failure reason (a minified bundle's code frame is one huge line). */
const QUOTED_LINE_WIDTH = 300;

export class LastOutputs {
  readonly #kept = new Map<string, string>();
  /** Counts the forgets: output read before the latest one (an uninstall during the read) is not kept. */
  #forgets = 0;

  /** Pass to {@link keep} what this returned before the output was read. */
  get forgets(): number {
    return this.#forgets;
  }

  /**
   * Keeps the output (its end, within the bound, from a line's start) and returns what was kept; when a forget
   * came since `readSince` (see {@link forgets}), returns it without keeping it.
   */
  keep(extensionId: string, text: string, readSince = this.#forgets): string {
    const cut = text.length > KEPT_CHARACTERS ? text.slice(-KEPT_CHARACTERS) : text;
    const kept = cut === text ? text : cut.slice(cut.indexOf("\n") + 1);
    if (readSince !== this.#forgets) return kept;
    this.#kept.delete(extensionId);
    this.#kept.set(extensionId, kept);
    for (const oldest of this.#kept.keys()) {
      if (this.#kept.size <= KEPT_EXTENSIONS) break;
      this.#kept.delete(oldest);
    }
    return kept;
  }

  get(extensionId: string): string | undefined {
    return this.#kept.get(extensionId);
  }

  forget(extensionId: string): void {
    this.#forgets += 1;
    this.#kept.delete(extensionId);
  }
}

/**
 * The end of a container's output as a failure reason quotes it: blank lines at either end dropped and runs of
 * them made one, Node's own stack frames (`node:internal/…`, which say nothing about the extension) left out,
 * long lines cut. "" when it printed nothing worth showing.
 */
export function quotedTail(output: string): string {
  const lines: string[] = [];
  for (const raw of output.split("\n")) {
    const line = raw.trimEnd();
    if (/^\s+at .*\(?node:internal\//.test(line)) continue;
    if (line === "" && (lines.length === 0 || lines.at(-1) === "")) continue;
    lines.push(line.length > QUOTED_LINE_WIDTH ? `${line.slice(0, QUOTED_LINE_WIDTH - 1)}…` : line);
  }
  while (lines.at(-1) === "") lines.pop();
  const last = lines.slice(-QUOTED_LINES);
  while (last[0] === "") last.shift();
  return last.join("\n");
}
