import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { globalSecret, pipelineObject, pipelineSecret, runObject } from "../src/index.ts";

const helpers = [
  { helper: pipelineSecret, name: "pipelineSecret", kind: "pipeline_secret" },
  { helper: globalSecret, name: "globalSecret", kind: "global_secret" },
  { helper: pipelineObject, name: "pipelineObject", kind: "pipeline_object" },
  { helper: runObject, name: "runObject", kind: "run_object" },
];

describe("interpolation helpers", () => {
  test("each produces Gofer's v0 reference syntax for its kind", () => {
    assert.equal(pipelineSecret("logs_header"), "pipeline_secret{{logs_header}}");
    assert.equal(globalSecret("test_secret_global"), "global_secret{{test_secret_global}}");
    assert.equal(pipelineObject("last-version"), "pipeline_object{{last-version}}");
    assert.equal(runObject("artifact.tar"), "run_object{{artifact.tar}}");
  });

  for (const { helper, name, kind } of helpers) {
    test(`${name} keeps the key as given`, () => {
      assert.equal(helper("a key/with:odd=chars"), `${kind}{{a key/with:odd=chars}}`);
    });

    test(`${name} refuses an empty or blank key, naming itself`, () => {
      for (const key of ["", "   ", "\t\n"]) {
        assert.throws(() => helper(key), {
          name: "Error",
          message: `${name}: the key must not be empty`,
        });
      }
    });

    test(`${name} refuses braces in the key`, () => {
      for (const key of ["a{b", "a}b", "{key}", "x}}y"]) {
        assert.throws(() => helper(key), {
          message: `${name}: the key must not contain "{" or "}", got ${JSON.stringify(key)}`,
        });
      }
    });

    test(`${name} refuses a key that is not a string instead of writing "undefined"`, () => {
      const call = helper as (key: unknown) => string;
      assert.throws(() => call(undefined), { message: `${name}: the key must be a string, got undefined` });
      assert.throws(() => call(null), { message: `${name}: the key must be a string, got null` });
      assert.throws(() => call(7), { message: `${name}: the key must be a string, got number` });
    });
  }
});
