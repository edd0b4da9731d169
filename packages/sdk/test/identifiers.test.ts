import assert from "node:assert/strict";
import { test } from "node:test";
import { isValidIdentifier, isValidTaskId } from "../src/index.ts";

test("identifiers: 3–32 letters, digits and hyphens", () => {
  for (const id of ["abc", "default", "my-pipeline-2", "A".repeat(32), "---"]) {
    assert.equal(isValidIdentifier(id), true, id);
  }
  for (const id of ["", "ab", "A".repeat(33), "my_pipeline", "has space", "dot.ted", "ünï", "abc\n"]) {
    assert.equal(isValidIdentifier(id), false, JSON.stringify(id));
  }
});

test("task ids: 1–64 letters, digits, hyphens and underscores, starting with a letter or digit", () => {
  for (const id of ["a", "7", "task_one", "run-tests", "Build_2", "b".repeat(64)]) {
    assert.equal(isValidTaskId(id), true, id);
  }
  for (const id of ["", "-x", "_x", "b".repeat(65), "has space", "a.b", "a/b", "x\n"]) {
    assert.equal(isValidTaskId(id), false, JSON.stringify(id));
  }
});
