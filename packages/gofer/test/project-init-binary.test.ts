/**
 * The single binary has no SDK on disk, yet `gofer extension init` and `gofer pipeline init` from it write the
 * same projects as from sources: scripts/build-binary.sh carries the SDK's sources as an asset. The pipeline
 * project registers with the binary's `gofer up` once npm has installed its vendored SDK.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { before, describe, it } from "node:test";
import { assertOk, type CliResult, type Gofer, parseJson, scratchDir, useCliServer } from "./support/cli.ts";
import type { TestServer } from "./support/test-server.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
const BINARY = join(ROOT, "dist", "gofer");
const PATH = `${join(ROOT, "node_modules", ".bin")}:${process.env.PATH}`;

/** Runs a command to its end, with its exit code and output whatever it is. */
function run(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<CliResult>((resolvePromise, reject) => {
    execFile(
      file,
      args,
      {
        cwd: options.cwd ?? ROOT,
        timeout: 120_000,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, PATH, NO_COLOR: "1", ...options.env },
      },
      (error, stdout, stderr) => {
        if (error !== null && (error.killed || typeof error.code !== "number")) {
          reject(new Error(`${file} ${args.join(" ")}: ${error.message}\n${stdout}\n${stderr}`));
        } else {
          resolvePromise({ code: error === null ? 0 : Number(error.code), stdout, stderr });
        }
      },
    );
  });
}

describe("project init from the single binary", () => {
  let server: TestServer;
  let gofer: Gofer;
  useCliServer((started, cli) => {
    server = started;
    gofer = cli;
  });
  const binary = (args: string[], cwd?: string) =>
    run(BINARY, args, {
      ...(cwd !== undefined && { cwd }),
      env: {
        HOME: scratchDir("gofer-binary-home-"),
        GOFER_API_BASE_URL: server.url,
        GOFER_TOKEN: server.token,
      },
    });

  before(async () => {
    assertOk(await run("bash", [join(ROOT, "scripts", "build-binary.sh")]));
  });

  for (const kind of ["extension", "pipeline"]) {
    it(`${kind} init writes the same files as from sources, the SDK's copy included`, async () => {
      const base = scratchDir("gofer-binary-init-");
      const fromBinary = join(base, "binary", "same-id");
      const fromSources = join(base, "sources", "same-id");
      const written = parseJson(assertOk(await binary([kind, "init", fromBinary, "--json"]))) as {
        files: string[];
      };
      const expected = parseJson(assertOk(await gofer([kind, "init", fromSources, "--json"]))) as {
        files: string[];
      };
      assert.deepEqual(written.files, expected.files);
      assert.ok(written.files.includes("vendor/gofer-sdk/src/index.ts"), written.files.join("\n"));
      for (const path of expected.files) {
        assert.equal(
          readFileSync(join(fromBinary, path), "utf8"),
          readFileSync(join(fromSources, path), "utf8"),
          `${path} differs`,
        );
      }
    });
  }

  it("the binary's `gofer up` registers the pipeline project once its SDK is installed", async () => {
    const dir = join(scratchDir("gofer-binary-init-"), "binary-pipeline");
    assertOk(await binary(["pipeline", "init", dir]));
    assertOk(await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], { cwd: dir }));
    assertOk(await binary(["up", "pipeline.ts"], dir));
    const registered = await server.api("GET", "/api/namespaces/default/pipelines/binary-pipeline");
    assert.equal(registered.status, 200, registered.text);
  });
});
