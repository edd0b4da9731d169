/**
 * Masks a task's secrets in its log: every occurrence of a secret in a stored (and so streamed) line becomes
 * `[masked]`. The log writer hands over complete lines, so a secret the task printed across several writes is
 * whole by the time it gets here.
 *
 * Besides the plain value, the masker looks for its base64 forms, because tasks often print encoded
 * credentials (`echo $TOKEN | base64`, basic-auth headers, JSON blobs):
 * - the standard encoding of the value alone, padding included;
 * - the value embedded in a longer encoded payload. Base64 turns each 3-byte group into 4 characters, so the
 *   characters a value produces depend on where it starts relative to those groups. For each of the three
 *   alignments (the value's byte 0, 1 or 2 falling on a group boundary) the whole groups inside the value
 *   always encode to the same text, whatever surrounds it; masking those three texts catches the value in any
 *   payload. The one or two edge characters that also depend on neighbouring bytes stay visible: they carry
 *   at most the bits of two bytes of the value.
 * - pieces of those encodings cut by line wrapping. `base64` (GNU and busybox) wraps at 76 characters, so the
 *   encoding of a secret of 58 bytes or more spans lines and no line holds it whole. A break falls at a
 *   multiple of 76 from the start of the encoded stream; the encodings above start on a group boundary of that
 *   stream and 76 is a multiple of 4, so every piece is a 4-aligned substring of one of them (a prefix on the
 *   first line, whole 76-character lines in the middle, a suffix on the last). Any such substring of at least
 *   `MIN_BASE64_FRAGMENT` characters is masked, whatever the wrap width. The encodings used are the three
 *   alignments' whole groups plus the padded encodings of the value alone (`printf %s "$S" | base64`) and of the
 *   value and a newline (`echo "$S" | base64`), so a last line ending in padding is masked to its end.
 * - each line of a multi-line secret (a PEM key), since a line never contains a newline.
 *
 * Where matches overlap (a secret containing another, two secrets sharing bytes), their union becomes one
 * `[masked]`: replacing the first or longest match alone could leave part of the other one in clear.
 */
import type { LineTransform } from "./log-writer.ts";

export const MASK = Buffer.from("[masked]");
/** Shorter fragments (a one-group base64 piece, a short line of a multi-line secret) match too much text. */
const MIN_FRAGMENT = 4;
/**
 * The shortest piece of a base64 encoding masked wherever it occurs: two groups, 6 bytes of the secret. One
 * group would be too short: a long secret (a 3 kB key) has thousands of distinct 4-character groups across its
 * encodings, so ordinary identifiers and words in a log would hit one every few lines. Eight characters from a
 * 64-letter alphabet make a chance hit negligible (about 10^-14 per position and fragment). The cost is that a
 * wrapped line can show at most one whole group (3 bytes) of the value at its edge, next to the mixed edge group
 * the alignment patterns already leave; a piece of 4 characters alone on a line is not masked.
 */
const MIN_BASE64_FRAGMENT = 8;
const GROUP = 4;

export function secretPatterns(secrets: string[]): Buffer[] {
  const patterns = new Map<string, Buffer>();
  const add = (pattern: Buffer, minimum = 1) => {
    if (pattern.length >= minimum) patterns.set(pattern.toString("latin1"), pattern);
  };
  for (const secret of secrets) {
    const value = Buffer.from(secret, "utf8");
    if (value.length === 0) continue;
    add(value);
    add(Buffer.from(value.toString("base64")));
    for (let start = 0; start < 3; start++) {
      const whole = Math.floor((value.length - start) / 3) * 3;
      if (whole > 0) add(Buffer.from(value.subarray(start, start + whole).toString("base64")), MIN_FRAGMENT);
    }
    if (secret.includes("\n")) {
      for (const line of secret.split("\n")) add(Buffer.from(line.replace(/\r$/, ""), "utf8"), MIN_FRAGMENT);
    }
  }
  return [...patterns.values()].sort((a, b) => b.length - a.length);
}

