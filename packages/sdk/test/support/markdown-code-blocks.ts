/**
 * The fenced code blocks of a Markdown file, so tests can build, type-check or run what the documentation shows
 * verbatim and the docs cannot drift from the code.
 */
import { readFileSync } from "node:fs";

export interface CodeBlock {
  /** The fence's info string's first word (`ts`, `sh`, `dockerfile`), lower-cased; "" when the fence has none. */
  language: string;
  /** The rest of the info string, e.g. `title=hello.ts`. */
  meta: string;
  /** The block's text, ending with a newline. */
  text: string;
  /** 1-based line of the opening fence, for failure messages. */
  line: number;
  /** The nearest heading above the block. */
  heading: string;
}

export function markdownCodeBlocks(path: string): CodeBlock[] {
  const lines = readFileSync(path, "utf8").split("\n");
  const blocks: CodeBlock[] = [];
  let heading = "";
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? "";
    const fence = /^(`{3,}|~{3,})\s*([^\s`]*)\s*(.*)$/.exec(line);
    if (!fence) {
      const title = /^#{1,6}\s+(.*)$/.exec(line);
      if (title) heading = title[1] ?? "";
      continue;
    }
    const [, marker = "```", language = "", meta = ""] = fence;
    const body: string[] = [];
    const start = index + 1;
    for (index++; index < lines.length && !(lines[index] ?? "").startsWith(marker); index++) {
      body.push(lines[index] ?? "");
    }
    blocks.push({
      language: language.toLowerCase(),
      meta,
      text: `${body.join("\n")}\n`,
      line: start,
      heading,
    });
  }
  return blocks;
}
