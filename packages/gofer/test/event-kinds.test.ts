/**
 * Every event kind v0 defines is published where its change happens, with the fields v0 gives it: one test per
 * kind, each making the change through the API and finding the stored event. The list of kinds is v0's own
 * (the reference OpenAPI document), so a kind that is never emitted fails here.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import {
  deployPipeline,
  pipelineConfig,
  shTask,
  startRun,
  waitForRun,
  waitForTask,
} from "./support/pipelines.ts";
import { storedEvents } from "./support/stored-events.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

interface KindSchema {
  properties: Record<string, { required?: string[] }>;
}

/** v0's kinds with the fields each must carry ("any" is a listening filter, never published). */
const REFERENCE: Map<string, string[]> = (() => {
  const document = JSON.parse(
    readFileSync(new URL("./reference/gofer-api.openapi.json", import.meta.url), "utf8"),
  );
  const kinds = new Map<string, string[]>();
  for (const variant of document.components.schemas.Kind.oneOf as Array<KindSchema | { enum: string[] }>) {
    if ("enum" in variant) continue;
    const [name, schema] = Object.entries(variant.properties)[0] as [string, { required?: string[] }];
    kinds.set(name, schema.required ?? []);
  }
  return kinds;
})();

type Details = Record<string, unknown>;

