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
 * - each line of a multi-line secret (a PEM key), since a line never contains a newline.
 *
 * Where matches overlap (a secret containing another, two secrets sharing bytes), their union becomes one
 * `[masked]`: replacing the first or longest match alone could leave part of the other one in clear.
 */
import type { LineTransform } from "./log-writer.ts";

export const MASK = Buffer.from("[masked]");
/** Shorter fragments (a one-group base64 piece, a short line of a multi-line secret) match too much text. */
const MIN_FRAGMENT = 4;

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

export function maskSecrets(secrets: string[]): LineTransform {
  const patterns = secretPatterns(secrets);
  if (patterns.length === 0) return (line) => line;
  const shortest = patterns[patterns.length - 1]?.length ?? 1;
  return (line) => {
    if (line.length < shortest) return line;
    const spans: [number, number][] = [];
    for (const pattern of patterns) {
      for (let at = line.indexOf(pattern); at !== -1; at = line.indexOf(pattern, at + 1)) {
        spans.push([at, at + pattern.length]);
      }
    }
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
