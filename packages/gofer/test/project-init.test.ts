/**
 * `gofer extension init` and `gofer pipeline init` write a project into a folder: what they write, that they
 * never write over someone's work unless forced, and that they refuse the ids the server refuses. The end-to-end
 * proof that the projects work (installed, built, run on the engine) is project-init-end-to-end.test.ts.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { markdownCodeBlocks } from "../../sdk/test/support/markdown-code-blocks.ts";
import { extensionImage } from "../src/cli/project-init/extension-project.ts";
import { TOOLCHAIN_VERSIONS } from "../src/cli/project-init/toolchain-versions.ts";
import {
  assertExit,
  assertOk,
  type CliResult,
  parseJson,
  runGofer,
  scratchDir,
  showResult,
} from "./support/cli.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
const SDK_ROOT = join(ROOT, "packages", "sdk");
const BIN = join(ROOT, "node_modules", ".bin");

/** The `sh` lines under a README heading, comments cut off. */
function readmeCommands(heading: string): string[] {
  return markdownCodeBlocks(join(ROOT, "README.md"))
    .filter((block) => block.heading === heading && block.language === "sh")
    .flatMap((block) => block.text.split("\n"))
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => line !== "");
}

interface InitResult {
  kind: string;
  id: string;
  directory: string;
  files: string[];
  sdk: { version: string; directory: string };
  next: string[];
  image?: string;
}

const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8"));

function initJson(result: CliResult): InitResult {
  assertOk(result);
  return parseJson(result) as InitResult;
}

/** A usage error: exit 2, nothing on stdout, and `message` on stderr. */
function assertRefused(result: CliResult, message: RegExp): void {
  assertExit(result, 2);
  assert.equal(result.stdout, "", showResult(result));
  assert.match(result.stderr, message, showResult(result));
}

describe("gofer extension init", () => {
  it("writes the extension, its build and a copy of the SDK, and --output json lists every file", async () => {
    const dir = join(scratchDir("gofer-init-"), "hello");
    const result = initJson(await runGofer(["extension", "init", dir, "--output", "json"]));
    assert.equal(result.kind, "extension");
    assert.equal(result.id, "hello");
    assert.equal(result.directory, dir);
    assert.equal(result.image, "gofer-extension-hello:0.1.0");
    assert.deepEqual(result.next, [
      "npm install --prefer-offline",
      "npm run image",
      "gofer extension install hello gofer-extension-hello:0.1.0",
    ]);
    for (const path of result.files) assert.ok(existsSync(join(dir, path)), `${path} is listed but missing`);
    for (const path of [
      "package.json",
      "tsconfig.json",
      "src/main.ts",
      "Dockerfile",
      "scripts/build-image.mjs",
    ]) {
      assert.ok(result.files.includes(path), `${path} is not written`);
    }

    const manifest = readJson(join(dir, "package.json"));
    assert.equal(manifest.dependencies["@gofer/sdk"], "file:vendor/gofer-sdk");
    assert.equal(manifest.devDependencies.esbuild, TOOLCHAIN_VERSIONS.esbuild);
    assert.equal(manifest.scripts.image, "node scripts/build-image.mjs");
    assert.match(readFileSync(join(dir, "src", "main.ts"), "utf8"), /from "@gofer\/sdk\/extension"/);
    const dockerfile = readFileSync(join(dir, "Dockerfile"), "utf8");
    assert.match(dockerfile, /^ARG BASE_IMAGE=gofer\/node-base:latest$/m);
    assert.match(dockerfile, /^ENTRYPOINT \["node", "\/extension\/main\.mjs"\]$/m);
    assert.match(
      readFileSync(join(dir, "scripts", "build-image.mjs"), "utf8"),
      /const EXTENSION_ID = "hello";/,
    );
  });

  it("copies the SDK's sources as they are, without its tests or devDependencies", async () => {
    const dir = join(scratchDir("gofer-init-"), "copied");
    const result = initJson(await runGofer(["extension", "init", dir, "--json"]));
    const sdkManifest = readJson(join(SDK_ROOT, "package.json"));
    assert.equal(result.sdk.version, sdkManifest.version);
    const vendored = join(dir, "vendor", "gofer-sdk");
    const copied = readJson(join(vendored, "package.json"));
    assert.deepEqual(copied.exports, sdkManifest.exports);
    assert.equal(copied.name, "@gofer/sdk");
    assert.equal(copied.devDependencies, undefined);
    const sources = readdirSync(join(SDK_ROOT, "src"), { recursive: true, encoding: "utf8" }).filter((path) =>
      path.endsWith(".ts"),
    );
    assert.ok(sources.length > 20, `only ${sources.length} SDK sources found`);
    for (const path of sources) {
      assert.equal(
        readFileSync(join(vendored, "src", path), "utf8"),
        readFileSync(join(SDK_ROOT, "src", path), "utf8"),
        `vendor/gofer-sdk/src/${path} differs from the SDK's`,
      );
    }
    assert.equal(existsSync(join(vendored, "test")), false, "the SDK's tests are copied");
  });

  it("pins the build tools this repository installs, so the npm cache serves them", () => {
    const workspace = readJson(join(ROOT, "package.json"));
    for (const [name, version] of Object.entries(TOOLCHAIN_VERSIONS)) {
      assert.equal(version, workspace.devDependencies[name], `${name} differs from the root package.json`);
    }
  });
});

