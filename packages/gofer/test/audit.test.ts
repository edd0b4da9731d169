/**
 * The audit trail against a real server: every operation of the served document is called once (the walk the
 * authorization matrix makes), and each call that may change something must leave exactly one row naming who,
 * what and how it ended, under the request id the answer carried; reads leave none, and no secret value, token
 * secret or object content reaches any row. A row that cannot be written undoes its change (one transaction),
 * failures and refusals are told apart, the filters of `GET /api/audit` and `gofer audit list` work, and old
 * rows go with the events.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { AuditRecord } from "@gofer/sdk/client";
import { sql } from "kysely";
import WebSocket from "ws";
import { isAudited } from "../src/api/audit-trail.ts";
import { accessFor } from "../src/auth/route-access.ts";
import { assertOk, goferAgainst, parseJson, runGofer } from "./support/cli.ts";
import {
  type Answer,
  OBJECT_TEXT,
  type Operation,
  type OperationWalk,
  prepareOperationWalk,
  REPLACED_SECRET_CONTENT,
  SECRET_CONTENT,
} from "./support/operation-walk.ts";
import { deployPipeline, pipelineConfig, shTask, startRun, waitForTask } from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";
import { socketUrl } from "./support/websocket.ts";

const AUDITOR = "auditor";

/** Polls (bounded) until `check` returns true. */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** `GET /api/audit` with the server's admin token; fails the test on any other answer than 200. */
async function auditRows(
  server: TestServer,
  query: Record<string, string | number> = {},
): Promise<AuditRecord[]> {
  const search = new URLSearchParams(
    Object.entries(query).map(([name, value]): [string, string] => [name, String(value)]),
  );
  const listed = await server.api("GET", `/api/audit?${search}`);
  assert.equal(listed.status, 200, listed.text);
  return listed.json.audit;
}

/** Every row, newest first, read page by page. */
async function everyRow(
  server: TestServer,
  query: Record<string, string | number> = {},
): Promise<AuditRecord[]> {
  const rows: AuditRecord[] = [];
  for (;;) {
    const last = rows.at(-1);
    const page = await auditRows(server, { ...query, limit: 1000, ...(last && { before: last.id }) });
    rows.push(...page);
    if (page.length < 1000) return rows;
  }
}

