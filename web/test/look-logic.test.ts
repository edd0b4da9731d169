/**
 * The look's pure logic, run in Node: extension documentation's Markdown (what it renders, and that nothing from
 * an untrusted container becomes markup or a script link), edge-label placement on the DAG graph, and the
 * contrast arithmetic the browser tests judge colours with.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { VNode } from "preact";
import { type Box, drawEdges, labelBox, overlaps } from "../src/graph/edge-labels.ts";
import { layoutDag, NODE_HEIGHT, NODE_WIDTH } from "../src/graph/layout.ts";
import { parseInline, parseMarkdown, safeHref } from "../src/markdown/parse.ts";
import { renderMarkdown } from "../src/markdown/render.ts";
import { contrastRatio, paint, parseColor, sampleRatio } from "./support/contrast.ts";

/** A rendered tree as plain data: [tag, attributes, ...children], text as strings. */
function shape(node: unknown): unknown {
  if (node === null || node === undefined || typeof node === "boolean") return null;
  if (typeof node === "string" || typeof node === "number") return String(node);
  if (Array.isArray(node)) return node.map(shape);
  const vnode = node as VNode<Record<string, unknown>>;
  const { children, ...attributes } = vnode.props;
  const kids = (Array.isArray(children) ? children : [children]).flat(Infinity).map(shape).filter(Boolean);
  const tag = typeof vnode.type === "string" ? vnode.type : "fragment";
  return Object.keys(attributes).length ? [tag, attributes, ...kids] : [tag, ...kids];
}

describe("extension documentation's Markdown", () => {
  it("renders paragraphs, inline code, emphasis, lists, fenced and indented code blocks and http(s) links", () => {
    const source = [
      "Subscribe with `every`, a *Go-style* duration (**required**):",
      "",
      "    gofer pipeline subscription create p interval every-5m -s every=5m",
      "",
      "- `30s` or `5m`",
      "- see [the docs](https://example.com/docs)",
      "",
      "```toml",
      'every = "1h"',
      "```",
      "3. third",
      "4. fourth",
    ].join("\n");
    assert.deepEqual(renderMarkdown(source).map(shape), [
      [
        "p",
        "Subscribe with ",
        ["code", "every"],
        ", a ",
        ["em", "Go-style"],
        " duration (",
        ["strong", "required"],
        "):",
      ],
      ["pre", ["code", "gofer pipeline subscription create p interval every-5m -s every=5m"]],
      [
        "ul",
        ["li", ["code", "30s"], " or ", ["code", "5m"]],
        [
          "li",
          "see ",
          [
            "a",
            { href: "https://example.com/docs", rel: "noopener noreferrer nofollow", target: "_blank" },
            "the docs",
          ],
        ],
      ],
      ["pre", ["code", { "data-language": "toml" }, 'every = "1h"']],
      ["ol", { start: 3 }, ["li", "third"], ["li", "fourth"]],
    ]);
  });

  it("keeps raw HTML as text and never links anything but http(s)", () => {
    const hostile = [
      '<img src=x onerror="alert(1)"> <script>alert(2)</script>',
      "[click](javascript:alert(3)) [data](data:text/html,<b>x</b>) [rel](/api/tokens)",
      "<javascript:alert(4)>",
    ].join("\n\n");
    const rendered = renderMarkdown(hostile).map(shape);
    assert.deepEqual(rendered, [
      ["p", '<img src=x onerror="alert(1)"> <script>alert(2)</script>'],
      ["p", "click", " ", "data", " ", "rel"],
      ["p", "<javascript:alert(4)>"],
    ]);
    assert.doesNotMatch(JSON.stringify(rendered), /dangerouslySetInnerHTML|"href"/);
    assert.equal(safeHref("JAVASCRIPT:alert(1)"), undefined);
    assert.equal(safeHref(" https://example.com/a b"), "https://example.com/a%20b");
  });

  it("leaves snake_case names, lone stars and unclosed backticks as written", () => {
    assert.deepEqual(parseInline("min_interval and pipeline_subscription_params"), [
      { kind: "text", text: "min_interval and pipeline_subscription_params" },
    ]);
    assert.deepEqual(parseInline("2 * 3 * 4 and `open"), [{ kind: "text", text: "2 * 3 * 4 and `open" }]);
    assert.deepEqual(parseInline("``a ` b``"), [{ kind: "code", text: "a ` b" }]);
    assert.deepEqual(parseInline("\\`not code\\`"), [{ kind: "text", text: "`not code`" }]);
    assert.deepEqual(parseInline("at https://example.com/x."), [
      { kind: "text", text: "at " },
      {
        kind: "link",
        href: "https://example.com/x",
        children: [{ kind: "text", text: "https://example.com/x" }],
      },
      { kind: "text", text: "." },
    ]);
  });

  it("runs an unclosed fence to the end and keeps a year inside a paragraph as text", () => {
    assert.deepEqual(parseMarkdown("```\ncode\n\nmore"), [
      { kind: "code", text: "code\n\nmore", language: "" },
    ]);
    assert.deepEqual(parseMarkdown("Since\n2024. it works"), [
      { kind: "paragraph", children: [{ kind: "text", text: "Since 2024. it works" }] },
    ]);
    assert.deepEqual(parseMarkdown("## Settings ##"), [
      { kind: "heading", level: 2, children: [{ kind: "text", text: "Settings" }] },
    ]);
  });
});

