/**
 * Loading pipeline files. Fixtures are written to fresh directories under the system temp dir, outside the
 * repository and any node_modules, so `@gofer/sdk` can only be found through the loader's resolution fallback.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { after, describe, it } from "node:test";
import type { PipelineConfig } from "@gofer/sdk";
import {
  loadPipelineFile,
  PIPELINE_FILE_NAMES,
  PipelineFileError,
  type PipelineFileErrorCode,
} from "../src/cli/pipeline-file/load-pipeline-file.ts";

// Each TypeScript or JavaScript fixture starts a Node process; a few at a time keep the suite quick.
const created: string[] = [];
after(async () => {
  await Promise.all(created.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function freshDir(): Promise<string> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), "gofer-pipeline-file-")));
  created.push(dir);
  return dir;
}

/** Writes `files` (relative path → content) into a fresh temp dir and returns the path of the first one. */
async function fixture(files: Record<string, string>): Promise<{ dir: string; file: string }> {
  const dir = await freshDir();
  for (const [name, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), content);
  }
  return { dir, file: join(dir, Object.keys(files)[0] ?? "") };
}

async function loadError(path: string, timeoutMs?: number): Promise<PipelineFileError> {
  try {
    await loadPipelineFile(path, timeoutMs === undefined ? {} : { timeoutMs });
  } catch (error) {
    assert.ok(error instanceof PipelineFileError, `expected a PipelineFileError, got ${String(error)}`);
    return error;
  }
  assert.fail(`${path} loaded, but it should not have`);
}

function assertFailure(error: PipelineFileError, code: PipelineFileErrorCode, file: string): void {
  assert.equal(error.code, code, error.message);
  assert.equal(error.source, file);
  assert.ok(error.message.includes(file), `the message names the file:\n${error.message}`);
}

// No stack trace from Node's loader or the CLI's own modules reaches the user.
function assertNoInternalFrames(message: string): void {
  assert.doesNotMatch(message, /node:internal|pipeline-child|sdk-resolution|triggerUncaughtException/);
}

const SIMPLE_CONFIG: PipelineConfig = {
  id: "simple",
  name: "Simple",
  description: null,
  parallelism: 0,
  tasks: [
    {
      id: "build",
      description: null,
      image: "gofer/busybox:latest",
      registry_auth: null,
      depends_on: {},
      variables: {},
      entrypoint: null,
      command: ["echo", "hi"],
      inject_api_token: false,
      always_pull_newest_image: false,
    },
  ],
};

const SIMPLE_BUILDER = `
import { pipeline, task } from "@gofer/sdk";
export default pipeline("simple", "Simple").tasks(task("build", "gofer/busybox:latest").command("echo", "hi"));
`;

