import assert from "node:assert/strict";
import { test } from "node:test";
import { findDependencyCycles, topologicalOrder } from "../src/index.ts";

const node = (id: string, ...parents: string[]) => ({
  id,
  depends_on: Object.fromEntries(parents.map((parent) => [parent, "Success"])),
});

test("topologicalOrder puts parents first and otherwise prefers the task listed first", () => {
  const tasks = [
    node("deploy", "test", "build"),
    node("lint"),
    node("test", "build"),
    node("build"),
    node("docs"),
  ];
  assert.deepEqual(topologicalOrder(tasks), ["lint", "build", "test", "deploy", "docs"]);
});

test("topologicalOrder handles a long chain listed backwards", () => {
  const tasks = Array.from({ length: 1000 }, (_, i) =>
    node(`t${999 - i}`, ...(i === 999 ? [] : [`t${998 - i}`])),
  );
  const order = topologicalOrder(tasks);
  assert.equal(order[0], "t0");
  assert.equal(order[999], "t999");
});

test("topologicalOrder refuses input the validator would refuse", () => {
  assert.throws(() => topologicalOrder([node("a", "b"), node("b", "a")]), /cycle/);
  assert.throws(() => topologicalOrder([node("a", "a")]), /cycle/);
  assert.throws(() => topologicalOrder([node("a", "missing")]), /not in the list/);
  assert.throws(() => topologicalOrder([node("a"), node("a")]), /unique/);
});

test("findDependencyCycles returns closed paths and ignores unknown parents", () => {
  assert.deepEqual(findDependencyCycles([node("a", "ghost"), node("b", "a")]), []);
  assert.deepEqual(findDependencyCycles([node("a", "a")]), [["a", "a"]]);
  assert.deepEqual(findDependencyCycles([node("c", "a"), node("a", "b"), node("b", "c")]), [
    ["c", "a", "b", "c"],
  ]);
});

test("findDependencyCycles reports the shortest cycle through the first task of a tangle", () => {
  const tasks = [node("a", "b", "c"), node("b", "c"), node("c", "a")];
  assert.deepEqual(findDependencyCycles(tasks), [["a", "c", "a"]]);
});
