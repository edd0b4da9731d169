/**
 * Markdown (see parse.ts) as Preact elements. Text goes in as text nodes, which Preact escapes, and nothing is
 * ever set as HTML, so documentation from an extension's container cannot add markup or scripts to the page.
 * Headings start at h3: the page around the documentation has its own h1 and h2.
 */
import { type ComponentChildren, Fragment, createElement as h } from "preact";
import { type Block, type Inline, parseMarkdown, safeHref } from "./parse.ts";

function inline(nodes: Inline[]): ComponentChildren[] {
  return nodes.map((node, index): ComponentChildren => {
    if (node.kind === "text") return node.text;
    if (node.kind === "code") return h("code", { key: index }, node.text);
    if (node.kind === "emphasis") return h("em", { key: index }, inline(node.children));
    if (node.kind === "strong") return h("strong", { key: index }, inline(node.children));
    // Checked again here, so no tree built by other means can carry a script URL into the page.
    const href = safeHref(node.href);
    if (!href) return h(Fragment, { key: index }, inline(node.children));
    return h(
      "a",
      { key: index, href, rel: "noopener noreferrer nofollow", target: "_blank" },
      inline(node.children),
    );
  });
}

function block(node: Block, index: number): ComponentChildren {
  switch (node.kind) {
    case "paragraph":
      return h("p", { key: index }, inline(node.children));
    case "heading":
      return h(`h${Math.min(6, node.level + 2)}`, { key: index }, inline(node.children));
    case "code":
      return h(
        "pre",
        { key: index },
        h("code", node.language ? { "data-language": node.language } : null, node.text),
      );
    case "list":
      return h(
        node.ordered ? "ol" : "ul",
        { key: index, ...(node.ordered && node.start !== 1 ? { start: node.start } : {}) },
        node.items.map((item, at) => h("li", { key: at }, inline(item))),
      );
  }
}

export function renderMarkdown(source: string): ComponentChildren[] {
  return parseMarkdown(source).map(block);
}

/** Inline Markdown only (code, emphasis, links), for one-line texts such as a setting's description. */
export function renderInlineMarkdown(source: string): ComponentChildren[] {
  return inline(parseMarkdown(source).flatMap((node) => (node.kind === "paragraph" ? node.children : [])));
}

export function Markdown({ source, class: className }: { source: string; class?: string }) {
  return h("div", { class: className }, renderMarkdown(source));
}
