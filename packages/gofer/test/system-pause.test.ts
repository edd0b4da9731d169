import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { deployPipeline, pipelineConfig, shTask, startRun, waitForRun } from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

describe("pausing new runs (GET/PATCH /api/system)", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    await deployPipeline(server, pipelineConfig("paused", [shTask("only", "echo ran")]));
  });
  after(() => server.stop());

  const runsUrl = "/api/namespaces/default/pipelines/paused/runs";

  it("refuses every new run while paused, keeps the switch across a restart, and starts runs again once resumed", async () => {
    const initial = await server.api("GET", "/api/system");
    assert.equal(initial.status, 200, initial.text);
    assert.deepEqual(initial.json, { bootstrap_token_created: true, ignore_pipeline_run_events: false });

    const paused = await server.api("PATCH", "/api/system", { ignore_pipeline_run_events: true });
    assert.equal(paused.status, 200, paused.text);
    assert.equal(paused.json.ignore_pipeline_run_events, true);

    const refused = await server.api("POST", runsUrl, { variables: {} });
    assert.equal(refused.status, 503, refused.text);
    assert.equal(refused.json.error_code, "RUNS_PAUSED");
    assert.match(refused.json.message, /paused/);
    const runs = await server.api("GET", runsUrl);
    assert.equal(runs.json.runs.length, 0, "a refused run leaves nothing behind");

    await server.restart();
    assert.equal((await server.api("GET", "/api/system")).json.ignore_pipeline_run_events, true);
    assert.equal((await server.api("POST", runsUrl, { variables: {} })).status, 503);

    // A PATCH without the field changes nothing and answers the current state.
    const unchanged = await server.api("PATCH", "/api/system", {});
    assert.equal(unchanged.status, 200);
    assert.equal(unchanged.json.ignore_pipeline_run_events, true);

    const resumed = await server.api("PATCH", "/api/system", { ignore_pipeline_run_events: false });
    assert.equal(resumed.json.ignore_pipeline_run_events, false);
    const runId = await startRun(server, "paused");
    assert.equal((await waitForRun(server, "paused", runId)).run.status, "successful");
  });

  it("answers malformed bodies with 400 and non-admin tokens with 403, changing nothing", async () => {
    for (const body of [{ ignore_pipeline_run_events: "yes" }, { paused: true }, [true]]) {
      const response = await server.api("PATCH", "/api/system", body);
      assert.equal(response.status, 400, `${JSON.stringify(body)}: ${response.text}`);
      assert.equal(typeof response.json.message, "string");
    }
    const user = await server.api("POST", "/api/tokens", { user: "someone", roles: ["user"], expires: 0 });
    assert.equal(user.status, 201, user.text);
    const asUser = { authorization: `Bearer ${user.json.secret}` };
    for (const [method, body] of [
      ["GET", undefined],
      ["PATCH", { ignore_pipeline_run_events: true }],
    ] as const) {
      const response = await server.api(method, "/api/system", body, asUser);
      assert.equal(response.status, 403, response.text);
      assert.match(response.json.message, /admin/);
    }
    assert.equal((await server.api("GET", "/api/system")).json.ignore_pipeline_run_events, false);
  });
});