describe("edge labels on the DAG graph", () => {
  type Dependencies = Record<string, Record<string, string>>;
  const graphs: Record<string, Dependencies> = {
    // One node joined by a "success" and an "any" edge, with a fan-out beside it: where labels used to collide.
    join: {
      checkout: {},
      build: { checkout: "success" },
      test: { checkout: "success" },
      lint: { checkout: "any" },
      publish: { build: "success", test: "any", lint: "failure" },
      notify: { test: "failure" },
    },
    // Edges skipping a column run past the nodes between them.
    skips: {
      a: {},
      b: { a: "success" },
      c: { b: "success", a: "any" },
      d: { c: "success", a: "failure", b: "any" },
    },
    wide: {
      root: {},
      ...Object.fromEntries(["one", "two", "three", "four", "five"].map((id) => [id, { root: "success" }])),
      last: { one: "any", two: "success", three: "failure", four: "any", five: "success" },
    },
  };

  const draw = (dependencies: Dependencies) => {
    const layout = layoutDag(
      Object.entries(dependencies).map(([id, parents]) => ({ id, parents: Object.keys(parents) })),
    );
    const edges = drawEdges(
      layout,
      Object.entries(dependencies).flatMap(([child, parents]) =>
        Object.entries(parents).map(([parent, label]) => ({ parent, child, label })),
      ),
    );
    return { layout, edges };
  };

  for (const [name, dependencies] of Object.entries(graphs)) {
    it(`places every label of the "${name}" graph clear of the nodes and of each other`, () => {
      const { layout, edges } = draw(dependencies);
      const nodes: Box[] = [...layout.nodes.values()].map((node) => ({
        x: node.x,
        y: node.y,
        width: NODE_WIDTH,
        height: NODE_HEIGHT,
      }));
      const labels = edges.map((edge) => ({ edge, box: edge.labelAt?.box }));
      for (const { edge, box } of labels) {
        assert.ok(box, `${edge.key} has a label`);
        // The box is as wide as its text, so a label never grows past what was checked.
        assert.deepEqual(labelBox(edge.label, [box.x + box.width / 2, box.y + box.height / 2]), box);
        for (const node of nodes) assert.ok(!overlaps(box, node), `${edge.key}'s label covers a node`);
        for (const other of labels)
          if (other.box && other.edge !== edge)
            assert.ok(!overlaps(box, other.box), `${edge.key} and ${other.edge.key} labels overlap`);
      }
    });
  }

  it("puts a label on its own edge, between the parent's column and the child's", () => {
    const { layout, edges } = draw(graphs.join ?? {});
    for (const edge of edges) {
      const from = layout.nodes.get(edge.parent);
      const to = layout.nodes.get(edge.child);
      assert.ok(from && to && edge.labelAt);
      assert.ok(edge.labelAt.x > from.x + NODE_WIDTH && edge.labelAt.x < to.x, edge.key);
      const [top, bottom] = [from.y, to.y].sort((a, b) => a - b) as [number, number];
      assert.ok(edge.labelAt.y > top - 16 && edge.labelAt.y < bottom + NODE_HEIGHT + 16, edge.key);
    }
  });
});

describe("contrast arithmetic", () => {
  it("gives WCAG's ratios", () => {
    assert.equal(contrastRatio(parseColor("rgb(0, 0, 0)"), parseColor("rgb(255, 255, 255)")), 21);
    assert.equal(contrastRatio(parseColor("rgb(1, 2, 3)"), parseColor("rgb(1, 2, 3)")), 1);
    // White on the dark theme's old green button: the fault this ratio catches.
    const oldStart = contrastRatio(parseColor("rgb(255, 255, 255)"), parseColor("rgb(63, 185, 80)"));
    assert.ok(oldStart > 2.5 && oldStart < 2.6, String(oldStart));
  });

  it("reads color(srgb …) and paints translucent layers and group opacity over what is behind", () => {
    assert.deepEqual(parseColor("color(srgb 1 0 0 / 0.5)"), [255, 0, 0, 0.5]);
    assert.deepEqual(parseColor("rgba(0, 0, 0, 0)"), [0, 0, 0, 0]);
    assert.throws(() => parseColor("hsl(0 0% 0%)"), /cannot read the colour/);
    const layers = [
      { background: "rgb(255, 255, 255)", opacity: 1 },
      { background: "rgb(0, 0, 0)", opacity: 0.5 },
    ];
    assert.deepEqual(paint(layers).map(Math.round), [128, 128, 128, 1]);
    const dimmed = { text: "x", where: "span", color: "rgb(0, 0, 0)", layers, disabled: false };
    const clear = { ...dimmed, layers: [{ background: "rgb(255, 255, 255)", opacity: 1 }] };
    assert.ok(sampleRatio(dimmed) < sampleRatio(clear) / 2, "opacity lowers the contrast");
  });
});