describe("what init writes is held to this repository's standards", () => {
  it("the generated code passes the project's Biome lint and format check", async () => {
    const base = scratchDir("gofer-init-");
    assertOk(await runGofer(["extension", "init", join(base, "linted-ext")]));
    assertOk(await runGofer(["pipeline", "init", join(base, "linted-pipe")]));
    const files = [
      join(base, "linted-ext", "src", "main.ts"),
      join(base, "linted-ext", "scripts", "build-image.mjs"),
      join(base, "linted-pipe", "pipeline.ts"),
    ];
    const checked = spawnSync(join(BIN, "biome"), ["check", "--colors=off", ...files], {
      cwd: ROOT,
      encoding: "utf8",
    });
    assert.equal(checked.status, 0, checked.stdout + checked.stderr);
    assert.match(checked.stdout + checked.stderr, /Checked 3 files/);
  });

  it("`npm run image` before `npm install` says to install, with no stack trace", async () => {
    const dir = join(scratchDir("gofer-init-"), "uninstalled");
    assertOk(await runGofer(["extension", "init", dir]));
    const built = spawnSync(join(BIN, "node"), ["scripts/build-image.mjs"], { cwd: dir, encoding: "utf8" });
    assert.equal(built.status, 1, built.stderr);
    assert.match(
      built.stderr,
      /^npm run image: esbuild is not installed here: run `npm install --prefer-offline` first$/m,
    );
    assert.doesNotMatch(built.stderr, /\n\s+at /, "a stack trace was printed");
  });

  it("README's init walk-throughs run the commands init prints, in its order", async () => {
    const base = scratchDir("gofer-init-");
    for (const [heading, kind, id] of [
      ["Your first pipeline", "pipeline", "hello-world"],
      ["Writing an extension", "extension", "hello"],
    ] as const) {
      const written = initJson(await runGofer([kind, "init", join(base, id), "--json"]));
      const shown = readmeCommands(heading);
      const start = shown.indexOf(`gofer ${kind} init ${id}`);
      assert.ok(
        start >= 0,
        `README's "${heading}" does not run \`gofer ${kind} init ${id}\`:\n${shown.join("\n")}`,
      );
      assert.deepEqual(shown.slice(start + 1, start + 2 + written.next.length), [
        `cd ${id}`,
        ...written.next,
      ]);
    }
  });
});

describe("gofer pipeline init", () => {
  it("writes pipeline.ts with the folder's name as its id, and says what to run next", async () => {
    const dir = join(scratchDir("gofer-init-"), "nightly-build");
    const result = assertOk(await runGofer(["pipeline", "init", dir]));
    assert.match(result.stdout, /Wrote the pipeline nightly-build to /);
    assert.match(result.stdout, /^ {2}gofer up pipeline\.ts$/m);
    assert.match(result.stdout, /^ {2}gofer run start nightly-build --watch$/m);
    const source = readFileSync(join(dir, "pipeline.ts"), "utf8");
    assert.match(source, /^import \{ pipeline, task \} from "@gofer\/sdk";$/m);
    assert.match(source, /pipeline\("nightly-build", "Nightly build"\)/);
    assert.equal(readJson(join(dir, "package.json")).devDependencies["@gofer/sdk"], "file:vendor/gofer-sdk");
  });

  it("takes the id from --id when the folder's name is not one", async () => {
    const dir = join(scratchDir("gofer-init-"), "my_pipeline");
    const result = initJson(await runGofer(["pipeline", "init", dir, "--id", "my-pipeline", "--json"]));
    assert.equal(result.id, "my-pipeline");
    assert.match(readFileSync(join(dir, "pipeline.ts"), "utf8"), /pipeline\("my-pipeline", "My pipeline"\)/);
  });
});

