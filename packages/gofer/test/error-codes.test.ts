/**
 * The error-code registry (`src/domain/errors.ts`) is the contract of every failure: each code is used by the
 * server, has exactly one HTTP status and a doc, and is published in the OpenAPI document; and every answer the
 * error mapper gives, for every kind of failure it handles, carries a code whose registered status is the status
 * answered. No Docker engine is needed: the server runs on an in-memory database and a loopback port.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { errorCodes } from "fastify";
import type { GoferApp } from "../src/api/api-context.ts";
import { CODE_FOR_STATUS, toErrorEnvelope } from "../src/api/error-envelope.ts";
import { loadConfig } from "../src/config/index.ts";
import { ERROR_CODES, type ErrorCode, GoferError } from "../src/domain/errors.ts";
import { DockerScheduler } from "../src/scheduler/docker/docker-scheduler.ts";
import { assemble } from "../src/service/assemble.ts";
import { generateOpenApiDocument } from "../src/service/openapi-document.ts";
import { type GoferDb, openDatabase } from "../src/storage/database.ts";

const SOURCES = new URL("../src/", import.meta.url);
const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

/** Every TypeScript source of the server, as text. */
function sources(): { file: string; text: string }[] {
  return readdirSync(SOURCES, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts"))
    .map((file) => ({ file, text: readFileSync(new URL(file, SOURCES), "utf8") }));
}

/** A response that must be the v0 envelope, answered with the status registered for its code. */
function assertConsistent(
  label: string,
  answer: { status: number; body: { request_id?: unknown; message?: unknown; error_code?: unknown } },
): ErrorCode {
  const code = answer.body.error_code as ErrorCode;
  assert.ok(CODES.includes(code), `${label}: error_code ${String(code)} is not in the registry`);
  assert.equal(
    answer.status,
    ERROR_CODES[code].status,
    `${label}: answered ${answer.status} with ${code}, which is registered as ${ERROR_CODES[code].status}`,
  );
  assert.equal(typeof answer.body.request_id, "string", label);
  assert.equal(typeof answer.body.message, "string", label);
  assert.notEqual(answer.body.message, "", label);
  return code;
}

describe("error-code registry", () => {
  it("gives every code exactly one HTTP error status and a doc", () => {
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      assert.match(code, /^[A-Z][A-Z_]*[A-Z]$/, code);
      assert.deepEqual(Object.keys(entry).sort(), ["doc", "status"], `${code} has one status and one doc`);
      assert.ok(Number.isInteger(entry.status), `${code}: status must be one number`);
      assert.ok(
        entry.status >= 400 && entry.status <= 599,
        `${code}: ${entry.status} is not an error status`,
      );
      assert.ok(entry.doc.trim().length >= 20, `${code}: the doc must say what the code means`);
    }
  });

  it("has no code that the server never uses", () => {
    const files = sources();
    // A code is used where it appears as a string literal; registry keys are bare, so they do not count.
    const unused = CODES.filter(
      (code) => !files.some(({ text }) => new RegExp(`["'\`]${code}["'\`]`).test(text)),
    );
    assert.deepEqual(unused, [], `unused error codes; remove them from src/domain/errors.ts: ${unused}`);
  });

  it("maps each status the mapper falls back on to a code registered with that status", () => {
    for (const [status, code] of Object.entries(CODE_FOR_STATUS)) {
      assert.ok(code, status);
      assert.equal(ERROR_CODES[code].status, Number(status), `${status} → ${code}`);
    }
  });

  it("is published in the OpenAPI document: the error_code enum and each code's status and doc", async () => {
    const document = (await generateOpenApiDocument()) as {
      components: { schemas: Record<string, { properties: Record<string, Record<string, unknown>> }> };
    };
    const errorCode = document.components.schemas.Error?.properties.error_code;
    assert.ok(errorCode, "the Error schema has an error_code property");
    assert.equal(errorCode.type, "string");
    assert.deepEqual(errorCode.enum, CODES);
    const description = String(errorCode.description);
    for (const [code, { status, doc }] of Object.entries(ERROR_CODES)) {
      assert.ok(description.includes(`\`${code}\` (${status}): ${doc}`), `${code} is documented`);
    }
  });
});

