/**
 * The wording and placement behind a newcomer's rough edges, in Node: a log's line count and the note for a
 * linked line past its end, the config compare's summary, and the `examples/dag` graph's labels kept apart with
 * room for their halos.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import dag from "../../examples/dag/pipeline.ts";
import { diffSummary } from "../src/diff/diff-summary.ts";
import { lineDiff } from "../src/diff/line-diff.ts";
import { type Box, drawEdges, overlaps } from "../src/graph/edge-labels.ts";
import { layoutDag, NODE_HEIGHT, NODE_WIDTH } from "../src/graph/layout.ts";
import { lineCountText, pastEndNote } from "../src/logs/log-counts.ts";

describe("a log's length in words", () => {
  it("counts one line in the singular and more in the plural, grouped", () => {
    assert.equal(lineCountText(0), "0 lines");
    assert.equal(lineCountText(1), "1 line");
    assert.equal(lineCountText(2), "2 lines");
    assert.equal(lineCountText(100_000), `${(100_000).toLocaleString()} lines`);
  });

  it("says a linked line is past the end, and nothing for a line that is there", () => {
    assert.equal(pastEndNote(undefined, 3), undefined);
    assert.equal(pastEndNote(3, 3), undefined);
    assert.equal(pastEndNote(4, 3), "Line 4 is past the end: this log has only 3 lines; showing the last.");
    assert.equal(pastEndNote(9, 1), "Line 9 is past the end: this log has only 1 line; showing the last.");
    assert.equal(pastEndNote(2, 0), "Line 2 is past the end: this log has no lines.");
  });
});

describe("the config compare's summary", () => {
  it("counts removed and added lines apart", () => {
    const before = ["{", '  "value": "second",', '  "other": 1', "}"];
    const after = [
      "{",
      '  "value": "third",',
      '  "other": 1',
      ...Array.from({ length: 19 }, () => "  x"),
      "}",
    ];
    assert.equal(diffSummary(lineDiff(before, after)), "1 removed, 20 added");
    assert.equal(diffSummary(lineDiff(["a", "b"], ["a"])), "1 removed");
    assert.equal(diffSummary(lineDiff(["a"], ["a", "b", "c"])), "2 added");
    assert.equal(diffSummary(lineDiff(["a"], ["a"])), "identical");
  });
});

describe("the dag example's edge labels", () => {
  /** Half the labels' 4 px halo: what a label paints past its letters. */
  const HALO = 2;
  const grown = (box: Box): Box => ({
    x: box.x - HALO,
    y: box.y - HALO,
    width: box.width + 2 * HALO,
    height: box.height + 2 * HALO,
  });

  it("keeps every label's halo clear of the nodes and of every other label's", () => {
    const config = dag.finish();
    const layout = layoutDag(
      config.tasks.map((task) => ({ id: task.id, parents: Object.keys(task.depends_on) })),
    );
    const edges = drawEdges(
      layout,
      config.tasks.flatMap((task) =>
        Object.entries(task.depends_on).map(([parent, condition]) => ({
          parent,
          child: task.id,
          label: condition.toLowerCase(),
        })),
      ),
    );
    const nodes = [...layout.nodes.values()].map((node) => ({
      x: node.x,
      y: node.y,
      width: NODE_WIDTH,
      height: NODE_HEIGHT,
    }));
    assert.equal(edges.length, 7);
    for (const edge of edges) {
      assert.ok(edge.labelAt, `${edge.key} has a label`);
      const painted = grown(edge.labelAt.box);
      for (const node of nodes) assert.ok(!overlaps(painted, node), `${edge.key}'s label touches a node`);
      for (const other of edges)
        if (other !== edge && other.labelAt)
          assert.ok(
            !overlaps(painted, grown(other.labelAt.box)),
            `${edge.key} and ${other.key} labels' halos meet`,
          );
    }
  });
});
