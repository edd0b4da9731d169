/**
 * The Markdown that extensions write in their documentation, read into a small tree: paragraphs, headings,
 * fenced and indented code blocks, bulleted and numbered lists, and inline code, emphasis, strong emphasis and
 * links. Everything else (raw HTML included) stays text. The tree holds no markup, only strings, so rendering it
 * cannot inject anything; link targets are kept only when they are http(s) URLs, the one kind a page from an
 * untrusted container may point to.
 */

export type Inline =
  | { kind: "text"; text: string }
  | { kind: "code"; text: string }
  | { kind: "emphasis"; children: Inline[] }
  | { kind: "strong"; children: Inline[] }
  | { kind: "link"; href: string; children: Inline[] };

export type Block =
  | { kind: "paragraph"; children: Inline[] }
  | { kind: "heading"; level: number; children: Inline[] }
  | { kind: "code"; text: string; language: string }
  | { kind: "list"; ordered: boolean; start: number; items: Inline[][] };

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)/;
const HEADING = /^ {0,3}(#{1,6})(?:\s+(.*?))?(?:\s+#+)?\s*$/;
const ITEM = /^ {0,3}(?:([-*+])|(\d{1,9})[.)])(?:\s+(.*))?$/;
const INDENTED = /^(?: {4}|\t)/;

export function parseMarkdown(source: string): Block[] {
  const lines = source.replace(/\r\n?/g, "\n").split("\n");
  const blocks: Block[] = [];
  let paragraph: string[] = [];
  let list: { ordered: boolean; start: number; items: string[][] } | undefined;

  const endParagraph = () => {
    if (paragraph.length > 0) blocks.push({ kind: "paragraph", children: parseInline(paragraph.join("\n")) });
    paragraph = [];
  };
  const endList = () => {
    if (list)
      blocks.push({
        kind: "list",
        ordered: list.ordered,
        start: list.start,
        items: list.items.map((item) => parseInline(item.join("\n"))),
      });
    list = undefined;
  };

  let index = 0;
  while (index < lines.length) {
    const line = lines[index] ?? "";
    const fence = FENCE.exec(line);
    if (fence?.[1]) {
      endParagraph();
      endList();
      const marker = fence[1];
      const body: string[] = [];
      index += 1;
      // An unclosed fence runs to the end, as CommonMark says.
      while (index < lines.length && !isClosingFence(lines[index] ?? "", marker)) {
        body.push(lines[index] ?? "");
        index += 1;
      }
      index += 1;
      blocks.push({ kind: "code", text: body.join("\n"), language: fence[2] ?? "" });
      continue;
    }
    if (line.trim() === "") {
      endParagraph();
      // A blank line inside a list ends it unless another item follows.
      const next = lines.slice(index + 1).find((later) => later.trim() !== "");
      if (list && !(next !== undefined && ITEM.test(next))) endList();
      index += 1;
      continue;
    }
    // Indented code cannot interrupt a paragraph or a list item's text; there the indent is a continuation.
    if (INDENTED.test(line) && paragraph.length === 0 && !list) {
      const body: string[] = [];
      while (
        index < lines.length &&
        (INDENTED.test(lines[index] ?? "") || (lines[index] ?? "").trim() === "")
      ) {
        body.push((lines[index] ?? "").replace(INDENTED, ""));
        index += 1;
      }
      while (body.length > 0 && (body.at(-1) ?? "").trim() === "") body.pop();
      blocks.push({ kind: "code", text: body.join("\n"), language: "" });
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading?.[1]) {
      endParagraph();
      endList();
      blocks.push({ kind: "heading", level: heading[1].length, children: parseInline(heading[2] ?? "") });
      index += 1;
      continue;
    }
    const item = ITEM.exec(line);
    // A number starts a list only at a block's start, so "2024. was a year" inside a paragraph stays text.
    if (item && (paragraph.length === 0 || item[1] !== undefined)) {
      endParagraph();
      const ordered = item[1] === undefined;
      if (list && list.ordered !== ordered) endList();
      list ??= { ordered, start: ordered ? Number(item[2]) : 1, items: [] };
      list.items.push([item[3] ?? ""]);
      index += 1;
      continue;
    }
    if (list) {
      list.items.at(-1)?.push(line.trim());
    } else {
      paragraph.push(line.trim());
    }
    index += 1;
  }
  endParagraph();
  endList();
  return blocks;
}

function isClosingFence(line: string, marker: string): boolean {
  const trimmed = line.trim();
  return trimmed.length >= marker.length && trimmed === (marker[0] ?? "").repeat(trimmed.length);
}

