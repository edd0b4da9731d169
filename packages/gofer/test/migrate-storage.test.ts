/**
 * `gofer service migrate-storage` end to end: a real server on SQLite builds an installation (a run with a retried
 * task and its attempts' logs, a secret, an object, a token, events, an extension with a subscription), is
 * refused while it runs, is stopped and copied by the real CLI into a private PostgreSQL, and a server started on
 * PostgreSQL with the same data folder serves all of it back. A failed copy leaves the target empty; a second copy
 * into the filled target, a malformed URL and an unreachable server are refused with clear messages.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { pageEvents } from "../src/storage/events-store.ts";
import { getSystemState } from "../src/storage/system-store.ts";
import { parseJson, runGofer, scratchDir, showResult } from "./support/cli.ts";
import { freePort } from "./support/free-port.ts";
import { deployPipeline, pipelineConfig, shTask, startRun, waitForRun } from "./support/pipelines.ts";
import { PASSWORD, type PrivatePostgres, startPrivatePostgres } from "./support/private-postgres.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const P = "/api/namespaces/default/pipelines";
const FLAKY = 'echo "attempt $GOFER_TASK_ATTEMPT"; [ "$GOFER_TASK_ATTEMPT" = 3 ] || exit 3; echo "done"';

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

async function rowsIn(url: string, table: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query(`select count(*)::int as count from ${table}`);
    return result.rows[0].count;
  } finally {
    await client.end();
  }
}

describe("gofer service migrate-storage", { timeout: 300_000 }, () => {
  let postgres: PrivatePostgres;
  let server: TestServer;
  let targetUrl: string;
  const env = () => ({ GOFER_WEB_SERVER__DATA_DIR: server.dataDir });
  const migrate = (args: string[], timeoutMs = 60_000) =>
    runGofer(["service", "migrate-storage", ...args], { env: env(), timeoutMs });

  before(async () => {
    postgres = await startPrivatePostgres();
    targetUrl = await postgres.createDatabase("gofer_moved");
    server = await startTestServer({ GOFER_WEB_EXTENSIONS__HEALTH_CHECK_INTERVAL: "1" });
  });
  after(async () => {
    await server?.stop();
    await postgres?.stop();
  });

  it("copies a whole SQLite installation into PostgreSQL, and a server there serves all of it", async () => {
    // --- an installation on SQLite ---------------------------------------------------------------------------
    await deployPipeline(
      server,
      pipelineConfig("moved", [
        { ...shTask("flaky", FLAKY), retries: { limit: 3, delay: "100ms" } },
        shTask("after", "echo after", { depends_on: { flaky: "success" } }),
      ]),
    );
    const firstRun = await startRun(server, "moved");
    const before = await waitForRun(server, "moved", firstRun);
    assert.equal(before.run.status, "successful", JSON.stringify(before.run.status_reason));
    assert.equal(before.tasks.flaky.attempt, 3);

    const secret = await server.api("POST", `${P}/moved/secrets`, {
      key: "db_password",
      content: "pw-before-the-move",
      force: false,
    });
    assert.equal(secret.status, 201, secret.text);
    const object = await fetch(`${server.url}${P}/moved/objects/greeting`, {
      method: "POST",
      headers: {
        "gofer-api-version": "v0",
        authorization: `Bearer ${server.token}`,
        "content-type": "application/octet-stream",
      },
      body: "hello from sqlite",
    });
    assert.equal(object.status, 201, await object.text());
    const token = await server.api("POST", "/api/tokens", { user: "mover", roles: ["user"], expires: 0 });
    assert.equal(token.status, 201, token.text);
    const installed = await server.api("POST", "/api/extensions", {
      id: "interval",
      image: "gofer/extension-interval:latest",
      settings: { min_interval: "1s" },
    });
    assert.equal(installed.status, 201, installed.text);
    const subscribed = await server.api("POST", `${P}/moved/subscriptions`, {
      extension_id: "interval",
      subscription_id: "hourly",
      settings: { every: "1h" },
    });
    assert.equal(subscribed.status, 201, subscribed.text);
    const eventsBefore = await pageEvents(server.service.db, { limit: 10_000, reverse: false });
    assert.ok(eventsBefore.length > 5);
    const sqlitePath = join(server.dataDir, "gofer.db");

    // --- refused while the server has the file open ------------------------------------------------------
    const busy = await migrate(["--from", sqlitePath, "--to", targetUrl]);
    assert.equal(busy.code, 1, showResult(busy));
    assert.match(busy.stderr, /is in use by process \d+ \(a running Gofer server\?\)/);
    assert.match(busy.stderr, /stop the server/);
    assert.equal(await rowsIn(targetUrl, "information_schema.tables where table_name = 'runs'"), 0);

    // --- stopped, copied, started on PostgreSQL with the same data folder --------------------------------
    let report: Record<string, unknown> = {};
    await server.restart(
      async () => {
        const sourceHash = sha256(sqlitePath);

        // A copy that fails part way (PostgreSQL refuses a NUL in text) leaves nothing behind.
        const broken = join(scratchDir("gofer-migrate-"), "broken.db");
        copyFileSync(sqlitePath, broken);
        const sqlite = new DatabaseSync(broken);
        sqlite.exec(
          "update events set details_json = 'bad' || char(0) where id = (select max(id) from events)",
        );
        sqlite.close();
        const failed = await migrate(["--from", broken, "--to", targetUrl]);
        assert.equal(failed.code, 1, showResult(failed));
        assert.match(failed.stderr, /the copy into postgres:\/\/gofer:\*\*\*@.* failed and was rolled back/);
        assert.match(failed.stderr, /nothing was copied/);
        for (const table of ["namespaces", "runs", "task_attempts", "events", "tokens"]) {
          assert.equal(await rowsIn(targetUrl, table), 0, `${table} after the failed copy`);
        }

        const copied = await migrate(["--from", sqlitePath, "--to", targetUrl, "--output", "json"]);
        assert.equal(copied.code, 0, showResult(copied));
        report = parseJson(copied) as Record<string, unknown>;
        assert.ok(!copied.stdout.includes(PASSWORD) && !copied.stderr.includes(PASSWORD));
        assert.equal(sha256(sqlitePath), sourceHash, "the SQLite file was changed");
      },
      { GOFER_WEB_SERVER__DATABASE_URL: targetUrl },
    );

    const tables = report.tables as { table: string; sqlite: number; postgres: number }[];
    const count = (table: string) => tables.find((row) => row.table === table);
    for (const row of tables) assert.equal(row.postgres, row.sqlite, row.table);
    assert.equal(count("runs")?.postgres, 1);
    assert.equal(count("task_executions")?.postgres, 2);
    assert.equal(count("task_attempts")?.postgres, 2, "attempts 1 and 2; the third is the execution itself");
    assert.equal(count("events")?.postgres, eventsBefore.length);
    assert.equal(count("subscriptions")?.postgres, 1);
    assert.equal(count("objects")?.postgres, 1);
    assert.equal(report.instance_id, server.instanceId);
    assert.deepEqual(report.left_in_place, {
      task_logs: join(server.dataDir, "logs"),
      objects: join(server.dataDir, "objects"),
      secret_key: join(server.dataDir, "secret-store.key"),
    });

    // --- everything is there, served from PostgreSQL -----------------------------------------------------
    assert.equal((await getSystemState(server.service.db)).instance_id, server.instanceId);
    const after = await waitForRun(server, "moved", firstRun);
    assert.deepEqual(after.run, before.run);
    assert.deepEqual(after.tasks, before.tasks);
    const attempts = await server.api("GET", `${P}/moved/runs/${firstRun}/tasks/flaky/attempts`);
    assert.equal(attempts.status, 200, attempts.text);
    assert.deepEqual(
      attempts.json.attempts.map((a: { attempt: number; status: string }) => [a.attempt, a.status]),
      [
        [1, "failed"],
        [2, "failed"],
        [3, "successful"],
      ],
    );
    const attemptLog = await server.api("GET", `${P}/moved/runs/${firstRun}/tasks/flaky/attempts/1/logs`);
    assert.equal(attemptLog.text, "attempt 1\n");
    const lastLog = await server.api("GET", `${P}/moved/runs/${firstRun}/tasks/flaky/logs`);
    assert.equal(lastLog.text, "attempt 3\ndone\n");

    const shown = await server.api("GET", `${P}/moved/secrets/db_password?include_secret=true`);
    assert.equal(shown.status, 200, shown.text);
    assert.equal(shown.json.secret, "pw-before-the-move", "the secret opens with the same key file");
    const content = await fetch(`${server.url}${P}/moved/objects/greeting`, {
      headers: { "gofer-api-version": "v0", authorization: `Bearer ${server.token}` },
    });
    assert.equal(await content.text(), "hello from sqlite");
    const whoami = await server.api("GET", "/api/tokens/whoami", undefined, {
      authorization: `Bearer ${token.json.secret}`,
    });
    assert.equal(whoami.status, 200, whoami.text);
    assert.equal(whoami.json.token.user, "mover");
    const subscriptions = await server.api("GET", `${P}/moved/subscriptions`);
    assert.deepEqual(
      subscriptions.json.subscriptions.map((s: { subscription_id: string }) => s.subscription_id),
      ["hourly"],
    );

    const eventsAfter = await pageEvents(server.service.db, { limit: 10_000, reverse: false });
    assert.deepEqual(
      eventsAfter.slice(0, eventsBefore.length).map((event) => [event.id, event.emitted, event.kind]),
      eventsBefore.map((event) => [event.id, event.emitted, event.kind]),
    );
    const lastCopied = eventsBefore.at(-1)?.id ?? 0;
    assert.ok(
      eventsAfter.slice(eventsBefore.length).every((event) => event.id > lastCopied),
      "new events continue after the copied ids",
    );

    const nextRun = await startRun(server, "moved");
    assert.equal(nextRun, firstRun + 1);
    assert.equal((await waitForRun(server, "moved", nextRun)).run.status, "successful");

    // --- a second copy into the now filled target is refused ---------------------------------------------
    const whileServing = await migrate(["--from", sqlitePath, "--to", targetUrl]);
    assert.equal(whileServing.code, 1, showResult(whileServing));
    assert.match(whileServing.stderr, /already holds Gofer data/);
    await server.restart(
      async () => {
        const again = await migrate(["--from", sqlitePath, "--to", targetUrl]);
        assert.equal(again.code, 1, showResult(again));
        assert.match(again.stderr, /already holds Gofer data: namespaces \(1\), pipelines \(1\)/);
        assert.match(again.stderr, /copies into an empty database only/);
      },
      { GOFER_WEB_SERVER__DATABASE_URL: targetUrl },
    );
    assert.equal((await server.api("GET", `${P}/moved/runs/${nextRun}`)).json.run.run_id, nextRun);
  });

  it("refuses a malformed URL, an unreachable server and a missing source with what to do", async () => {
    const sqlitePath = join(server.dataDir, "gofer.db");
    const malformed = await migrate(["--from", sqlitePath, "--to", "mysql://gofer:hunter2@localhost/gofer"]);
    assert.equal(malformed.code, 2, showResult(malformed));
    assert.match(malformed.stderr, /expected postgres:\/\/ or postgresql:\/\//);
    assert.ok(!malformed.stderr.includes("hunter2"));

    const port = await freePort();
    const unreachable = await migrate([
      "--from",
      sqlitePath,
      "--to",
      `postgres://gofer:hunter2@127.0.0.1:${port}/gofer`,
      "--connect-timeout",
      "1",
    ]);
    assert.equal(unreachable.code, 1, showResult(unreachable));
    assert.match(
      unreachable.stderr,
      /cannot use the PostgreSQL database at postgres:\/\/gofer:\*\*\*@127\.0\.0\.1/,
    );
    assert.match(unreachable.stderr, /could not connect/);
    assert.match(unreachable.stderr, /PostgreSQL must be running and reachable/);
    assert.ok(!unreachable.stderr.includes("hunter2"));

    const missing = await migrate(["--from", join(server.dataDir, "nope.db"), "--to", targetUrl]);
    assert.equal(missing.code, 1, showResult(missing));
    assert.match(missing.stderr, /there is no SQLite database at .*nope\.db/);
  });
});