/** The route pattern Fastify reports for a path of the OpenAPI document. */
const routeOf = (operation: Operation) => operation.path.replace(/\{(\w+)\}/g, ":$1");
/** The path below `/api/`, without the query. */
const targetOf = (path: string) => (path.split("?", 1)[0] ?? "").replace(/^\/api\//, "");

describe("audit trail of the API's changes", () => {
  let walk: OperationWalk;
  let server: TestServer;
  let auditor: { id: string; secret: string };
  let reader: { id: string; secret: string };
  /** Every token secret the tests saw: none may appear in the trail. */
  const tokenSecrets: string[] = [];
  const calls: { operation: Operation; path: string; answer: Answer; audited: boolean }[] = [];

  before(async () => {
    walk = await prepareOperationWalk();
    server = walk.server;
    auditor = await walk.createToken(["admin"], { user: AUDITOR });
    reader = await walk.createToken(["default-only"], { user: "reader" });
    tokenSecrets.push(server.token, auditor.secret, reader.secret);
  });

  after(async () => {
    await walk.stop();
  });

  it("writes exactly one row for each call that may change something, naming who, what and how it ended", async () => {
    for (const operation of walk.operations) {
      const audited = isAudited(operation.method, operation.operationId);
      const overrides = audited ? await walk.throwaway(operation.operationId) : undefined;
      const path = walk.fillPath(operation, overrides);
      const answer = await walk.call(
        operation.method,
        path,
        walk.bodyFor(operation.operationId),
        auditor.secret,
      );
      if (typeof answer.json?.secret === "string") tokenSecrets.push(answer.json.secret);
      calls.push({ operation, path, answer, audited });
      const where = `${operation.method} ${path} (${operation.operationId}): ${answer.status} ${answer.message ?? ""}`;
      assert.ok(answer.requestId, `${where}: no x-request-id`);
      // The row is committed before the answer leaves: no waiting here.
      const rows = (await auditRows(server, { limit: 20 })).filter(
        (row) => row.request_id === answer.requestId,
      );
      if (!audited) {
        assert.deepEqual(rows, [], `${where}: a read left a row`);
        continue;
      }
      assert.equal(rows.length, 1, `${where}: ${rows.length} rows`);
      const [row] = rows as [AuditRecord];
      const failed = answer.status >= 400;
      // A public route never looks at the token: its caller is anonymous.
      const anonymous = accessFor(operation.operationId).kind === "public";
      assert.deepEqual(
        {
          token_id: row.token_id,
          user: row.user,
          method: row.method,
          operation: row.operation,
          route: row.route,
          target: row.target,
          outcome: row.outcome,
          status: row.status,
          error_code: row.error_code,
          client_address: row.client_address,
          forwarded_for: row.forwarded_for,
          forwarded_by: row.forwarded_by,
        },
        {
          token_id: anonymous ? null : auditor.id,
          user: anonymous ? "anonymous" : AUDITOR,
          method: operation.method,
          operation: operation.operationId,
          route: routeOf(operation),
          target: targetOf(path),
          outcome: failed ? "failed" : "succeeded",
          status: answer.status,
          error_code: failed ? (answer.code ?? null) : null,
          client_address: "127.0.0.1",
          forwarded_for: null,
          forwarded_by: null,
        },
        where,
      );
    }

    const audited = calls.filter((call) => call.audited);
    assert.ok(audited.length >= 40, `only ${audited.length} changes walked`);
    const succeeded = audited.filter((call) => call.answer.status < 400).length;
    assert.ok(succeeded >= 35, `only ${succeeded} of ${audited.length} changes succeeded`);
    // Nothing else the auditor did left a row, and no call left two.
    const rows = await everyRow(server, { user: AUDITOR });
    assert.deepEqual(
      rows.map((row) => row.request_id).sort(),
      audited
        .filter((call) => accessFor(call.operation.operationId).kind !== "public")
        .map((call) => call.answer.requestId)
        .sort(),
    );
  });

  it("keeps secret contents, token secrets and object bytes out of every row", async () => {
    assert.ok(calls.length > 0, "runs after the walk");
    const trail = JSON.stringify(await everyRow(server));
    assert.ok(
      trail.includes("put_pipeline_secret") && trail.includes("create_token"),
      "the walk's rows are there",
    );
    for (const secret of [SECRET_CONTENT, REPLACED_SECRET_CONTENT, OBJECT_TEXT, ...tokenSecrets]) {
      assert.ok(!trail.includes(secret), `the trail holds ${secret}`);
    }
    assert.ok(tokenSecrets.length >= 4, "create_token's secret was collected");
  });

  it("records failed changes with their status and error code, and nothing for refused calls", async () => {
    const missing = await walk.call("DELETE", "/api/namespaces/ghost", undefined, auditor.secret);
    assert.equal(missing.status, 404);
    const invalid = await walk.call("POST", "/api/namespaces", { nonsense: true }, auditor.secret);
    assert.equal(invalid.status, 400);
    // A write that found nothing to change committed with its row; the row then tells the failure that followed.
    const noToken = await walk.call("PATCH", "/api/tokens/ghost", { disabled: true }, auditor.secret);
    assert.equal(noToken.status, 404);
    const anonymous = await walk.call("POST", "/api/namespaces", {
      id: "nobody",
      name: "n",
      description: "",
    });
    assert.equal(anonymous.status, 401);
    const forbidden = await walk.call(
      "POST",
      "/api/namespaces",
      { id: "not-yours", name: "n", description: "" },
      reader.secret,
    );
    assert.equal(forbidden.status, 403);

    const rows = await auditRows(server, { limit: 50 });
    const rowOf = (answer: Answer) => rows.filter((row) => row.request_id === answer.requestId);
    assert.deepEqual(
      rowOf(missing).map((row) => [row.operation, row.target, row.outcome, row.status, row.error_code]),
      [["delete_namespace", "namespaces/ghost", "failed", 404, "NOT_FOUND"]],
    );
    assert.deepEqual(
      rowOf(invalid).map((row) => [row.operation, row.target, row.outcome, row.status, row.error_code]),
      [["create_namespace", "namespaces", "failed", 400, "BAD_REQUEST"]],
    );
    assert.deepEqual(
      rowOf(noToken).map((row) => [row.operation, row.target, row.outcome, row.status, row.error_code]),
      [["update_token", "tokens/ghost", "failed", 404, "NOT_FOUND"]],
    );
    assert.deepEqual(rowOf(anonymous), [], "a call without a token changed nothing and names no one");
    assert.deepEqual(rowOf(forbidden), [], "a refused call changed nothing");
  });

  it("keeps X-Forwarded-For as claimed, and believes no replica's forwarding on a single server", async () => {
    const headers = { "x-forwarded-for": "203.0.113.7, 198.51.100.2", "gofer-forwarded-by": "not-a-replica" };
    const created = await server.api(
      "POST",
      "/api/namespaces",
      { id: "forwarded", name: "f", description: "" },
      headers,
    );
    assert.equal(created.status, 201, created.text);
    const [row] = (await auditRows(server, { limit: 10 })).filter(
      (item) => item.request_id === created.headers.get("x-request-id"),
    );
    assert.deepEqual(
      [row?.client_address, row?.forwarded_for, row?.forwarded_by],
      ["127.0.0.1", "203.0.113.7, 198.51.100.2", null],
    );
  });

  it("writes the row in the change's transaction: a change whose row cannot be written is undone", async () => {
    const db = server.service.db;
    await sql`create trigger refuse_audit before insert on audit
      when new.outcome = 'succeeded' and new.user = ${sql.lit(AUDITOR)}
      begin select raise(abort, 'audit refused'); end`.execute(db);
    try {
      // A service transaction (the namespace and its event) and a single statement (the token's insert).
      const namespace = await walk.call(
        "POST",
        "/api/namespaces",
        { id: "unaudited", name: "u", description: "" },
        auditor.secret,
      );
      assert.equal(namespace.status, 500, namespace.message);
      const token = await walk.call(
        "POST",
        "/api/tokens",
        { user: "unaudited-user", roles: [], expires: 0 },
        auditor.secret,
      );
      assert.equal(token.status, 500, token.message);

      assert.equal((await server.api("GET", "/api/namespaces/unaudited")).status, 404);
      const tokens = (await server.api("GET", "/api/tokens")).json.tokens as { user: string }[];
      assert.ok(!tokens.some((item) => item.user === "unaudited-user"), "the token was kept without its row");
      const rows = await auditRows(server, { user: AUDITOR, limit: 10 });
      for (const answer of [namespace, token]) {
        const row = rows.find((item) => item.request_id === answer.requestId);
        assert.deepEqual([row?.outcome, row?.status, row?.error_code], ["failed", 500, "INTERNAL"]);
      }
    } finally {
      await sql`drop trigger refuse_audit`.execute(db);
    }
  });

  it("filters by user, target and time, pages by id, and answers admins only", async () => {
    const everything = await everyRow(server);
    assert.ok(everything.length > 50);
    assert.ok(
      everything.every((row, index) => index === 0 || row.id < (everything[index - 1] as AuditRecord).id),
      "newest first",
    );

    const bootstrap = await auditRows(server, { user: "bootstrap", limit: 1000 });
    assert.ok(bootstrap.length > 0 && bootstrap.every((row) => row.user === "bootstrap"));
    const anonymous = await auditRows(server, { user: "anonymous" });
    assert.deepEqual(
      anonymous.map((row) => [row.operation, row.status, row.token_id]),
      [
        ["create_bootstrap_token", 409, null],
        ["create_bootstrap_token", 201, null],
      ],
      "the bootstrap calls: the walk's, then the test server's own",
    );

    const pipeline = "namespaces/default/pipelines/matrix";
    const below = await auditRows(server, { target: pipeline, limit: 1000 });
    assert.ok(below.some((row) => row.operation === "start_run"));
    assert.ok(below.some((row) => row.operation === "put_pipeline_secret"));
    assert.ok(below.every((row) => row.target === pipeline || row.target.startsWith(`${pipeline}/`)));
    assert.deepEqual(
      below.map((row) => row.id),
      everything
        .filter((row) => row.target === pipeline || row.target.startsWith(`${pipeline}/`))
        .map((row) => row.id),
    );
    assert.deepEqual(await auditRows(server, { target: "namespaces/default/pipelines/matri" }), []);
    assert.deepEqual(
      (await auditRows(server, { target: "namespaces/ghost/" })).map((row) => row.operation),
      ["delete_namespace"],
    );

    const middle = everything[Math.floor(everything.length / 2)] as AuditRecord;
    const since = await everyRow(server, { since: middle.time });
    const until = await everyRow(server, { until: middle.time });
    assert.ok(since.every((row) => row.time >= middle.time) && since.some((row) => row.id === middle.id));
    assert.ok(until.every((row) => row.time < middle.time));
    assert.equal(since.length + until.length, everything.length);
    const window = await everyRow(server, { since: middle.time, until: middle.time + 1 });
    assert.ok(window.every((row) => row.time === middle.time) && window.some((row) => row.id === middle.id));

    const first = await auditRows(server, { limit: 5 });
    const second = await auditRows(server, { limit: 5, before: (first.at(-1) as AuditRecord).id });
    assert.deepEqual(
      [...first, ...second].map((row) => row.id),
      everything.slice(0, 10).map((row) => row.id),
    );

    const refused = await walk.call("GET", "/api/audit", undefined, reader.secret);
    assert.deepEqual([refused.status, refused.code], [403, "FORBIDDEN"]);
    const unknownFilter = await server.api("GET", "/api/audit?usr=auditor");
    assert.equal(unknownFilter.status, 400, unknownFilter.text);
    assert.equal((await everyRow(server)).length, everything.length, "reading the trail wrote nothing");
  });

  it("`gofer audit list` prints a table, or JSON, with the filters as options", async () => {
    const gofer = goferAgainst(server);
    const table = assertOk(await gofer(["audit", "list", "--user", AUDITOR, "--limit", "3"]));
    const [header, ...lines] = table.stdout.trimEnd().split("\n");
    assert.match(header ?? "", /^ID\s+TIME\s+USER\s+OPERATION\s+TARGET\s+OUTCOME\s+CLIENT$/);
    assert.equal(lines.length, 3, table.stdout);
    assert.ok(
      lines.every((line) => line.includes(AUDITOR)),
      table.stdout,
    );
    assert.match(table.stderr, /--before \d+/, "a full page says how to get the next");

    const json = assertOk(
      await gofer(["audit", "list", "--output", "json", "--target", "namespaces/ghost", "--since", "1h"]),
    );
    const rows = parseJson(json) as AuditRecord[];
    assert.deepEqual(
      rows.map((row) => [row.operation, row.outcome, row.status, row.user]),
      [["delete_namespace", "failed", 404, AUDITOR]],
    );
    const future = assertOk(
      await gofer(["audit", "list", "--json", "--since", new Date(Date.now() + 3_600_000).toISOString()]),
    );
    assert.deepEqual(parseJson(future), []);

    const badTime = await gofer(["audit", "list", "--since", "yesterday-ish"]);
    assert.notEqual(badTime.code, 0);
    assert.match(badTime.stderr, /expected epoch milliseconds, an ISO time/);
    const notAdmin = await runGofer(["audit", "list"], {
      env: { GOFER_API_BASE_URL: server.url, GOFER_TOKEN: reader.secret },
    });
    assert.notEqual(notAdmin.code, 0);
    assert.match(notAdmin.stderr, /admin/);
  });

  it("records a terminal attached to a running task when the socket opens", async () => {
    await deployPipeline(
      server,
      pipelineConfig("attached", [shTask("sleeper", "trap 'exit 0' TERM; while true; do sleep 0.1; done")]),
    );
    const runId = await startRun(server, "attached");
    try {
      await waitForTask(server, "attached", runId, "sleeper", (task) => task.state === "running");
      const path = `/api/namespaces/default/pipelines/attached/runs/${runId}/tasks/sleeper/attach?command=true`;
      await new Promise<void>((resolve, reject) => {
        const socket = new WebSocket(socketUrl(server, path), {
          headers: { "gofer-api-version": "v0", authorization: `Bearer ${auditor.secret}` },
        });
        socket.on("open", () => socket.close());
        socket.on("close", () => resolve());
        socket.on("error", reject);
        socket.on("unexpected-response", (_request, response) =>
          reject(new Error(`attach refused with HTTP ${response.statusCode}`)),
        );
      });
      const target = `namespaces/default/pipelines/attached/runs/${runId}/tasks/sleeper/attach`;
      let rows: AuditRecord[] = [];
      await eventually("the attach has its row", async () => {
        rows = await auditRows(server, { target });
        return rows.length > 0;
      });
      const [row] = rows;
      assert.equal(rows.length, 1);
      assert.deepEqual(
        [row?.operation, row?.method, row?.outcome, row?.status, row?.target],
        ["attach_task_execution", "GET", "succeeded", 101, target],
      );
    } finally {
      await server.api("DELETE", `/api/namespaces/default/pipelines/attached/runs/${runId}`);
      await waitForTask(server, "attached", runId, "sleeper", (task) => task.state === "complete");
    }
  });
});

describe("audit retention", () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({
      GOFER_WEB_API__EVENT_LOG_RETENTION: "2s",
      GOFER_WEB_API__EVENT_PRUNE_INTERVAL: "250ms",
    });
  });
  after(async () => {
    await server.stop();
  });

  it("deletes rows older than api.event_log_retention, with the events", async () => {
    const created = await server.api("POST", "/api/namespaces", { id: "aging", name: "a", description: "" });
    assert.equal(created.status, 201, created.text);
    const requestId = created.headers.get("x-request-id");
    const rowIds = async () => (await auditRows(server)).map((row) => row.request_id);
    assert.ok((await rowIds()).includes(requestId as string));
    await eventually("the row ages out", async () => !(await rowIds()).includes(requestId as string), 15_000);
    const fresh = await server.api("PATCH", "/api/namespaces/aging", { name: "b" });
    assert.equal(fresh.status, 200, fresh.text);
    assert.ok((await rowIds()).includes(fresh.headers.get("x-request-id") as string), "a new row is kept");
  });
});
