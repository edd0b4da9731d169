import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runGofer } from "./support/cli.ts";
import { freePort } from "./support/free-port.ts";
import { deployPipeline, pipelineConfig, shTask, startRun, waitForRun } from "./support/pipelines.ts";
import { type ApiResponse, startTestServer, type TestServer } from "./support/test-server.ts";
import { collectSocket } from "./support/websocket.ts";

const WAIT_MS = 30_000;
const PIPELINE_SECRET = "pipe-S3cret-value-7731";
const GLOBAL_SECRET = "glob4l-Secret-value-9902";

const expectStatus = (response: ApiResponse, status: number, code?: string) => {
  assert.equal(response.status, status, response.text);
  if (code) assert.equal(response.json.error_code, code, response.text);
};

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

describe("secrets on a real server", () => {
  let server: TestServer;
  const secretsPath = (pipeline: string) => `/api/namespaces/default/pipelines/${pipeline}/secrets`;

  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  it("puts, gets, lists and deletes pipeline secrets, with 409, 400 and 404 where due", async () => {
    await deployPipeline(server, pipelineConfig("crud", [shTask("t", "true")]));
    const put = await server.api("POST", secretsPath("crud"), {
      key: "db_password",
      content: "pw-1",
      force: false,
    });
    expectStatus(put, 201);
    assert.deepEqual(Object.keys(put.json.secret).sort(), ["created", "key", "namespaces"]);
    assert.equal(put.json.secret.key, "db_password");

    expectStatus(
      await server.api("POST", secretsPath("crud"), { key: "db_password", content: "pw-2", force: false }),
      409,
      "ALREADY_EXISTS",
    );
    expectStatus(
      await server.api("POST", secretsPath("crud"), { key: "db_password", content: "pw-2", force: true }),
      201,
    );

    const bad = await server.api("POST", secretsPath("crud"), {
      key: "bad key!",
      content: "x",
      force: false,
    });
    expectStatus(bad, 400, "INVALID_SECRET_KEY");
    assert.match(bad.json.message, /letters, digits, `_` and `-`/);
    expectStatus(
      await server.api("POST", secretsPath("nope"), { key: "k", content: "x", force: false }),
      404,
    );

    const list = await server.api("GET", secretsPath("crud"));
    expectStatus(list, 200);
    assert.deepEqual(
      list.json.secrets.map((s: { key: string }) => s.key),
      ["db_password"],
    );
    assert.equal(list.text.includes("pw-2"), false);

    const hidden = await server.api("GET", `${secretsPath("crud")}/db_password?include_secret=false`);
    expectStatus(hidden, 200);
    assert.equal(hidden.json.secret, null);
    const shown = await server.api("GET", `${secretsPath("crud")}/db_password?include_secret=true`);
    assert.equal(shown.json.secret, "pw-2");
    assert.equal(shown.json.metadata.key, "db_password");

    // A token that may read secrets but not write them sees that the secret exists, never its value.
    expectStatus(
      await server.api("POST", "/api/roles", {
        id: "secret-reader",
        description: "reads secret metadata",
        permissions: [{ resources: ["namespaces:default", "pipelines:.*", "secrets"], actions: ["read"] }],
      }),
      201,
    );
    const token = await server.api("POST", "/api/tokens", {
      user: "reader",
      roles: ["secret-reader"],
      expires: 0,
    });
    expectStatus(token, 201);
    const reader = { authorization: `Bearer ${token.json.secret}` };
    const asReader = await server.api(
      "GET",
      `${secretsPath("crud")}/db_password?include_secret=true`,
      undefined,
      reader,
    );
    expectStatus(asReader, 200);
    assert.equal(asReader.json.secret, null);
    expectStatus(
      await server.api("POST", secretsPath("crud"), { key: "x", content: "x", force: true }, reader),
      403,
    );
    expectStatus(await server.api("GET", "/api/secrets/global", undefined, reader), 403);

    expectStatus(await server.api("DELETE", `${secretsPath("crud")}/db_password`), 204);
    expectStatus(await server.api("DELETE", `${secretsPath("crud")}/db_password`), 404);
    expectStatus(await server.api("GET", `${secretsPath("crud")}/db_password?include_secret=false`), 404);
  });

  it("puts, gets, lists and deletes global secrets; refuses bad regexes and duplicates", async () => {
    const put = await server.api("POST", "/api/secrets/global", {
      key: "shared",
      content: "g-1",
      namespaces: ["def.*"],
      force: false,
    });
    expectStatus(put, 201);
    assert.deepEqual(put.json.secret.namespaces, ["def.*"]);
    expectStatus(
      await server.api("POST", "/api/secrets/global", {
        key: "shared",
        content: "g",
        namespaces: [".*"],
        force: false,
      }),
      409,
    );
    const badRegex = await server.api("POST", "/api/secrets/global", {
      key: "other",
      content: "g",
      namespaces: ["(unclosed"],
      force: false,
    });
    expectStatus(badRegex, 400, "BAD_REQUEST");
    assert.match(badRegex.json.message, /\(unclosed/);
    expectStatus(
      await server.api("POST", "/api/secrets/global", {
        key: "-x",
        content: "g",
        namespaces: [".*"],
        force: false,
      }),
      400,
      "INVALID_SECRET_KEY",
    );
    const list = await server.api("GET", "/api/secrets/global");
    assert.deepEqual(
      list.json.secrets.map((s: { key: string }) => s.key),
      ["shared"],
    );
    assert.equal(list.text.includes("g-1"), false);
    assert.equal(
      (await server.api("GET", "/api/secrets/global/shared?include_secret=false")).json.secret,
      null,
    );
    assert.equal(
      (await server.api("GET", "/api/secrets/global/shared?include_secret=true")).json.secret,
      "g-1",
    );
    expectStatus(await server.api("DELETE", "/api/secrets/global/shared"), 204);
    expectStatus(await server.api("GET", "/api/secrets/global/shared?include_secret=true"), 404);
  });

  it("hands secrets to a task and masks them in the stored log and the stream, plain, base64 and split", async () => {
    const config = pipelineConfig("printer", [
      shTask(
        "print",
        [
          'echo "plain $PS and $GS"',
          'printf %s "$PS" | base64',
          'printf "user:%s" "$GS" | base64',
          'printf "split %s" "$(printf %s "$PS" | cut -c1-9)"',
          "sleep 1",
          'printf "%s end\\n" "$(printf %s "$PS" | cut -c10-)"',
        ].join("; "),
        { variables: { PS: "pipeline_secret{{ps}}", GS: "global_secret{{gs}}" } },
      ),
    ]);
    await deployPipeline(server, config);
    expectStatus(
      await server.api("POST", secretsPath("printer"), { key: "ps", content: PIPELINE_SECRET, force: false }),
      201,
    );
    expectStatus(
      await server.api("POST", "/api/secrets/global", {
        key: "gs",
        content: GLOBAL_SECRET,
        namespaces: ["default"],
        force: false,
      }),
      201,
    );
    const runId = await startRun(server, "printer");
    const logsPath = `/api/namespaces/default/pipelines/printer/runs/${runId}/tasks/print/logs`;
    const streamed = collectSocket(server, logsPath, WAIT_MS);
    const { tasks } = await waitForRun(server, "printer", runId, WAIT_MS);
    assert.equal(tasks.print.status, "successful", JSON.stringify(tasks.print));
    // The stored variables keep the references, never the values.
    assert.equal(JSON.stringify(tasks.print).includes(PIPELINE_SECRET), false);

    const plain = await server.api("GET", logsPath);
    expectStatus(plain, 200);
    const socket = await streamed;
    for (const text of [plain.text, socket.frames.join("\n")]) {
      for (const secret of [PIPELINE_SECRET, GLOBAL_SECRET]) {
        assert.equal(text.includes(secret), false, text);
        assert.equal(text.includes(Buffer.from(secret).toString("base64").slice(0, 12)), false, text);
      }
      assert.match(text, /plain \[masked\] and \[masked\]/);
      assert.match(text, /split \[masked\] end/);
    }
    const lines = plain.text.split("\n");
    assert.equal(lines[1], "[masked]");
    assert.match(lines[2] ?? "", /\[masked\]/);

    // Nothing the server wrote (database, WAL, logs) holds a secret in clear.
    const needles = [PIPELINE_SECRET, GLOBAL_SECRET, "pw-2", "g-1"].map((s) => Buffer.from(s));
    const files = await filesUnder(server.dataDir);
    assert.ok(
      files.some((file) => file.endsWith(".db")),
      files.join("\n"),
    );
    for (const file of files) {
      const bytes = await readFile(file);
      for (const needle of needles)
        assert.equal(bytes.includes(needle), false, `${file} holds a secret in clear`);
    }
  });

  it("masks every line of a long secret's base64 that `base64` wrapped at 76 characters", async () => {
    const secret = `long-${"Zx8-Qw3_Lp7".repeat(13)}-end`;
    await deployPipeline(
      server,
      pipelineConfig("wrapper", [
        shTask("print", 'echo "$S" | base64; echo done', { variables: { S: "pipeline_secret{{long}}" } }),
      ]),
    );
    expectStatus(
      await server.api("POST", secretsPath("wrapper"), { key: "long", content: secret, force: false }),
      201,
    );
    const runId = await startRun(server, "wrapper");
    const { tasks } = await waitForRun(server, "wrapper", runId, WAIT_MS);
    assert.equal(tasks.print.status, "successful", JSON.stringify(tasks.print));

    const log = await server.api(
      "GET",
      `/api/namespaces/default/pipelines/wrapper/runs/${runId}/tasks/print/logs`,
    );
    expectStatus(log, 200);
    const encoded =
      Buffer.from(`${secret}\n`)
        .toString("base64")
        .match(/.{1,76}/g) ?? [];
    assert.ok(encoded.length >= 3, "the encoding must wrap");
    const stored = log.text.split("\n");
    for (const line of encoded) assert.equal(log.text.includes(line), false, log.text);
    assert.deepEqual(
      stored.slice(0, encoded.length).filter((line) => !line.includes("[masked]")),
      [],
      log.text,
    );
    assert.ok(stored.includes("done"), log.text);
  });

  it("fails a task whose secret is missing or not allowed in its namespace, before it starts", async () => {
    await deployPipeline(
      server,
      pipelineConfig("missing", [
        shTask("t", "echo never", { variables: { X: "pipeline_secret{{absent_key}}" } }),
      ]),
    );
    const runId = await startRun(server, "missing");
    const { tasks } = await waitForRun(server, "missing", runId, WAIT_MS);
    assert.equal(tasks.t.status, "failed");
    assert.equal(tasks.t.status_reason.reason, "failed_precondition");
    assert.match(tasks.t.status_reason.description, /absent_key/);

    // Unanchored, "efaul" would match "default"; anchored it does not.
    expectStatus(
      await server.api("POST", "/api/secrets/global", {
        key: "partial",
        content: "zz-partial",
        namespaces: ["efaul"],
        force: false,
      }),
      201,
    );
    await deployPipeline(
      server,
      pipelineConfig("denied", [shTask("t", "echo never", { variables: { X: "global_secret{{partial}}" } })]),
    );
    const denied = await waitForRun(server, "denied", await startRun(server, "denied"), WAIT_MS);
    assert.equal(denied.tasks.t.status_reason.reason, "failed_precondition");
    assert.match(denied.tasks.t.status_reason.description, /partial.*not allowed in namespace "default"/);
  });
});

describe("the secret store key", () => {
  const keyA = "A".repeat(16) + "b".repeat(16);
  const keyB = "0123456789abcdef0123456789ABCDEF";
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "gofer-secret-key-"));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const settings = (key: string | undefined) => ({
    GOFER_WEB_SERVER__DATA_DIR: dataDir,
    ...(key !== undefined && { GOFER_WEB_SECRET_STORE__SQLITE__ENCRYPTION_KEY: key }),
  });
  // Rotation refuses while a server answers at its configured address: give it one nothing listens on, so a
  // Gofer that happens to run on the default port (the quickstart's) does not fail the test.
  const rotate = async (args: string[], key: string | undefined) =>
    runGofer(["service", "rotate-secret-key", ...args], {
      env: {
        ...settings(key),
        GOFER_WEB_API__LOG_LEVEL: "silent",
        GOFER_WEB_SERVER__BIND_ADDRESS: `127.0.0.1:${await freePort()}`,
      },
    });

  it("refuses a wrong key at start, and serves the same values after rotate-secret-key", async () => {
    const first = await startTestServer(settings(keyA));
    let admin = "";
    try {
      const token = await first.api("POST", "/api/tokens", { user: "ops", roles: ["admin"], expires: 0 });
      admin = token.json.secret;
      expectStatus(
        await first.api("POST", "/api/secrets/global", {
          key: "kept",
          content: "kept-value-1",
          namespaces: [".*"],
          force: false,
        }),
        201,
      );
    } finally {
      await first.stop();
    }

    await assert.rejects(startTestServer(settings(keyB)), (error: Error) => {
      assert.match(error.message, /not the key this database's secrets are encrypted with/);
      assert.equal(error.message.includes(keyA) || error.message.includes(keyB), false);
      return true;
    });

    const rotated = await rotate(["--new-key", keyB], keyA);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /Re-encrypted 0 pipeline and 1 global secret\(s\)/);
    assert.match(rotated.stdout, /set secret_store\.sqlite\.encryption_key/);
    assert.equal(rotated.stdout.includes(keyB), false);

    await assert.rejects(startTestServer(settings(keyA)), /not the key/);
    const second = await startTestServer(settings(keyB));
    try {
      const got = await second.api("GET", "/api/secrets/global/kept?include_secret=true", undefined, {
        authorization: `Bearer ${admin}`,
      });
      expectStatus(got, 200);
      assert.equal(got.json.secret, "kept-value-1");
    } finally {
      await second.stop();
    }
  });

  it("creates an owner-only key file, refuses a corrupt one, and replaces it on rotation", async () => {
    await rm(dataDir, { recursive: true, force: true });
    const keyFile = join(dataDir, "secret-store.key");
    const first = await startTestServer(settings(undefined));
    let admin = "";
    try {
      const token = await first.api("POST", "/api/tokens", { user: "ops", roles: ["admin"], expires: 0 });
      admin = token.json.secret;
      expectStatus(
        await first.api("POST", "/api/secrets/global", {
          key: "filed",
          content: "filed-value-2",
          namespaces: [".*"],
          force: false,
        }),
        201,
      );
    } finally {
      await first.stop();
    }
    const info = await stat(keyFile);
    assert.equal(info.mode & 0o777, 0o600);
    assert.equal(info.size, 32);
    const original = await readFile(keyFile);

    await writeFile(keyFile, original.subarray(0, 20));
    await assert.rejects(startTestServer(settings(undefined)), /key file .* is corrupt: it holds 20 bytes/);
    await writeFile(keyFile, original);

    const newKeyFile = join(dataDir, "new.key");
    await writeFile(newKeyFile, Buffer.from(keyB), { mode: 0o600 });
    const rotated = await rotate(["--new-key-file", newKeyFile], undefined);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /now holds the new key/);
    assert.deepEqual(await readFile(keyFile), Buffer.from(keyB));
    assert.equal((await stat(keyFile)).mode & 0o777, 0o600);

    const second = await startTestServer(settings(undefined));
    try {
      const got = await second.api("GET", "/api/secrets/global/filed?include_secret=true", undefined, {
        authorization: `Bearer ${admin}`,
      });
      assert.equal(got.json.secret, "filed-value-2");
    } finally {
      await second.stop();
    }
  });
});