describe("every event kind is published where its change happens", { timeout: 180_000 }, () => {
  let server: TestServer;
  const seen = new Set<string>();

  /** The stored events of a kind whose details hold `expected`, checked against v0's fields for the kind. */
  async function expectEvent(kind: string, expected: Details): Promise<Details> {
    const matching = (await storedEvents(server))
      .map((event) => event.kind)
      .filter((event) => kind in event)
      .map((event) => event[kind] as Details)
      .filter((details) => Object.entries(expected).every(([key, value]) => details[key] === value));
    assert.ok(matching.length > 0, `no ${kind} event with ${JSON.stringify(expected)}`);
    const details = matching[0] as Details;
    for (const field of REFERENCE.get(kind) ?? []) {
      assert.ok(field in details, `${kind} lacks v0's field "${field}": ${JSON.stringify(details)}`);
    }
    seen.add(kind);
    return details;
  }

  const ok = async (response: Promise<{ status: number; text: string }>, status: number) => {
    const answered = await response;
    assert.equal(answered.status, status, answered.text);
  };

  const pipeline = "/api/namespaces/default/pipelines/kinds";
  let runId = 0;

  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.stop();
  });

  it("created_namespace", async () => {
    await ok(server.api("POST", "/api/namespaces", { id: "kinds-ns", name: "Kinds", description: "" }), 201);
    await expectEvent("created_namespace", { namespace_id: "kinds-ns" });
  });

  it("created_pipeline, started_deployment and completed_deployment", async () => {
    const version = await deployPipeline(
      server,
      pipelineConfig("kinds", [
        shTask("long", "sleep 60"),
        shTask("next", "true", { depends_on: { long: "any" } }),
      ]),
    );
    await expectEvent("created_pipeline", { namespace_id: "default", pipeline_id: "kinds" });
    await expectEvent("started_deployment", { pipeline_id: "kinds", end_version: version });
    await expectEvent("completed_deployment", { pipeline_id: "kinds", end_version: version });
  });

  it("disabled_pipeline", async () => {
    await ok(server.api("PATCH", pipeline, { state: "disabled" }), 204);
    await expectEvent("disabled_pipeline", { namespace_id: "default", pipeline_id: "kinds" });
  });

  it("enabled_pipeline", async () => {
    await ok(server.api("PATCH", pipeline, { state: "active" }), 204);
    await expectEvent("enabled_pipeline", { namespace_id: "default", pipeline_id: "kinds" });
  });

  it("queued_run, started_run and created_task_execution", async () => {
    runId = await startRun(server, "kinds");
    await waitForTask(server, "kinds", runId, "long", (task) => task.state === "running");
    const run = { pipeline_id: "kinds", run_id: runId };
    await expectEvent("queued_run", run);
    await expectEvent("started_run", run);
    await expectEvent("created_task_execution", { ...run, task_execution_id: "long" });
    await expectEvent("created_task_execution", { ...run, task_execution_id: "next" });
  });

  it("started_task_execution", async () => {
    await expectEvent("started_task_execution", {
      pipeline_id: "kinds",
      run_id: runId,
      task_execution_id: "long",
    });
  });

  it("started_task_execution_cancellation and completed_task_execution", async () => {
    await ok(server.api("DELETE", `${pipeline}/runs/${runId}/tasks/long?wait_for=0`), 204);
    await waitForRun(server, "kinds", runId);
    const task = { pipeline_id: "kinds", run_id: runId, task_execution_id: "long" };
    const cancelling = await expectEvent("started_task_execution_cancellation", task);
    assert.equal(cancelling.timeout, 0);
    await expectEvent("completed_task_execution", { ...task, status: "cancelled" });
    await expectEvent("completed_task_execution", {
      ...task,
      task_execution_id: "next",
      status: "cancelled",
    });
  });

  it("completed_run", async () => {
    await expectEvent("completed_run", { pipeline_id: "kinds", run_id: runId, status: "cancelled" });
  });

  it("started_run_cancellation", async () => {
    const second = await startRun(server, "kinds");
    await waitForTask(server, "kinds", second, "long", (task) => task.state === "running");
    await ok(server.api("DELETE", `${pipeline}/runs/${second}`), 204);
    await expectEvent("started_run_cancellation", {
      namespace_id: "default",
      pipeline_id: "kinds",
      run_id: second,
    });
    await waitForRun(server, "kinds", second);
  });

  it("created_role", async () => {
    const permissions = [{ resources: ["namespaces:default"], actions: ["read"] }];
    await ok(server.api("POST", "/api/roles", { id: "kinds-role", description: "", permissions }), 201);
    await expectEvent("created_role", { role_id: "kinds-role" });
  });

  it("deleted_role", async () => {
    await ok(server.api("DELETE", "/api/roles/kinds-role"), 204);
    await expectEvent("deleted_role", { role_id: "kinds-role" });
  });

  const image = "gofer/extension-interval:latest";

  it("installed_extension", async () => {
    await ok(
      server.api("POST", "/api/extensions", { id: "kinds-ext", image, settings: { min_interval: "1s" } }),
      201,
    );
    await expectEvent("installed_extension", { id: "kinds-ext", image });
  });

  it("disabled_extension", async () => {
    await ok(server.api("PATCH", "/api/extensions/kinds-ext", { enable: false }), 204);
    await expectEvent("disabled_extension", { id: "kinds-ext", image });
  });

  it("enabled_extension", async () => {
    await ok(server.api("PATCH", "/api/extensions/kinds-ext", { enable: true }), 204);
    await expectEvent("enabled_extension", { id: "kinds-ext", image });
  });

  const subscription = {
    namespace_id: "default",
    pipeline_id: "kinds",
    extension_id: "kinds-ext",
    subscription_id: "hourly",
  };

  it("pipeline_extension_subscription_registered", async () => {
    await ok(
      server.api("POST", `${pipeline}/subscriptions`, {
        extension_id: "kinds-ext",
        subscription_id: "hourly",
        settings: { every: "1h" },
      }),
      201,
    );
    await expectEvent("pipeline_extension_subscription_registered", subscription);
  });

  it("pipeline_extension_subscription_unregistered", async () => {
    await ok(server.api("DELETE", `${pipeline}/subscriptions/kinds-ext/hourly`), 204);
    await expectEvent("pipeline_extension_subscription_unregistered", subscription);
  });

  it("uninstalled_extension", async () => {
    await ok(server.api("DELETE", "/api/extensions/kinds-ext"), 204);
    await expectEvent("uninstalled_extension", { id: "kinds-ext", image });
  });

  it("deleted_pipeline", async () => {
    await ok(server.api("DELETE", pipeline), 204);
    await expectEvent("deleted_pipeline", { namespace_id: "default", pipeline_id: "kinds" });
  });

  it("deleted_namespace", async () => {
    await ok(server.api("DELETE", "/api/namespaces/kinds-ns"), 204);
    await expectEvent("deleted_namespace", { namespace_id: "kinds-ns" });
  });

  it("no v0 kind is left unpublished", () => {
    assert.deepEqual(
      [...REFERENCE.keys()].filter((kind) => !seen.has(kind)),
      [],
    );
  });
});
