/**
 * README.md's recipe for an extension's image works here, with no registry: its `hello.ts` (under "A complete
 * extension") bundled with its own esbuild command (under "Running it locally"), and its Dockerfile (under
 * "Building an image") built verbatim, make an image that installs into a real server and becomes healthy.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { type CodeBlock, markdownCodeBlocks } from "../../sdk/test/support/markdown-code-blocks.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
const README = join(ROOT, "README.md");
const PATH = `${join(ROOT, "node_modules", ".bin")}:${process.env.PATH}`;
const SUFFIX = randomBytes(3).toString("hex");

function run(file: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      file,
      args,
      { cwd, timeout: 180_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, PATH } },
      (error, stdout, stderr) => {
        if (error === null) resolvePromise(stdout);
        else reject(new Error(`${file} ${args.join(" ")}: ${error.message}\n${stdout}\n${stderr}`));
      },
    );
  });
}

/** The one block of `language` under `heading`, failing with README's line numbers when there is not one. */
function blockUnder(blocks: CodeBlock[], heading: string, language: string): CodeBlock {
  const found = blocks.filter((block) => block.heading === heading && block.language === language);
  assert.equal(
    found.length,
    1,
    `README.md should have one ${language} block under "${heading}", has ${found.length}` +
      found.map((block) => ` (line ${block.line})`).join(""),
  );
  return found[0] as CodeBlock;
}

describe("README: building an extension's image", () => {
  const blocks = markdownCodeBlocks(README);
  let server: TestServer;
  let dir = "";
  const image = `gofer-readme-hello:${SUFFIX}`;
  const id = `readme-hello-${SUFFIX}`;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "gofer-readme-extension-"));
    server = await startTestServer();
  });
  after(async () => {
    await server?.api("DELETE", `/api/extensions/${id}`);
    await server?.stop();
    await run("docker", ["image", "rm", "--force", image], ROOT).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it("builds the Dockerfile as shown, offline, and the image installs as a healthy extension", async () => {
    const source = blockUnder(blocks, "A complete extension", "ts");
    const dockerfile = blockUnder(blocks, "Building an image", "dockerfile");
    const esbuildLine = blocks
      .filter((block) => block.heading === "Running it locally" && block.language === "sh")
      .flatMap((block) => block.text.split("\n"))
      .find((line) => line.startsWith("npx esbuild "));
    assert.ok(esbuildLine !== undefined, 'no `npx esbuild` line under "Running it locally"');

    await writeFile(join(dir, "hello.ts"), source.text);
    await writeFile(join(dir, "Dockerfile"), dockerfile.text);
    // Where an author would have installed the SDK; here, this repository's.
    await mkdir(join(dir, "node_modules", "@gofer"), { recursive: true });
    await symlink(join(ROOT, "packages", "sdk"), join(dir, "node_modules", "@gofer", "sdk"));
    const [, , ...esbuildArgs] = esbuildLine.trim().split(/\s+/);
    await run("esbuild", esbuildArgs, dir);
    await run("docker", ["build", "--quiet", "-t", image, "."], dir);

    const installed = await server.api("POST", "/api/extensions", {
      id,
      image,
      settings: { greeting: "hey" },
    });
    assert.equal(installed.status, 201, installed.text);
    assert.equal(installed.json.extension.state, "running", installed.text);
    assert.equal(
      installed.json.extension.documentation.body,
      "Starts a run of every subscribed pipeline when an external event arrives.",
    );
  });
});
