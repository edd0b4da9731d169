import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { generateOpenApiDocument, OPENAPI_PATH, serializeDocument } from "../src/service/openapi-document.ts";

/** Gofer's v0 document, kept in the repository so the comparison runs in any checkout. */
const REFERENCE = new URL("./reference/gofer-api.openapi.json", import.meta.url);

/** The v0 operations the server implements so far; each later area adds its own. */
const IMPLEMENTED = [
  "get_system_metadata",
  "create_bootstrap_token",
  "whoami",
  "list_tokens",
  "create_token",
  "get_token_by_id",
  "update_token",
  "delete_token",
  "list_roles",
  "create_role",
  "get_role",
  "update_role",
  "delete_role",
  "list_namespaces",
  "create_namespace",
  "get_namespace",
  "update_namespace",
  "delete_namespace",
  "list_pipelines",
  "get_pipeline",
  "update_pipeline",
  "delete_pipeline",
  "list_configs",
  "register_config",
  "get_config",
  "deploy_config",
  "delete_config",
  "list_deployments",
  "get_deployment",
  "list_runs",
  "start_run",
  "get_run",
  "cancel_run",
  "list_task_executions",
  "get_task_execution",
  "cancel_task_execution",
  "get_logs",
  "delete_logs",
  "stream_events",
  "get_event",
  "delete_event",
  "list_pipeline_objects",
  "get_pipeline_object",
  "put_pipeline_object",
  "delete_pipeline_object",
  "list_run_objects",
  "get_run_object",
  "put_run_object",
  "delete_run_object",
  "list_extension_objects",
  "get_extension_object",
  "put_extension_object",
  "delete_extension_object",
  "list_extensions",
  "install_extension",
  "get_extension",
  "update_extension",
  "uninstall_extension",
  "get_extension_debug_info",
  "get_extension_logs",
  "list_extension_subscriptions",
  "list_subscriptions",
  "create_subscription",
  "get_subscription",
  "update_subscription",
  "delete_subscription",
];

interface Operation {
  operationId?: string;
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}
interface Schema {
  $ref?: string;
  allOf?: Schema[];
  properties?: Record<string, Schema>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

function operations(document: Document): Map<string, { method: string; path: string; operation: Operation }> {
  const found = new Map<string, { method: string; path: string; operation: Operation }>();
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      if (operation.operationId) found.set(operation.operationId, { method, path, operation });
    }
  }
  return found;
}

/** The top-level fields of an operation's success body (the v0 envelope, e.g. `{runs}`), with refs resolved. */
function envelopeFields(document: Document, operation: Operation): string[] | undefined {
  const success = Object.entries(operation.responses ?? {}).find(([status]) => /^2\d\d$/.test(status));
  let schema = success?.[1].content?.["application/json"]?.schema;
  for (let depth = 0; schema && depth < 5; depth += 1) {
    if (schema.$ref) schema = document.components?.schemas?.[schema.$ref.split("/").pop() ?? ""];
    else if (schema.allOf?.[0]) schema = schema.allOf[0];
    else break;
  }
  return schema?.properties ? Object.keys(schema.properties).sort() : undefined;
}

/** Operations this server adds to v0, each a decision written down in the README (pipeline controls). */
const EXTENSIONS_OF_V0 = new Set([
  "list_task_attempts",
  "get_attempt_logs",
  "retry_run",
  "list_replicas",
  "list_audit_events",
  ...["namespace", "pipeline"].flatMap((owner) => [
    `list_${owner}_notifications`,
    `create_${owner}_notification`,
    `get_${owner}_notification`,
    `update_${owner}_notification`,
    `delete_${owner}_notification`,
    `list_${owner}_notification_deliveries`,
    `test_${owner}_notification`,
  ]),
]);

describe("OpenAPI document", () => {
  it("matches the committed openapi.json (run `npm run openapi` after changing a route)", async () => {
    const committed = await readFile(OPENAPI_PATH, "utf8");
    assert.equal(serializeDocument(await generateOpenApiDocument()), committed);
  });

  it("has every implemented v0 operation at the reference's path and method, with the same envelope", async () => {
    const ours = operations((await generateOpenApiDocument()) as Document);
    const referenceDocument = JSON.parse(await readFile(REFERENCE, "utf8")) as Document;
    const reference = operations(referenceDocument);
    const oursDocument = (await generateOpenApiDocument()) as Document;
    for (const operationId of IMPLEMENTED) {
      const expected = reference.get(operationId);
      const actual = ours.get(operationId);
      assert.ok(expected, `${operationId} is not a v0 operation`);
      assert.ok(actual, `${operationId} is missing from the generated document`);
      assert.equal(`${actual.method} ${actual.path}`, `${expected.method} ${expected.path}`, operationId);
      const expectedFields = envelopeFields(referenceDocument, expected.operation);
      if (expectedFields) {
        assert.deepEqual(
          envelopeFields(oursDocument, actual.operation),
          expectedFields,
          `${operationId} envelope`,
        );
      }
    }
  });

  it("names only v0 operations (no operation outside the reference without a decision)", async () => {
    const reference = operations(JSON.parse(await readFile(REFERENCE, "utf8")) as Document);
    const ours = operations((await generateOpenApiDocument()) as Document);
    for (const operationId of ours.keys())
      assert.ok(
        reference.has(operationId) || EXTENSIONS_OF_V0.has(operationId),
        `${operationId} is not in v0`,
      );
  });
});
