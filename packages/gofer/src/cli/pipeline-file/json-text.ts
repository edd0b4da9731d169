/**
 * Parsing JSON a person wrote (a `.json` pipeline file) or a program printed (a Go or Rust pipeline), with a
 * reason that points at the offending line and column rather than V8's bare message.
 */
import { MAX_REPORT_LINE_CHARS } from "./report-text.ts";

export type JsonText =
  | { ok: true; value: unknown }
  /** `pointer` says where: the line and column, and the line itself with a caret when it is short enough. */
  | { ok: false; reason: string; pointer: string };

export function parseJsonText(raw: string): JsonText {
  const text = raw.replace(/^\uFEFF/, "");
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).replace(
      // V8 quotes the source around an unexpected token, line breaks and all; the line is shown below instead.
      /^(Unexpected token '.+?'), [\s\S]* is not valid JSON$/,
      "$1",
    );
    return { ok: false, reason, pointer: pointAt(text, jsonErrorPosition(error, text), reason) };
  }
}

// V8 gives an offset for most JSON errors; for an unexpected token it instead quotes the source around it,
// starting 10 characters before the token when the quote is cut at the front.
function jsonErrorPosition(error: unknown, text: string): number | undefined {
  const message = error instanceof Error ? error.message : "";
  const offset = /at position (\d+)/.exec(message);
  if (offset?.[1] !== undefined) return Number(offset[1]);
  if (message.startsWith("Unexpected end of JSON input")) return text.length;
  const quoted = /^Unexpected token '(.+?)', (\.\.\.)?"([\s\S]*?)"(?:\.\.\.)? is not valid JSON$/.exec(
    message,
  );
  if (quoted?.[1] === undefined || quoted[3] === undefined) return undefined;
  const [, token, cut, excerpt] = quoted;
  const start = text.indexOf(excerpt);
  if (start === -1) return undefined;
  const position = cut === undefined ? start + excerpt.indexOf(token) : start + 10;
  return position >= start ? position : undefined;
}

// Newer V8 versions name the line and column themselves; the offending line is shown either way.
function pointAt(text: string, position: number | undefined, reason: string): string {
  if (position === undefined) return "";
  const before = text.slice(0, position);
  const line = before.split("\n").length;
  const column = position - before.lastIndexOf("\n");
  const where = /\(line \d+ column \d+\)/.test(reason) ? "" : ` (line ${line}, column ${column})`;
  if (column > MAX_REPORT_LINE_CHARS) return where;
  const lineText = (text.split("\n")[line - 1] ?? "").replace(/\r$/, "").slice(0, MAX_REPORT_LINE_CHARS);
  const gutter = " ".repeat(String(line).length);
  return `${where}\n  ${line} | ${lineText}\n  ${gutter} | ${" ".repeat(column - 1)}^`;
}