/** The base64 encodings whose 4-aligned pieces are masked: see the module comment. */
function base64Encodings(secrets: string[]): Buffer[] {
  const encodings = new Map<string, Buffer>();
  const add = (bytes: Buffer) => {
    const encoded = bytes.toString("base64");
    if (encoded.length >= MIN_BASE64_FRAGMENT) encodings.set(encoded, Buffer.from(encoded));
  };
  for (const secret of secrets) {
    const value = Buffer.from(secret, "utf8");
    if (value.length === 0) continue;
    add(value);
    add(Buffer.concat([value, Buffer.from("\n")]));
    for (let start = 0; start < 3; start++) {
      const whole = Math.floor((value.length - start) / 3) * 3;
      if (whole > 0) add(value.subarray(start, start + whole));
    }
  }
  return [...encodings.values()];
}

/**
 * Finds every run of whole groups of an encoding, starting on one of its group boundaries and at least
 * `MIN_BASE64_FRAGMENT` long, in a line. The line is scanned once: each 4-byte window is looked up among the
 * encodings' groups, and a hit that extends a match one group earlier is skipped (that match already covers
 * it), so the work stays linear in the line for all but contrived input.
 */
function base64FragmentFinder(
  encodings: Buffer[],
): ((line: Buffer, spans: [number, number][]) => void) | undefined {
  if (encodings.length === 0) return undefined;
  const groups = new Map<number, [Buffer, number][]>();
  for (const encoding of encodings) {
    for (let offset = 0; offset + GROUP <= encoding.length; offset += GROUP) {
      const group = encoding.readUInt32BE(offset);
      const at = groups.get(group);
      if (at) at.push([encoding, offset]);
      else groups.set(group, [[encoding, offset]]);
    }
  }
  const sameGroup = (line: Buffer, at: number, encoding: Buffer, offset: number) =>
    line.readUInt32BE(at) === encoding.readUInt32BE(offset);
  return (line, spans) => {
    for (let at = 0; at + MIN_BASE64_FRAGMENT <= line.length; at++) {
      const candidates = groups.get(line.readUInt32BE(at));
      if (!candidates) continue;
      for (const [encoding, offset] of candidates) {
        if (at >= GROUP && offset >= GROUP && sameGroup(line, at - GROUP, encoding, offset - GROUP)) continue;
        let length = GROUP;
        while (
          offset + length + GROUP <= encoding.length &&
          at + length + GROUP <= line.length &&
          sameGroup(line, at + length, encoding, offset + length)
        )
          length += GROUP;
        if (length >= MIN_BASE64_FRAGMENT) spans.push([at, at + length]);
      }
    }
  };
}

export function maskSecrets(secrets: string[]): LineTransform {
  const patterns = secretPatterns(secrets);
  if (patterns.length === 0) return (line) => line;
  const findFragments = base64FragmentFinder(base64Encodings(secrets));
  const shortest = Math.min(
    patterns[patterns.length - 1]?.length ?? 1,
    findFragments ? MIN_BASE64_FRAGMENT : Number.POSITIVE_INFINITY,
  );
  return (line) => {
    if (line.length < shortest) return line;
    const spans: [number, number][] = [];
    for (const pattern of patterns) {
      for (let at = line.indexOf(pattern); at !== -1; at = line.indexOf(pattern, at + 1)) {
        spans.push([at, at + pattern.length]);
      }
    }
    findFragments?.(line, spans);
    if (spans.length === 0) return line;
    spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    const parts: Buffer[] = [];
    let copied = 0;
    let [start, end] = spans[0] as [number, number];
    const flush = () => {
      parts.push(line.subarray(copied, start), MASK);
      copied = end;
    };
    for (const [from, to] of spans.slice(1)) {
      if (from < end) {
        end = Math.max(end, to);
      } else {
        flush();
        [start, end] = [from, to];
      }
    }
    flush();
    parts.push(line.subarray(copied));
    return Buffer.concat(parts);
  };
}