describe("error mapper", () => {
  it("answers every GoferError with its code's registered status", () => {
    for (const code of CODES) {
      const answer = toErrorEnvelope(new GoferError(code, `a ${code} failure`), "r");
      assert.equal(assertConsistent(code, answer), code);
      assert.equal(answer.body.message, `a ${code} failure`);
      assert.equal(
        answer.internal,
        code === "INTERNAL",
        `${code}: only INTERNAL is logged as the server's failure`,
      );
    }
  });

  it("answers every Fastify error with a code that agrees with the status", () => {
    for (const [name, FastifyError] of Object.entries(errorCodes)) {
      const error = new (FastifyError as unknown as new (...args: string[]) => Error)("a", "b", "c");
      assertConsistent(name, toErrorEnvelope(error, "r"));
    }
    const validation = Object.assign(new errorCodes.FST_ERR_VALIDATION("body must have property 'id'"), {
      validation: [{ message: "must have property 'id'" }],
    });
    assert.equal(assertConsistent("validation", toErrorEnvelope(validation, "r")), "BAD_REQUEST");
    const tooLarge = toErrorEnvelope(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), "r");
    assert.equal(assertConsistent("body too large", tooLarge), "BODY_TOO_LARGE");
    const media = toErrorEnvelope(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE("text/plain"), "r");
    assert.equal(assertConsistent("media type", media), "UNSUPPORTED_MEDIA_TYPE");
    const json = toErrorEnvelope(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), "r");
    assert.equal(assertConsistent("bad JSON", json), "BAD_REQUEST");
  });

  it("never answers a client-error status with a code registered for another status", () => {
    for (let status = 400; status < 500; status += 1) {
      for (const message of ["refused", ""]) {
        const error = Object.assign(new Error(message), { statusCode: status });
        const answer = toErrorEnvelope(error, "r");
        const code = assertConsistent(`statusCode ${status}`, answer);
        if (CODE_FOR_STATUS[status]) assert.equal(code, CODE_FOR_STATUS[status], `statusCode ${status}`);
        assert.equal(answer.internal, false);
      }
    }
  });

  it("answers anything unexpected with a logged 500 INTERNAL that hides the details", () => {
    const unexpected: unknown[] = [
      new Error("database file is locked"),
      new TypeError("x is undefined"),
      new SyntaxError("Unexpected token in stored JSON"),
      Object.assign(new Error("upstream"), { statusCode: 502 }),
      "a thrown string",
      undefined,
      null,
    ];
    for (const error of unexpected) {
      const answer = toErrorEnvelope(error, "r");
      assert.equal(assertConsistent(String(error), answer), "INTERNAL");
      assert.equal(answer.body.message, "Internal Server Error");
      assert.equal(answer.internal, true);
    }
  });
});