/** An http(s) URL, or undefined: `javascript:`, `data:` and relative targets are never links here. */
export function safeHref(target: string): string | undefined {
  try {
    const url = new URL(target.trim());
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

const ESCAPABLE = /[\\`*_[\]()#+\-.!<>~|{}]/;
const BARE_URL = /^https?:\/\/[^\s<>]*[^\s<>.,;:!?'")\]]/;

export function parseInline(source: string): Inline[] {
  const out: Inline[] = [];
  let text = "";
  const push = (node: Inline) => {
    if (text) out.push({ kind: "text", text });
    text = "";
    out.push(node);
  };
  let at = 0;
  while (at < source.length) {
    const rest = source.slice(at);
    const char = source[at] ?? "";
    if (char === "\\" && ESCAPABLE.test(source[at + 1] ?? "")) {
      text += source[at + 1];
      at += 2;
      continue;
    }
    if (char === "\n") {
      text += " ";
      at += 1;
      continue;
    }
    if (char === "`") {
      const run = /^`+/.exec(rest)?.[0] ?? "`";
      const close = findRun(source, at + run.length, run);
      if (close >= 0) {
        let code = source.slice(at + run.length, close).replace(/\n/g, " ");
        if (code.startsWith(" ") && code.endsWith(" ") && code.trim()) code = code.slice(1, -1);
        push({ kind: "code", text: code });
        at = close + run.length;
      } else {
        text += run;
        at += run.length;
      }
      continue;
    }
    if (char === "[") {
      const link = readLink(source, at);
      if (link) {
        const href = safeHref(link.target);
        const children = parseInline(link.label);
        if (href) push({ kind: "link", href, children });
        else for (const child of children) push(child);
        at = link.end;
        continue;
      }
    }
    if (char === "<") {
      const auto = /^<(https?:\/\/[^\s<>]+)>/.exec(rest);
      const href = auto && safeHref(auto[1] ?? "");
      if (auto && href) {
        push({ kind: "link", href, children: [{ kind: "text", text: auto[1] ?? "" }] });
        at += auto[0].length;
        continue;
      }
    }
    if (char === "h" && !/\w/.test(source[at - 1] ?? "")) {
      const bare = BARE_URL.exec(rest);
      const href = bare && safeHref(bare[0]);
      if (bare && href) {
        push({ kind: "link", href, children: [{ kind: "text", text: bare[0] }] });
        at += bare[0].length;
        continue;
      }
    }
    if (char === "*" || char === "_") {
      const emphasis = readEmphasis(source, at);
      if (emphasis) {
        push(emphasis.node);
        at = emphasis.end;
        continue;
      }
    }
    text += char;
    at += 1;
  }
  if (text) out.push({ kind: "text", text });
  return out;
}

/** `[label](target "title")`, the target's parentheses balanced as CommonMark allows: `(a(b)c)`. */
function readLink(source: string, at: number): { label: string; target: string; end: number } | undefined {
  const close = source.indexOf("](", at);
  if (close < 0 || /[[\]]/.test(source.slice(at + 1, close))) return undefined;
  let depth = 0;
  for (let index = close + 2; index < source.length; index += 1) {
    const char = source[index];
    if (char === "\\") index += 1;
    else if (char === "(") depth += 1;
    else if (char === ")" && depth > 0) depth -= 1;
    else if (char === ")") {
      const inside = source.slice(close + 2, index).trim();
      const target = /^<([^>]*)>|^(\S*)/.exec(inside);
      return {
        label: source.slice(at + 1, close),
        target: target?.[1] ?? target?.[2] ?? "",
        end: index + 1,
      };
    }
  }
  return undefined;
}

function findRun(source: string, from: number, run: string): number {
  let at = source.indexOf(run, from);
  while (at >= 0) {
    // The closing run must be exactly as long: ``a`b`` holds a single backtick.
    if (source[at + run.length] !== "`" && source[at - 1] !== "`") return at;
    at = source.indexOf(run, at + 1);
  }
  return -1;
}

/**
 * `*em*`, `**strong**`, `_em_`, `__strong__`: the opener must be followed and the closer preceded by a
 * non-space, and underscores count only at word edges, so `snake_case_names` stay as written.
 */
function readEmphasis(source: string, at: number): { node: Inline; end: number } | undefined {
  const char = source[at] ?? "";
  const double = source[at + 1] === char;
  const marker = double ? char + char : char;
  const inner = at + marker.length;
  if (/\s/.test(source[inner] ?? " ") || source[inner] === char) return undefined;
  if (char === "_" && /\w/.test(source[at - 1] ?? "")) return undefined;
  let close = source.indexOf(marker, inner + 1);
  while (close >= 0) {
    const before = source[close - 1] ?? "";
    const after = source[close + marker.length] ?? "";
    const flanked = !/\s/.test(before) && after !== char;
    if (flanked && !(char === "_" && /\w/.test(after))) {
      const children = parseInline(source.slice(inner, close));
      return {
        node: double ? { kind: "strong", children } : { kind: "emphasis", children },
        end: close + marker.length,
      };
    }
    close = source.indexOf(marker, close + 1);
  }
  return undefined;
}