describe("loadPipelineFile: TypeScript and JavaScript", { concurrency: 4 }, () => {
  it("evaluates a .ts builder that imports @gofer/sdk from a directory with no node_modules", async () => {
    const { dir, file } = await fixture({
      "pipeline.ts": `
import { pipeline, task, type DependsOnCondition } from "@gofer/sdk";

const onFailure: DependsOnCondition = "failure";
const build = task("build", "gofer/busybox:latest").command("echo", "hi").variables({ CI: "true" });

export default pipeline("sdk-builder", "SDK builder")
  .description("built with the builder")
  .parallelism(2)
  .tasks(
    build,
    task("test", "gofer/busybox:latest").dependsOn(build, "success").command("true"),
    task("alert", "gofer/busybox:latest").dependsOn("test", onFailure).dependsOn(build, "any"),
  );
`,
    });
    assert.ok(relative(process.cwd(), dir).startsWith(".."), "the fixture is outside the repository");

    const loaded = await loadPipelineFile(file);
    assert.equal(loaded.source, file);
    assert.equal(loaded.output, "");
    assert.equal(loaded.config.id, "sdk-builder");
    assert.equal(loaded.config.description, "built with the builder");
    assert.equal(loaded.config.parallelism, 2);
    assert.deepEqual(
      loaded.config.tasks.map((task) => [task.id, task.depends_on]),
      [
        ["build", {}],
        ["test", { build: "Success" }],
        ["alert", { test: "Failure", build: "Any" }],
      ],
    );
    assert.deepEqual(loaded.config.tasks[0]?.variables, { CI: "true" });
  });

  it("strips the types of a .ts file that declares its own", async () => {
    const { file } = await fixture({
      "typed.ts": `
interface Step {
  id: string;
  image: string;
  after?: string;
}
type Condition = "Success" | "Failure";

function toTask(step: Step, condition: Condition = "Success") {
  return {
    id: step.id,
    image: step.image,
    depends_on: step.after === undefined ? {} : { [step.after]: condition },
    variables: {} as Record<string, string>,
    inject_api_token: false,
    always_pull_newest_image: false,
  };
}

const steps: Step[] = [{ id: "one", image: "busybox" }, { id: "two", image: "busybox", after: "one" }];
export default { id: "typed", name: "Typed", parallelism: 1, tasks: steps.map((step) => toTask(step)) } satisfies object;
`,
    });
    const { config } = await loadPipelineFile(file);
    assert.equal(config.id, "typed");
    assert.deepEqual(config.tasks[1]?.depends_on, { one: "Success" });
    assert.equal(config.tasks[1]?.command, null, "the validator fills in the fields left out");
  });

  it("accepts .mts and .mjs modules and a config object instead of a builder", async () => {
    const json = JSON.stringify(SIMPLE_CONFIG);
    const { dir } = await fixture({
      "a.mts": `const config: object = ${json};\nexport default config;\n`,
      "b.mjs": `export default ${json};\n`,
    });
    assert.deepEqual((await loadPipelineFile(join(dir, "a.mts"))).config, SIMPLE_CONFIG);
    assert.deepEqual((await loadPipelineFile(join(dir, "b.mjs"))).config, SIMPLE_CONFIG);
  });

  it("serves require() of @gofer/sdk in a CommonJS .js file", async () => {
    const { file } = await fixture({
      "pipeline.js": `
const { pipeline, task } = require("@gofer/sdk");
module.exports = pipeline("simple", "Simple").tasks(task("build", "gofer/busybox:latest").command("echo", "hi"));
`,
    });
    assert.deepEqual((await loadPipelineFile(file)).config, SIMPLE_CONFIG);
  });

  it("prefers an @gofer/sdk installed next to the pipeline file over the CLI's copy", async () => {
    const { file } = await fixture({
      "pipeline.mjs": SIMPLE_BUILDER,
      "node_modules/@gofer/sdk/package.json": JSON.stringify({
        name: "@gofer/sdk",
        type: "module",
        exports: "./index.js",
      }),
      "node_modules/@gofer/sdk/index.js": `
const config = ${JSON.stringify({ ...SIMPLE_CONFIG, name: "from the local SDK" })};
export const task = () => ({ command: () => ({}) });
export const pipeline = () => ({ tasks: () => ({ finish: () => config }) });
`,
    });
    const { config } = await loadPipelineFile(file);
    assert.equal(config.name, "from the local SDK");
  });

  it("takes an export named `pipeline` when there is no default export", async () => {
    const { file } = await fixture({
      "named.mjs": `export const pipeline = ${JSON.stringify(SIMPLE_CONFIG)};\nexport const other = 1;\n`,
    });
    assert.deepEqual((await loadPipelineFile(file)).config, SIMPLE_CONFIG);
  });

  it("collects what the file prints without letting it corrupt the config", async () => {
    const { file } = await fixture({
      "noisy.ts": `
import { pipeline, task } from "@gofer/sdk";
console.log('{"kind":"config","config":{"id":"evil"}}');
console.error("a warning on stderr");
process.stdout.write("no newline at the end");
export default pipeline("simple", "Simple").tasks(task("build", "gofer/busybox:latest").command("echo", "hi"));
`,
    });
    const loaded = await loadPipelineFile(file);
    assert.deepEqual(loaded.config, SIMPLE_CONFIG);
    assert.match(loaded.output, /\{"kind":"config","config":\{"id":"evil"\}\}\n/);
    assert.match(loaded.output, /a warning on stderr\n/);
    assert.match(loaded.output, /no newline at the end/);
  });

  it("runs the file in another process, so it cannot touch the CLI's globals", async () => {
    const { file } = await fixture({
      "pipeline.mjs": `globalThis.leakedFromPipeline = true;\nconsole.log("pid", process.pid);\n${SIMPLE_BUILDER}`,
    });
    const loaded = await loadPipelineFile(file);
    assert.equal("leakedFromPipeline" in globalThis, false);
    const pid = Number(/pid (\d+)/.exec(loaded.output)?.[1]);
    assert.ok(pid > 0 && pid !== process.pid, loaded.output);
  });

  it("does not wait for timers the file leaves running", async () => {
    const { file } = await fixture({ "pipeline.mjs": `setInterval(() => {}, 1000);\n${SIMPLE_BUILDER}` });
    const started = Date.now();
    await loadPipelineFile(file, { timeoutMs: 5000 });
    assert.ok(Date.now() - started < 4000);
  });
});

