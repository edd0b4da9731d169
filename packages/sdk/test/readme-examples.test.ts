/**
 * The SDK's README shows only code that works: every `ts` block compiles as a file of its own against the SDK's
 * source, and every pipeline file it shows is one `gofer up` would accept. Blocks that are not meant to compile
 * carry another language tag (`sh`, `text`).
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isPipelineBuilder, validatePipelineConfig } from "../src/index.ts";
import { type CodeBlock, markdownCodeBlocks } from "./support/markdown-code-blocks.ts";
import {
  describeProblems,
  type ExampleFolder,
  typeCheckExamples,
  writeExamples,
} from "./support/readme-examples.ts";

const README = fileURLToPath(new URL("../README.md", import.meta.url));
const SHOWN_AS = "packages/sdk/README.md";

/** Tags of blocks that are not TypeScript: shown as they are, never compiled. */
const OTHER_LANGUAGES = new Set(["sh", "text", "json", "dockerfile"]);

/** Every module specifier a block imports. */
function importsOf(block: CodeBlock): string[] {
  return [...block.text.matchAll(/\bfrom\s+"([^"]+)"/g)].map((match) => match[1] ?? "");
}

/** A pipeline file: it exports a pipeline by default and imports nothing but the pipeline builder. */
function isPipelineFile(block: CodeBlock): boolean {
  return /^export default /m.test(block.text) && importsOf(block).every((from) => from === "@gofer/sdk");
}

describe("the SDK README's examples", () => {
  const blocks = markdownCodeBlocks(README);
  const examples = blocks.filter((block) => block.language === "ts");
  let folder: ExampleFolder;

  before(async () => {
    folder = await writeExamples(examples);
  });
  after(async () => {
    await folder?.remove();
  });

  it("tags every block `ts`, to be compiled, or as a language that is not TypeScript", () => {
    const untagged = blocks.filter(
      (block) => block.language !== "ts" && !OTHER_LANGUAGES.has(block.language),
    );
    assert.deepEqual(
      untagged.map((block) => `${SHOWN_AS}:${block.line} is tagged ${JSON.stringify(block.language)}`),
      [],
      `tag TypeScript \`ts\` so it is compiled, anything else one of ${[...OTHER_LANGUAGES].join(", ")}`,
    );
  });

  it("shows each of the SDK's three entry points at work", () => {
    const imported = new Set(examples.flatMap(importsOf));
    for (const entry of ["@gofer/sdk", "@gofer/sdk/client", "@gofer/sdk/extension"]) {
      assert.ok(imported.has(entry), `no ts block imports ${entry}`);
    }
  });

  it("compiles every ts block as a module of its own against the SDK's source", async () => {
    const problems = await typeCheckExamples(folder, SHOWN_AS);
    assert.equal(problems.length, 0, `the README's examples do not compile:\n${describeProblems(problems)}`);
  });

  it("shows pipeline files that gofer up accepts: a builder that finishes, or a valid config", async () => {
    const pipelineFiles = examples.filter(isPipelineFile);
    assert.ok(pipelineFiles.length > 0, "the README shows no pipeline file");
    for (const block of pipelineFiles) {
      const file = folder.files.get(block) ?? "";
      const where = `${SHOWN_AS}:${block.line} (under "${block.heading}")`;
      const { default: exported } = (await import(pathToFileURL(file).href).catch((error: unknown) => {
        throw new Error(`${where}: the pipeline file does not run: ${String(error)}`, { cause: error });
      })) as { default: unknown };
      if (isPipelineBuilder(exported)) {
        assert.doesNotThrow(() => exported.finish(), `${where}: finish() refuses the pipeline`);
      } else {
        const result = validatePipelineConfig(exported);
        assert.ok(result.ok, `${where}: the config is not valid: ${JSON.stringify(result)}`);
      }
    }
  });

  it("names the README line of an example that calls a method the SDK does not have", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gofer-sdk-readme-check-"));
    const markdown = join(dir, "EXAMPLE.md");
    await writeFile(
      markdown,
      [
        "# Example",
        "",
        "```ts",
        'import { GoferClient } from "@gofer/sdk/client";',
        "",
        'const gofer = new GoferClient({ baseUrl: "http://127.0.0.1:8080" });',
        'await gofer.runs.follow("default", "hello", 1);',
        "```",
        "",
      ].join("\n"),
    );
    const broken = await writeExamples(markdownCodeBlocks(markdown));
    try {
      const problems = await typeCheckExamples(broken, "EXAMPLE.md");
      assert.equal(problems.length, 1, describeProblems(problems));
      assert.equal(problems[0]?.where, "EXAMPLE.md:7:18");
      assert.match(problems[0]?.message ?? "", /TS2339: Property 'follow' does not exist on type 'RunsApi'/);
      assert.match(describeProblems(problems), /under "Example"/);
    } finally {
      await broken.remove();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
