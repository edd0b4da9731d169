/**
 * A pipeline file is ESM TypeScript wherever it sits: in a folder whose package.json says `"type": "commonjs"`
 * (what `npm init -y` writes), in one with no package.json at all, as `.ts` or `.mts`. A `.js` file there is
 * CommonJS as Node says, and when it uses `import` the error says why and what to change.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, readFile, realpath, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadPipelineFile, PipelineFileError } from "../src/cli/pipeline-file/load-pipeline-file.ts";
import { assertExit, type Gofer, scratchDir, showResult, useCliServer } from "./support/cli.ts";

const builder = (id: string, task = 'task("build", "gofer/busybox:latest").command("echo", greeting)') => `
import { pipeline, task } from "@gofer/sdk";
const greeting: string = "hello";
export default pipeline(${JSON.stringify(id)}, "From a CommonJS folder").tasks(${task});
`;

/** A folder outside the repository with the package.json `npm init -y` writes in it. */
async function npmInitFolder(): Promise<string> {
  const dir = await realpath(scratchDir("gofer-npm-init-"));
  execFileSync("npm", ["init", "-y"], { cwd: dir, stdio: "ignore" });
  const manifest = JSON.parse(await readFile(join(dir, "package.json"), "utf8"));
  assert.equal(manifest.type, "commonjs", "this npm's `init -y` no longer writes the case under test");
  return dir;
}

async function loadError(path: string): Promise<PipelineFileError> {
  try {
    await loadPipelineFile(path);
  } catch (error) {
    assert.ok(error instanceof PipelineFileError, String(error));
    return error;
  }
  assert.fail(`${path} loaded, but it should not have`);
}

describe("pipeline files in a folder of `npm init -y`", { concurrency: 4 }, () => {
  it("loads a .ts file as a module, with the local .ts files it imports", async () => {
    const dir = await npmInitFolder();
    await writeFile(join(dir, "tasks.ts"), 'export const image: string = "gofer/busybox:latest";\n');
    await writeFile(
      join(dir, "pipeline.ts"),
      builder("with-import", 'task("build", image).command("echo", greeting)').replace(
        "\n",
        '\nimport { image } from "./tasks.ts";\n',
      ),
    );
    const { config } = await loadPipelineFile(dir);
    assert.equal(config.id, "with-import");
    assert.equal(config.tasks[0]?.image, "gofer/busybox:latest");
  });

  it("loads a .mts file, and a .ts file in a subfolder of the project", async () => {
    const dir = await npmInitFolder();
    await writeFile(join(dir, "pipeline.mts"), builder("as-mts"));
    await mkdir(join(dir, "ci"));
    await writeFile(join(dir, "ci", "pipeline.ts"), builder("in-subfolder"));
    assert.equal((await loadPipelineFile(join(dir, "pipeline.mts"))).config.id, "as-mts");
    assert.equal((await loadPipelineFile(join(dir, "ci"))).config.id, "in-subfolder");
  });

  it("keeps a CommonJS .js file CommonJS", async () => {
    const dir = await npmInitFolder();
    await writeFile(
      join(dir, "pipeline.js"),
      'const { pipeline, task } = require("@gofer/sdk");\n' +
        'module.exports = pipeline("commonjs-js", "C").tasks(task("t", "gofer/busybox:latest"));\n',
    );
    assert.equal((await loadPipelineFile(join(dir, "pipeline.js"))).config.id, "commonjs-js");
  });

  it("explains an import in a .js file: the package.json makes it CommonJS; rename it or change that", async () => {
    const dir = await npmInitFolder();
    const file = join(dir, "pipeline.js");
    await writeFile(
      file,
      'import { pipeline, task } from "@gofer/sdk";\n' +
        'export default pipeline("esm-js", "E").tasks(task("t", "gofer/busybox:latest"));\n',
    );
    const error = await loadError(file);
    assert.equal(error.code, "PIPELINE_FILE_SYNTAX_ERROR", error.message);
    assert.ok(error.message.includes(`${join(dir, "package.json")} says "type": "commonjs"`), error.message);
    assert.match(error.message, /Rename it to pipeline\.mjs or pipeline\.ts/);
    assert.doesNotMatch(error.message, /Fix the line shown/);
  });
});

describe("a .ts pipeline file with no package.json around it", () => {
  it("loads as a module", async () => {
    const dir = await realpath(scratchDir("gofer-no-package-"));
    await writeFile(join(dir, "pipeline.ts"), builder("no-package"));
    assert.equal((await loadPipelineFile(dir)).config.id, "no-package");
  });
});

describe("`gofer up` in a folder of `npm init -y`", () => {
  let gofer: Gofer;
  useCliServer((_server, cli) => {
    gofer = cli;
  });

  it("registers and deploys its pipeline.ts", async () => {
    const dir = await npmInitFolder();
    await writeFile(join(dir, "pipeline.ts"), builder("from-npm-init"));
    const result = await gofer(["up", "."], { cwd: dir });
    assertExit(result, 0);
    assert.match(result.stdout, /Registered and deployed version 1 of from-npm-init/, showResult(result));
  });
});
