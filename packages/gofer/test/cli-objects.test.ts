/** `gofer pipeline object …` and `gofer run object …` against a real server, with binary contents. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { goferAgainst, goferBytesAgainst, parseJson } from "./support/cli.ts";
import { deployPipeline, pipelineConfig, shTask, startRun, waitForRun } from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

/** 1 MB of random bytes with NULs sprinkled through, so any text handling on the way would show. */
function binaryContent(): Buffer {
  const bytes = randomBytes(1024 * 1024);
  for (let index = 0; index < bytes.length; index += 1000) bytes[index] = 0;
  return bytes;
}

describe("gofer object commands", () => {
  let server: TestServer;
  let gofer: ReturnType<typeof goferAgainst>;
  let home: string;
  let runId: number;
  let goferBytes: ReturnType<typeof goferBytesAgainst>;
  /** Runs the CLI in this file's home with `input` on stdin, keeping stdout as bytes. */
  const goferRaw = (args: string[], input?: Buffer) => goferBytes(args, { input, env: { HOME: home } });

  before(async () => {
    server = await startTestServer();
    gofer = goferAgainst(server);
    goferBytes = goferBytesAgainst(server);
    home = await mkdtemp(join(tmpdir(), "gofer-cli-objects-"));
    await deployPipeline(server, pipelineConfig("app", [shTask("t", "true")]));
    runId = await startRun(server, "app");
    await waitForRun(server, "app", runId);
  });
  after(async () => {
    await server.stop();
    await rm(home, { recursive: true, force: true });
  });

  it("puts pipeline objects from a file and stdin, lists them, and gets them back byte for byte", async () => {
    const content = binaryContent();
    const file = join(home, "blob.bin");
    await writeFile(file, content);

    const put = await gofer(["pipeline", "object", "put", "app", "blob.bin", file]);
    assert.equal(put.code, 0, put.stderr);
    assert.match(put.stdout, /Stored object blob\.bin for pipeline app/);

    const piped = await goferRaw(
      ["pipeline", "object", "put", "app", "notes.txt", "-", "--json"],
      Buffer.from("from stdin\n"),
    );
    assert.equal(piped.code, 0, piped.stderr);
    const stored = JSON.parse(piped.stdout.toString()) as { key: string; created: number };
    assert.equal(stored.key, "notes.txt");
    assert.ok(stored.created > 0);

    const table = await gofer(["pipeline", "object", "list", "app"]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^KEY\s+CREATED$/m);
    assert.match(table.stdout, /^blob\.bin\s+\S/m);
    assert.match(table.stdout, /^notes\.txt\s+\S/m);
    const listed = parseJson(await gofer(["pipeline", "object", "list", "app", "--json"])) as {
      key: string;
      created: number;
    }[];
    assert.deepEqual(
      listed.map((item) => item.key),
      ["blob.bin", "notes.txt"],
    );

    // Raw bytes on stdout even with --json: the content is the output.
    const got = await goferRaw(["pipeline", "object", "get", "app", "blob.bin", "--json"]);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout.length, content.length);
    assert.ok(got.stdout.equals(content), "stdout differs from the uploaded bytes");
    const text = await goferRaw(["pipeline", "object", "get", "app", "notes.txt"]);
    assert.equal(text.stdout.toString(), "from stdin\n");
  });

  it("gets to a file through a temporary name, leaving nothing behind on failure", async () => {
    const target = join(home, "downloads", "copy.bin");
    await rm(join(home, "downloads"), { recursive: true, force: true });
    await mkdir(join(home, "downloads"));

    const saved = await gofer(["pipeline", "object", "get", "app", "blob.bin", "-f", target]);
    assert.equal(saved.code, 0, saved.stderr);
    assert.match(saved.stdout, /Saved blob\.bin to .*copy\.bin \(1\.0 MiB\)/);
    assert.ok((await readFile(target)).equals(await readFile(join(home, "blob.bin"))));

    const missing = await gofer([
      "pipeline",
      "object",
      "get",
      "app",
      "nope",
      "--output-file",
      join(home, "downloads", "nope"),
    ]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Object "nope" not found.*HTTP 404/);
    assert.deepEqual(await readdir(join(home, "downloads")), ["copy.bin"]);
  });

  it("refuses to replace an existing key without --force, with the server's message", async () => {
    const file = join(home, "other.bin");
    await writeFile(file, randomBytes(200_000));
    const refused = await gofer(["pipeline", "object", "put", "app", "blob.bin", file]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /Object "blob\.bin" already exists; set force=true to overwrite it \(HTTP 409/,
    );

    const missingFile = await gofer(["pipeline", "object", "put", "app", "x", join(home, "no-such-file")]);
    assert.equal(missingFile.code, 1);
    assert.match(missingFile.stderr, /cannot read .*no-such-file: ENOENT/);

    const forced = await gofer(["pipeline", "object", "put", "app", "blob.bin", file, "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    const got = await goferRaw(["pipeline", "object", "get", "app", "blob.bin"]);
    assert.ok(got.stdout.equals(await readFile(file)));

    const deleted = await gofer(["pipeline", "object", "delete", "app", "blob.bin"]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, /Deleted object blob\.bin of pipeline app/);
    const gone = await gofer(["pipeline", "object", "get", "app", "blob.bin"]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /HTTP 404/);
  });

  it("manages a run's objects the same way", async () => {
    const run = String(runId);
    const put = await goferRaw(
      ["run", "object", "put", "app", run, "result.bin", "-"],
      Buffer.from([0, 1, 2, 255, 0]),
    );
    assert.equal(put.code, 0, put.stderr);
    assert.match(put.stdout.toString(), new RegExp(`Stored object result\\.bin for run ${runId} of app`));

    const listed = parseJson(await gofer(["run", "object", "list", "app", run, "--json"])) as {
      key: string;
    }[];
    assert.deepEqual(
      listed.map((item) => item.key),
      ["result.bin"],
    );
    const got = await goferRaw(["run", "object", "get", "app", run, "result.bin"]);
    assert.deepEqual([...got.stdout], [0, 1, 2, 255, 0]);

    const badRun = await gofer(["run", "object", "list", "app", "zero"]);
    assert.equal(badRun.code, 2);
    assert.match(badRun.stderr, /expected a whole number/);

    assert.equal((await gofer(["run", "object", "delete", "app", run, "result.bin"])).code, 0);
    const empty = await gofer(["run", "object", "list", "app", run]);
    assert.match(empty.stdout, /\(none\)/);
  });
});