describe("loadPipelineFile: JSON", { concurrency: 4 }, () => {
  it("reads and validates a .json file into canonical form", async () => {
    const { file } = await fixture({
      "pipeline.json": JSON.stringify({
        id: "from-json",
        name: "From JSON",
        parallelism: 0,
        tasks: [
          {
            id: "a",
            image: "busybox",
            depends_on: {},
            variables: {},
            inject_api_token: false,
            always_pull_newest_image: true,
          },
          {
            id: "b",
            image: "busybox",
            depends_on: { a: "failure" },
            variables: { X: "1" },
            inject_api_token: false,
            always_pull_newest_image: false,
          },
        ],
      }),
    });
    const loaded = await loadPipelineFile(file);
    assert.equal(loaded.output, "");
    assert.equal(loaded.config.description, null);
    assert.deepEqual(loaded.config.tasks[1]?.depends_on, { a: "Failure" });
    assert.equal(loaded.config.tasks[0]?.always_pull_newest_image, true);
  });

  it("points at the line and column of a JSON syntax error", async () => {
    const { file } = await fixture({ "pipeline.json": '{\n  "id": "x",\n  name: "no quotes"\n}\n' });
    const error = await loadError(file);
    assertFailure(error, "PIPELINE_FILE_INVALID_JSON", file);
    assert.match(error.message, /line 3,? column 3/);
    assert.match(error.message, /\n {2}3 \| {3}name: "no quotes"\n {2} {2}\| {3}\^/);
  });

  it("locates an unexpected token that V8 reports without an offset", async () => {
    const { file } = await fixture({
      "pipeline.json": '{\n  "id": "x",\n  "name": tru,\n  "parallelism": 0\n}',
    });
    const error = await loadError(file);
    assertFailure(error, "PIPELINE_FILE_INVALID_JSON", file);
    assert.match(error.message, /Unexpected token ','.*\(line 3, column 14\)/);
    assert.doesNotMatch(error.message, /\.\.\."/, "V8's multi-line quote of the source is left out");
  });
});

describe("loadPipelineFile: finding the file", { concurrency: 4 }, () => {
  it("looks for the pipeline file names in order in a directory", async () => {
    const { dir } = await fixture({
      "index.ts": "export default 1;",
      "gofer.ts": "export default 1;",
      "pipeline.json": JSON.stringify({ ...SIMPLE_CONFIG, name: "json" }),
      "pipeline.mjs": `export default ${JSON.stringify({ ...SIMPLE_CONFIG, name: "mjs" })};`,
    });
    const loaded = await loadPipelineFile(dir);
    assert.equal(loaded.source, join(dir, "pipeline.mjs"));
    assert.equal(loaded.config.name, "mjs");

    const { dir: onlyIndex } = await fixture({ "index.ts": SIMPLE_BUILDER });
    assert.equal((await loadPipelineFile(onlyIndex)).source, join(onlyIndex, "index.ts"));
  });

  it("resolves a relative path against the working directory", async () => {
    const { file } = await fixture({ "pipeline.json": JSON.stringify(SIMPLE_CONFIG) });
    const loaded = await loadPipelineFile(relative(process.cwd(), file));
    assert.equal(loaded.source, file);
  });

  it("lists the names it tried when a directory holds none of them", async () => {
    const { dir } = await fixture({
      "pipeline.yaml": "id: x",
      "pipeline.ts/readme": "a directory, not a file",
    });
    const error = await loadError(dir);
    assertFailure(error, "PIPELINE_FILE_NOT_FOUND", dir);
    for (const name of PIPELINE_FILE_NAMES) assert.ok(error.message.includes(name), name);
    assert.match(error.message, /export default pipeline\(/);
  });

  it("reports a path that does not exist", async () => {
    const missing = join(await freshDir(), "nope", "pipeline.ts");
    const error = await loadError(missing);
    assertFailure(error, "PIPELINE_FILE_NOT_FOUND", missing);
    assert.match(error.message, /does not exist/);
  });

  it("refuses a file with an extension pipelines cannot be written in", async () => {
    const { file } = await fixture({ "pipeline.yaml": "id: x" });
    const error = await loadError(file);
    assertFailure(error, "PIPELINE_FILE_UNSUPPORTED", file);
    assert.match(error.message, /\.ts, \.mts, \.js, \.mjs, \.json/);
  });

  it("refuses a timeout that is not a positive number", async () => {
    await assert.rejects(loadPipelineFile("anything.ts", { timeoutMs: 0 }), RangeError);
  });
});

describe("loadPipelineFile: broken pipeline files", { concurrency: 4 }, () => {
  it("shows the offending line of a TypeScript syntax error", async () => {
    const { file } = await fixture({ "pipeline.ts": "const limit: number = ;\nexport default limit;\n" });
    const error = await loadError(file);
    assertFailure(error, "PIPELINE_FILE_SYNTAX_ERROR", file);
    assert.match(error.message, /const limit: number = ;\n\s+\^/);
    assert.match(error.message, /SyntaxError/);
    assertNoInternalFrames(error.message);
    assert.ok(error.message.split("\n").length < 15, error.message);
  });

  it("shows the offending line of a JavaScript syntax error", async () => {
    const { file } = await fixture({
      "pipeline.mjs": 'console.log("never printed");\nconst broken = {;\nexport default broken;\n',
    });
    const error = await loadError(file);
    assertFailure(error, "PIPELINE_FILE_SYNTAX_ERROR", file);
    assert.match(error.message, new RegExp(`${file}:2\\n\\s+const broken = \\{;\\n\\s+\\^`));
    assert.match(error.message, /SyntaxError: Unexpected token ';'/);
    assertNoInternalFrames(error.message);
    assert.equal(error.output, "", "Node's report is part of the message, not of the file's output");
  });

  it("explains TypeScript that Node cannot run by erasing types", async () => {
    const { file } = await fixture({ "pipeline.ts": "enum Stage { Build }\nexport default Stage;\n" });
    const error = await loadError(file);
    assertFailure(error, "PIPELINE_FILE_SYNTAX_ERROR", file);
    assert.match(error.message, /enum Stage/);
    assert.match(error.message, /union of string literals/);
  });

  it("shows the import line when the file imports a name the SDK does not export", async () => {
    const { file } = await fixture({
      "pipeline.ts": 'import { pipelines } from "@gofer/sdk";\nexport default pipelines;\n',
    });
    const error = await loadError(file);
    assertFailure(error, "PIPELINE_FILE_SYNTAX_ERROR", file);
    assert.match(error.message, /does not provide an export named 'pipelines'/);
    assertNoInternalFrames(error.message);
  });

  it("reports a package the file imports that is not installed", async () => {
    const { file } = await fixture({
      "pipeline.ts": 'import leftPad from "left-pad";\nexport default leftPad;\n',
    });
    const error = await loadError(file);
    assertFailure(error, "PIPELINE_FILE_IMPORT_FAILED", file);
    assert.match(error.message, /Cannot find package 'left-pad'/);
    assert.match(error.message, /npm install/);
    assertNoInternalFrames(error.message);
  });

  it("shows a thrown error with the frames in the user's file only", async () => {
    const { file } = await fixture({
      "pipeline.ts": [
        'console.log("before the throw");',
        "function load(): never {",
        '  throw new Error("cannot read settings");',
        "}",
        "load();",
        "export default 1;",
      ].join("\n"),
    });
    const error = await loadError(file);
    assertFailure(error, "PIPELINE_FILE_THREW", file);
    assert.match(error.message, /Error: cannot read settings/);
    assert.match(error.message, new RegExp(`at load \\(${file}:3:9\\)`));
    assertNoInternalFrames(error.message);
    assert.equal(error.output, "before the throw\n");
  });

  it("reports a thrown error from the builder with its location", async () => {
    const { file } = await fixture({
      "pipeline.ts":
        'import { pipeline } from "@gofer/sdk";\nexport default pipeline("x-y", "X").tasks("build" as never);\n',
    });
    const error = await loadError(file);
    assertFailure(error, "PIPELINE_FILE_THREW", file);
    assert.match(error.message, /TypeError: tasks\(\): argument 1 is not a task/);
    assert.match(error.message, new RegExp(`${file}:2:`));
  });

  it("lists the problems of a builder whose finish() refuses a cycle", async () => {
    const { file } = await fixture({
      "pipeline.ts": `
import { pipeline, task } from "@gofer/sdk";
export default pipeline("cyclic", "Cyclic").tasks(
  task("a", "busybox").dependsOn("b"),
  task("b", "busybox").dependsOn("a"),
  task("c", "busybox").dependsOn("ghost"),
);
`,
    });
    const error = await loadError(file);
    assertFailure(error, "PIPELINE_FILE_INVALID_CONFIG", file);
    assert.equal(error.problems.length, 2);
    assert.match(error.message, /\(2 problems\)/);
    assert.match(error.message, /\n {2}- task `a`: dependency cycle: a → b → a/);
    assert.match(error.message, /\n {2}- task `c` depends on `ghost`, which does not exist/);
  });

  it("validates a config object exported without the builder, as the server would", async () => {
    const cyclic = {
      ...SIMPLE_CONFIG,
      tasks: [
        { ...SIMPLE_CONFIG.tasks[0], id: "a", depends_on: { b: "Success" } },
        { ...SIMPLE_CONFIG.tasks[0], id: "b", depends_on: { a: "Success" } },
      ],
    };
    const { dir } = await fixture({
      "pipeline.json": JSON.stringify(cyclic),
      "other/pipeline.mjs": `export default ${JSON.stringify({ ...cyclic, parallelism: -1 })};`,
    });
    const fromJson = await loadError(join(dir, "pipeline.json"));
    assertFailure(fromJson, "PIPELINE_FILE_INVALID_CONFIG", join(dir, "pipeline.json"));
    assert.deepEqual(
      fromJson.problems.map((problem) => problem.path),
      ["tasks[0].depends_on.b"],
    );
    assert.match(fromJson.message, /dependency cycle: a → b → a/);

    const fromModule = await loadError(join(dir, "other"));
    assertFailure(fromModule, "PIPELINE_FILE_INVALID_CONFIG", join(dir, "other", "pipeline.mjs"));
    assert.equal(fromModule.problems.length, 2);
    assert.match(fromModule.message, /parallelism must be a whole number/);
  });

  it("explains how to export a pipeline when the module has no default export", async () => {
    const { file } = await fixture({
      "pipeline.ts": 'import { pipeline } from "@gofer/sdk";\nexport const build = pipeline("x-y", "X");\n',
    });
    const error = await loadError(file);
    assertFailure(error, "PIPELINE_FILE_NO_EXPORT", file);
    assert.match(error.message, /has no default export \(the module exports only `build`\)/);
    assert.match(error.message, /export default pipeline\(/);
  });

  it("treats a CommonJS file that exports nothing as having no export", async () => {
    const { file } = await fixture({ "pipeline.js": 'const unused = require("node:path");\n' });
    const error = await loadError(file);
    assertFailure(error, "PIPELINE_FILE_NO_EXPORT", file);
  });

  it("refuses an export of the wrong type and says what it is", async () => {
    const cases: Array<[string, RegExp]> = [
      ["export default 42;", /the default export is a number/],
      ["export default [];", /the default export is an array/],
      ["export default () => ({});", /the default export is a function/],
      [
        'import { pipeline } from "@gofer/sdk";\nexport default pipeline;',
        /the function `pipeline` itself; call it/,
      ],
      ['import { task } from "@gofer/sdk";\nexport default task("a", "b");', /is a task, not a pipeline/],
      ["export default Promise.resolve({});", /is a Promise; await it/],
      ["export default new Map();", /is a Map, not a pipeline builder/],
    ];
    await Promise.all(
      cases.map(async ([source, expected]) => {
        const { file } = await fixture({ "pipeline.ts": source });
        const error = await loadError(file);
        assertFailure(error, "PIPELINE_FILE_WRONG_EXPORT", file);
        assert.match(error.message, expected);
        assert.match(error.message, /export default pipeline\(/);
      }),
    );
  });

  it("kills a file that does not finish in time", async () => {
    const { file } = await fixture({ "pipeline.ts": 'console.log("thinking");\nwhile (true) {}\n' });
    const started = Date.now();
    const error = await loadError(file, 1500);
    const elapsed = Date.now() - started;
    assertFailure(error, "PIPELINE_FILE_TIMEOUT", file);
    assert.match(error.message, /the pipeline file did not finish within 1\.5 s/);
    // The limit counts from when the child starts importing the file, so the child's own start-up comes on top:
    // on a loaded machine, seconds. Far below the 30 s default either way.
    assert.ok(elapsed >= 1400 && elapsed < 10_000, `took ${elapsed} ms`);
    assert.equal(error.output, "thinking\n", "what the file printed before it hung is kept");
  });

  it("reports a file that exits the process itself", async () => {
    const { file } = await fixture({ "pipeline.mjs": 'console.error("giving up");\nprocess.exit(3);\n' });
    const error = await loadError(file);
    assertFailure(error, "PIPELINE_FILE_CRASHED", file);
    assert.match(error.message, /exit code 3/);
    assert.match(error.message, /giving up/);
    assert.match(error.message, /process\.exit\(\)/);
  });

  it("reports a top-level await that can never settle without waiting for the timeout", async () => {
    const { file } = await fixture({ "pipeline.mjs": "await new Promise(() => {});\nexport default 1;\n" });
    const started = Date.now();
    const error = await loadError(file, 20_000);
    assertFailure(error, "PIPELINE_FILE_CRASHED", file);
    assert.match(error.message, /awaits a promise that can never settle/);
    assert.ok(Date.now() - started < 10_000);
  });
});