describe("init refuses to write over work", () => {
  for (const kind of ["extension", "pipeline"]) {
    it(`${kind} init refuses a folder that is not empty, and --force writes only the template's files`, async () => {
      const dir = join(scratchDir("gofer-init-"), "taken");
      initJson(await runGofer([kind, "init", dir, "--json"]));
      const main = kind === "extension" ? join(dir, "src", "main.ts") : join(dir, "pipeline.ts");
      writeFileSync(main, "// my own work\n");
      writeFileSync(join(dir, "NOTES.md"), "mine\n");

      assertRefused(await runGofer([kind, "init", dir]), new RegExp(`${dir} is not empty.*\\n.*--force`));
      assert.equal(readFileSync(main, "utf8"), "// my own work\n", "a refused init changed a file");

      initJson(await runGofer([kind, "init", dir, "--force", "--json"]));
      assert.notEqual(readFileSync(main, "utf8"), "// my own work\n", "--force did not write the template");
      assert.equal(
        readFileSync(join(dir, "NOTES.md"), "utf8"),
        "mine\n",
        "--force removed a file of its own",
      );
    });
  }

  it("refuses a path that is a file, or runs through one", async () => {
    const file = join(scratchDir("gofer-init-"), "a-file");
    writeFileSync(file, "x");
    assertRefused(await runGofer(["extension", "init", file]), /a-file is a file\n/);
    assertRefused(
      await runGofer(["pipeline", "init", join(file, "below")]),
      /below has a file in its path\n/,
    );
  });
});

describe("init checks the id as the server does", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.stop();
  });

  // An image that is not there: a name the server accepts fails later, at the start, and installs nothing.
  const MISSING_IMAGE = "gofer-init-test/no-such-image:0";
  // Whether each is an identifier, so the comparison cannot pass by both sides accepting everything.
  const NAMES: [name: string, valid: boolean][] = [
    ["ok", false],
    ["abc", true],
    ["a".repeat(32), true],
    ["a".repeat(33), false],
    ["my_ext", false],
    ["My-Ext-2", true],
    ["dot.ted", false],
    ["-lead", true],
  ];

  for (const [name, valid] of NAMES) {
    it(`"${name}": init and the server agree`, async () => {
      const install = await server.api("POST", "/api/extensions", {
        id: name,
        image: MISSING_IMAGE,
        settings: {},
      });
      assert.notEqual(install.status, 201, install.text);
      const serverRefuses = install.status === 400 && install.json?.error_code === "INVALID_IDENTIFIER";
      assert.equal(serverRefuses, !valid, install.text);

      const dir = join(scratchDir("gofer-init-"), "project");
      const result = await runGofer(["extension", "init", dir, `--id=${name}`]);
      if (serverRefuses) {
        assertRefused(
          result,
          new RegExp(`invalid extension id "${name.replace(/[.]/g, "\\.")}": 3–32 characters`),
        );
        assert.equal(existsSync(dir), false, "a refused init wrote something");
      } else {
        assertOk(result);
      }
      // A folder's name is checked the same way when no --id is given.
      const named = join(scratchDir("gofer-init-"), name);
      const fromFolder = await runGofer(["pipeline", "init", named]);
      if (serverRefuses) assertRefused(fromFolder, /the folder's name; choose another with --id/);
      else assertOk(fromFolder);
    });
  }
});

describe("the image an extension project builds", () => {
  it("is a name Docker accepts for every id Gofer accepts", () => {
    // Docker's reference grammar: lower-case parts joined by one separator, never ending in one.
    const dockerName = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*:[\w][\w.-]{0,127}$/;
    for (const id of ["hello", "Build-Bot", "build-", "a_b", "x--y", "ends_"]) {
      assert.match(extensionImage(id), dockerName, `the image of ${JSON.stringify(id)}`);
    }
  });
});
