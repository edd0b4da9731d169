/**
 * The project README's TypeScript compiles: every `ts` block (pipelines, the API client, an extension) is type-
 * checked as a file of its own against the SDK's source, the way the SDK's own README is, so an example cannot
 * call what the SDK no longer has.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { markdownCodeBlocks } from "../../sdk/test/support/markdown-code-blocks.ts";
import {
  describeProblems,
  type ExampleFolder,
  typeCheckExamples,
  writeExamples,
} from "../../sdk/test/support/readme-examples.ts";

const README = fileURLToPath(new URL("../../../README.md", import.meta.url));

describe("the README's TypeScript", () => {
  const examples = markdownCodeBlocks(README).filter((block) => block.language === "ts");
  let folder: ExampleFolder;
  before(async () => {
    folder = await writeExamples(examples);
  });
  after(async () => {
    await folder?.remove();
  });

  it("compiles, each block as a module of its own", async () => {
    assert.ok(examples.length >= 4, `only ${examples.length} ts blocks found`);
    const problems = await typeCheckExamples(folder, "README.md");
    assert.equal(problems.length, 0, describeProblems(problems));
  });
});