describe("error answers of a running server", () => {
  let app: GoferApp;
  let db: GoferDb;
  let dataDir: string;
  let url: string;
  let token: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "gofer-error-codes-"));
    const config = loadConfig({
      env: {
        GOFER_WEB_SERVER__DATA_DIR: dataDir,
        GOFER_WEB_API__LOG_LEVEL: "silent",
        GOFER_WEB_API__REQUEST_BODY_LIMIT: "4096",
      },
      systemConfigPath: join(dataDir, "absent.toml"),
    });
    db = await openDatabase(":memory:");
    ({ app } = await assemble(config, db, {
      scheduler: new DockerScheduler({ networkMode: "none" }),
      instanceId: "error-codes",
      apiBaseUrl: () => "",
    }));
    // Outside /api, so they need neither an operationId nor a token: failures no real route can be made to have.
    app.get("/error-probe/unexpected", async () => {
      throw new Error("a bug");
    });
    app.get("/error-probe/teapot", async () => {
      throw Object.assign(new Error("short and stout"), { statusCode: 418 });
    });
    app.get("/error-probe/conflict", async () => {
      throw Object.assign(new Error("a plugin's conflict"), { statusCode: 409 });
    });
    url = await app.listen({ host: "127.0.0.1", port: 0 });
    const bootstrap = await fetch(`${url}/api/tokens/bootstrap`, {
      method: "POST",
      headers: { "gofer-api-version": "v0" },
    });
    token = ((await bootstrap.json()) as { secret: string }).secret;
  });
  after(async () => {
    await app?.close();
    await db?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Sends a request and checks the answer is a consistent envelope; returns its code. */
  async function answer(
    path: string,
    init: { method?: string; body?: string; headers?: Record<string, string>; anonymous?: boolean } = {},
  ): Promise<{ status: number; code: ErrorCode }> {
    const response = await fetch(`${url}${path}`, {
      method: init.method ?? "GET",
      headers: {
        "gofer-api-version": "v0",
        ...(init.anonymous ? {} : { authorization: `Bearer ${token}` }),
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
        ...init.headers,
      },
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    const text = await response.text();
    const label = `${init.method ?? "GET"} ${path}`;
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/, `${label}: ${text}`);
    const body = JSON.parse(text);
    const code = assertConsistent(label, { status: response.status, body });
    assert.equal(response.headers.get("x-request-id"), body.request_id, label);
    return { status: response.status, code };
  }

  it("answers a schema validation failure with 400 BAD_REQUEST", async () => {
    const body = JSON.stringify({ id: 42, name: "n", description: "d" });
    assert.deepEqual(await answer("/api/namespaces", { method: "POST", body }), {
      status: 400,
      code: "BAD_REQUEST",
    });
    assert.deepEqual(await answer("/api/events/abc"), { status: 400, code: "BAD_REQUEST" });
  });

  it("answers a body that is not JSON with 400 BAD_REQUEST", async () => {
    assert.deepEqual(await answer("/api/namespaces", { method: "POST", body: "{not json" }), {
      status: 400,
      code: "BAD_REQUEST",
    });
  });

  it("answers a body over the limit with 413 BODY_TOO_LARGE", async () => {
    const body = JSON.stringify({ id: "big", name: "x".repeat(8192), description: "" });
    assert.deepEqual(await answer("/api/namespaces", { method: "POST", body }), {
      status: 413,
      code: "BODY_TOO_LARGE",
    });
  });

  it("answers a body of another media type with 415 UNSUPPORTED_MEDIA_TYPE", async () => {
    const headers = { "content-type": "text/plain" };
    assert.deepEqual(await answer("/api/namespaces", { method: "POST", body: "id=team", headers }), {
      status: 415,
      code: "UNSUPPORTED_MEDIA_TYPE",
    });
  });

  it("answers an unknown route, and a known path with a method it lacks, with 404 NOT_FOUND", async () => {
    assert.deepEqual(await answer("/api/no-such-route"), { status: 404, code: "NOT_FOUND" });
    assert.deepEqual(await answer("/api/namespaces", { method: "PUT", body: "{}" }), {
      status: 404,
      code: "NOT_FOUND",
    });
  });

  it("answers a URL that does not decode with 400 BAD_REQUEST", async () => {
    assert.deepEqual(await answer("/api/namespaces/%zz"), { status: 400, code: "BAD_REQUEST" });
  });

  it("answers a GoferError with its own code and status", async () => {
    assert.deepEqual(await answer("/api/namespaces", { headers: { "gofer-api-version": "v1" } }), {
      status: 400,
      code: "MISSING_API_VERSION",
    });
    assert.deepEqual(await answer("/api/namespaces", { anonymous: true }), {
      status: 401,
      code: "UNAUTHENTICATED",
    });
    assert.deepEqual(await answer("/api/namespaces/nope"), { status: 404, code: "NOT_FOUND" });
    assert.deepEqual(await answer("/api/tokens/bootstrap", { method: "POST", anonymous: true }), {
      status: 409,
      code: "ALREADY_EXISTS",
    });
  });

  it("answers another client error with the code registered for its status, or 400", async () => {
    assert.deepEqual(await answer("/error-probe/conflict"), { status: 409, code: "CONFLICT" });
    assert.deepEqual(await answer("/error-probe/teapot"), { status: 400, code: "BAD_REQUEST" });
  });

  it("answers an unexpected failure with 500 INTERNAL", async () => {
    assert.deepEqual(await answer("/error-probe/unexpected"), { status: 500, code: "INTERNAL" });
  });
});
