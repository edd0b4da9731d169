import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { deployPipeline, pipelineConfig, shTask, startRun, waitForRun } from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

/**
 * A task that calls the API with its injected token: its own pipeline (allowed), another pipeline in the same
 * namespace and the admin-only token list (refused with 403), printing each HTTP outcome.
 */
const probe = (other: string) => `
api="$GOFER_API_BASE_URL/api/namespaces/$GOFER_NAMESPACE_ID/pipelines"
call() { out=$(wget -q -O /dev/null --header "Authorization: Bearer $GOFER_API_TOKEN" --header "gofer-api-version: v0" "$1" 2>&1) && echo ok || echo "$out" | sed -n 's/.*HTTP.1.1 //p' | cut -d' ' -f1; }
echo "own: $(call "$api/$GOFER_PIPELINE_ID/runs/$GOFER_RUN_ID")"
echo "other: $(call "$api/${other}")"
echo "tokens: $(call "$GOFER_API_BASE_URL/api/tokens")"
[ "$GOFER_TOKEN" = "$GOFER_API_TOKEN" ] && echo "same token under both names"
echo "token length: \${#GOFER_API_TOKEN}"
`;

describe("the injected run token", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  it("reaches the task's own pipeline only, under both names, and is not stored in plain text", async () => {
    await deployPipeline(server, pipelineConfig("bystander", [shTask("idle", "true")]));
    const config = pipelineConfig("caller", [
      { ...shTask("probe", probe("bystander")), inject_api_token: true },
    ]);
    await deployPipeline(server, config);
    const runId = await startRun(server, "caller");
    const { run, tasks } = await waitForRun(server, "caller", runId);
    assert.equal(tasks.probe.status, "successful");

    const log = await server.api("GET", "/api/namespaces/default/pipelines/caller/runs/1/tasks/probe/logs");
    const lines = log.text.trim().split("\n");
    assert.deepEqual(lines.slice(0, 4), [
      "own: ok",
      "other: 403",
      "tokens: 403",
      "same token under both names",
    ]);
    assert.match(lines[4] ?? "", /^token length: (3[2-9]|[4-9]\d)$/);

    // The run names its token; the token is listed as a run token with its scope, and no API answer holds a secret.
    assert.equal(typeof run.token_id, "string");
    const token = await server.api("GET", `/api/tokens/${run.token_id}`);
    assert.equal(token.status, 200, token.text);
    assert.equal(token.json.token.user, "run:default/caller/1");
    assert.deepEqual(token.json.token.metadata, {
      system_generated_run_token: "true",
      namespace: "default",
      pipeline: "caller",
      run: "1",
    });
    assert.ok(token.json.token.expires > Date.now(), "the token expires");
    const execution = await server.api("GET", "/api/namespaces/default/pipelines/caller/runs/1/tasks/probe");
    const keys = execution.json.task_execution.variables.map((variable: { key: string }) => variable.key);
    assert.ok(!keys.includes("GOFER_API_TOKEN") && !keys.includes("GOFER_TOKEN"), keys.join());
  });

  it("is not given to tasks that do not ask for it", async () => {
    await deployPipeline(
      server,
      pipelineConfig("no-token", [shTask("look", `echo "token=[\${GOFER_API_TOKEN:-none}]"`)]),
    );
    const runId = await startRun(server, "no-token");
    const { run } = await waitForRun(server, "no-token", runId);
    assert.equal(run.token_id, null);
    const log = await server.api(
      "GET",
      `/api/namespaces/default/pipelines/no-token/runs/${runId}/tasks/look/logs`,
    );
    assert.equal(log.text, "token=[none]\n");
  });

  it("is deleted as soon as its run's objects expire", async () => {
    const short = await startTestServer({ GOFER_WEB_OBJECT_STORE__RUN_OBJECT_EXPIRY: "1" });
    try {
      await deployPipeline(
        short,
        pipelineConfig("short-lived", [{ ...shTask("use", "true"), inject_api_token: true }]),
      );
      const first = await waitForRun(short, "short-lived", await startRun(short, "short-lived"));
      const tokenPath = `/api/tokens/${first.run.token_id}`;
      assert.equal((await short.api("GET", tokenPath)).status, 200);

      await waitForRun(short, "short-lived", await startRun(short, "short-lived"));
      const deadline = Date.now() + 5000;
      let status = 200;
      while (status === 200 && Date.now() < deadline) {
        status = (await short.api("GET", tokenPath)).status;
        if (status === 200) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(status, 404, "run 1's token outlived its objects");
      const run1 = await short.api("GET", "/api/namespaces/default/pipelines/short-lived/runs/1");
      assert.equal(run1.json.run.store_objects_expired, true);
    } finally {
      await short.stop();
    }
  });
});
