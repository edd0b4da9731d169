/**
 * The kit against the extension interface as Gofer's v0 documents it (kept in `packages/sdk/reference/`): every
 * documented operation answers, with a valid request, a success status the document declares for it, and each
 * request without the secret is refused (except the health check, which the interface leaves open).
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { defineExtension, type RunningExtension, runExtension } from "../src/extension/index.ts";
import { call, SECRET } from "./support/extension-client.ts";

const REFERENCE = new URL("../reference/gofer-extension.openapi.json", import.meta.url);

interface Operation {
  operationId: string;
  responses: Record<string, unknown>;
}

/** A valid body for each operation that takes one. */
const BODIES: Record<string, unknown> = {
  subscribe: {
    namespace_id: "default",
    pipeline_id: "contract",
    pipeline_subscription_id: "sub",
    pipeline_subscription_params: { every: "1m" },
  },
  unsubscribe: { namespace_id: "default", pipeline_id: "contract", pipeline_subscription_id: "sub" },
  external_event: { headers: { "x-test": "1" }, body: [104, 105] },
};

describe("the extension kit serves the v0 extension interface", () => {
  let extension: RunningExtension;
  let operations: Array<{ method: string; path: string; operation: Operation }>;

  before(async () => {
    const document = JSON.parse(await readFile(REFERENCE, "utf8")) as {
      paths: Record<string, Record<string, Operation>>;
    };
    operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({
        method: method.toUpperCase(),
        path,
        operation,
      })),
    );
    extension = await runExtension(
      defineExtension({
        documentation: {
          body: "Contract test",
          subscriptionParams: [{ key: "every", required: true, documentation: "How often" }],
        },
        subscribe: () => undefined,
        unsubscribe: () => undefined,
        externalEvent: () => undefined,
        debug: () => "fine",
      }),
      {
        env: {
          GOFER_EXTENSION_SYSTEM_ID: "contract",
          GOFER_EXTENSION_SYSTEM_SECRET: SECRET,
          GOFER_EXTENSION_SYSTEM_GOFER_URL: "http://127.0.0.1:9",
          GOFER_EXTENSION_SYSTEM_BIND_ADDRESS: "127.0.0.1:0",
          GOFER_EXTENSION_SYSTEM_LOG_LEVEL: "error",
        },
        exitOnShutdown: false,
      },
    );
  });
  after(() => extension.close());

  it("documents the seven operations Gofer calls", () => {
    assert.deepEqual(operations.map(({ operation }) => operation.operationId).sort(), [
      "debug",
      "external_event",
      "health",
      "info",
      "shutdown",
      "subscribe",
      "unsubscribe",
    ]);
  });

  it("refuses every operation but the health check without the shared secret", async () => {
    for (const { method, path, operation } of operations) {
      const answer = await call(extension.url, method, path, {
        authorization: "Bearer not-the-secret",
        body: BODIES[operation.operationId],
      });
      const expected = operation.operationId === "health" ? 204 : 401;
      assert.equal(answer.status, expected, `${method} ${path}: ${answer.text}`);
    }
  });

  it("answers each operation with a success status the document declares", async () => {
    // Shutdown last: it closes the extension.
    const ordered = [...operations].sort(
      (a, b) =>
        Number(a.operation.operationId === "shutdown") - Number(b.operation.operationId === "shutdown"),
    );
    for (const { method, path, operation } of ordered) {
      const answer = await call(extension.url, method, path, { body: BODIES[operation.operationId] });
      const declared = Object.keys(operation.responses).filter((status) => /^2\d\d$/.test(status));
      assert.ok(
        declared.includes(String(answer.status)),
        `${method} ${path}: ${answer.status} ${answer.text}`,
      );
      if (operation.operationId === "info") {
        const info = JSON.parse(answer.text) as {
          extension_id: string;
          documentation: Record<string, unknown>;
        };
        assert.equal(info.extension_id, "contract");
        assert.deepEqual(Object.keys(info.documentation).sort(), [
          "body",
          "config_params",
          "pipeline_subscription_params",
        ]);
      }
    }
  });
});
