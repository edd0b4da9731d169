import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { deployPipeline, pipelineConfig, shTask, startRun, waitForRun } from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const pipelineUrl = (pipelineId: string) => `/api/namespaces/default/pipelines/${pipelineId}`;

/** Registers a config without deploying it; returns its version. */
async function register(server: TestServer, config: { id: string }): Promise<number> {
  const response = await server.api("POST", `${pipelineUrl(config.id)}/configs`, { config });
  assert.equal(response.status, 201, response.text);
  return response.json.pipeline.config.version;
}

async function deploy(server: TestServer, pipelineId: string, version: number) {
  const response = await server.api("POST", `${pipelineUrl(pipelineId)}/configs/${version}`);
  assert.equal(response.status, 201, response.text);
  return response.json.deployment;
}

/** Config states by version. */
async function configStates(server: TestServer, pipelineId: string): Promise<Record<number, string>> {
  const response = await server.api("GET", `${pipelineUrl(pipelineId)}/configs`);
  assert.equal(response.status, 200, response.text);
  return Object.fromEntries(
    // biome-ignore lint/suspicious/noExplicitAny: config JSON as served
    response.json.configs.map((config: any) => [config.version, config.state]),
  );
}

/** Runs the pipeline once and returns the config version the run executed and what its task printed. */
async function runOnce(server: TestServer, pipelineId: string): Promise<{ version: number; log: string }> {
  const runId = await startRun(server, pipelineId);
  const { run, tasks } = await waitForRun(server, pipelineId, runId, 15_000);
  assert.equal(run.status, "successful");
  const log = await server.api("GET", `${pipelineUrl(pipelineId)}/runs/${runId}/tasks/say/logs`);
  assert.equal(log.status, 200, log.text);
  assert.deepEqual(tasks.say.task.command, ["sh", "-c", `echo ${log.text.trim()}`]);
  return { version: run.pipeline_config_version, log: log.text };
}

async function runCount(server: TestServer, pipelineId: string): Promise<number> {
  const response = await server.api("GET", `${pipelineUrl(pipelineId)}/runs`);
  assert.equal(response.status, 200, response.text);
  return response.json.runs.length;
}

function assertEnvelope(response: { json: unknown }, code: string, message: RegExp): void {
  const body = response.json as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ["error_code", "message", "request_id"]);
  assert.equal(body.error_code, code);
  assert.match(String(body.message), message);
}

const sayConfig = (pipelineId: string, word: string) =>
  pipelineConfig(pipelineId, [shTask("say", `echo ${word}`)]);

describe("runs execute the live config version", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  it("runs the deployed version, not the latest registered one, and rolls back", async () => {
    assert.equal(await register(server, sayConfig("versions", "v1")), 1);
    const first = await deploy(server, "versions", 1);
    assert.equal(await register(server, sayConfig("versions", "v2")), 2);
    assert.deepEqual(await configStates(server, "versions"), { 1: "live", 2: "unreleased" });
    assert.deepEqual(await runOnce(server, "versions"), { version: 1, log: "v1\n" });

    const second = await deploy(server, "versions", 2);
    assert.deepEqual(await configStates(server, "versions"), { 1: "deprecated", 2: "live" });
    assert.deepEqual(await runOnce(server, "versions"), { version: 2, log: "v2\n" });

    const rollback = await deploy(server, "versions", 1);
    assert.deepEqual(await configStates(server, "versions"), { 1: "live", 2: "deprecated" });
    assert.deepEqual(await runOnce(server, "versions"), { version: 1, log: "v1\n" });
    assert.deepEqual(await runOnce(server, "versions"), { version: 1, log: "v1\n" });

    const v2 = await server.api("GET", `${pipelineUrl("versions")}/configs/2`);
    assert.ok(v2.json.config.deprecated > 0, "a deprecated version records when it was deprecated");
    const v1 = await server.api("GET", `${pipelineUrl("versions")}/configs/1`);
    assert.equal(v1.json.config.state, "live");

    const ranges = [first, second, rollback].map((deployment) => [
      deployment.deployment_id,
      deployment.start_version,
      deployment.end_version,
    ]);
    assert.deepEqual(ranges, [
      [1, 1, 1],
      [2, 1, 2],
      [3, 2, 1],
    ]);
    const listed = await server.api("GET", `${pipelineUrl("versions")}/deployments`);
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual(
      // biome-ignore lint/suspicious/noExplicitAny: deployment JSON as served
      listed.json.deployments.map((deployment: any) => [
        deployment.deployment_id,
        deployment.start_version,
        deployment.end_version,
        deployment.state,
        deployment.status,
      ]),
      [
        [3, 2, 1, "Complete", "Successful"],
        [2, 1, 2, "Complete", "Successful"],
        [1, 1, 1, "Complete", "Successful"],
      ],
    );
    const one = await server.api("GET", `${pipelineUrl("versions")}/deployments/2`);
    assert.equal(one.status, 200, one.text);
    assert.deepEqual([one.json.deployment.start_version, one.json.deployment.end_version], [1, 2]);
  });

  it("refuses to start a run of a pipeline that was never deployed", async () => {
    await register(server, sayConfig("undeployed", "never"));
    const response = await server.api("POST", `${pipelineUrl("undeployed")}/runs`, { variables: {} });
    assert.ok(response.status >= 400 && response.status < 500, `status ${response.status}`);
    assertEnvelope(response, "CONFLICT", /deploy/);
    assert.equal(await runCount(server, "undeployed"), 0, "no run was created");
  });

  it("refuses runs of a disabled pipeline with 503 and accepts them again once enabled", async () => {
    await deployPipeline(server, sayConfig("toggle", "on"));
    const disable = await server.api("PATCH", pipelineUrl("toggle"), { state: "disabled" });
    assert.equal(disable.status, 204, disable.text);
    assert.equal((await server.api("GET", pipelineUrl("toggle"))).json.pipeline.state, "disabled");

    const refused = await server.api("POST", `${pipelineUrl("toggle")}/runs`, { variables: {} });
    assert.equal(refused.status, 503, refused.text);
    assertEnvelope(refused, "PIPELINE_INACTIVE", /disabled/);
    assert.equal(await runCount(server, "toggle"), 0, "no run was created");

    const enable = await server.api("PATCH", pipelineUrl("toggle"), { state: "active" });
    assert.equal(enable.status, 204, enable.text);
    assert.deepEqual(await runOnce(server, "toggle"), { version: 1, log: "on\n" });
  });

  it("serves version 0 as the latest and protects the live and latest versions from deletion", async () => {
    for (const word of ["one", "two", "three"]) await register(server, sayConfig("deletions", word));
    await deploy(server, "deletions", 1);
    await deploy(server, "deletions", 2);
    assert.deepEqual(await configStates(server, "deletions"), {
      1: "deprecated",
      2: "live",
      3: "unreleased",
    });

    const latest = await server.api("GET", `${pipelineUrl("deletions")}/configs/0`);
    assert.equal(latest.status, 200, latest.text);
    assert.equal(latest.json.config.version, 3);
    assert.deepEqual(latest.json.config.tasks.say.command, ["sh", "-c", "echo three"]);

    const deleteLatest = await server.api("DELETE", `${pipelineUrl("deletions")}/configs/3`);
    assert.equal(deleteLatest.status, 400, deleteLatest.text);
    assertEnvelope(deleteLatest, "BAD_REQUEST", /latest/);
    const deleteLive = await server.api("DELETE", `${pipelineUrl("deletions")}/configs/2`);
    assert.equal(deleteLive.status, 400, deleteLive.text);
    assertEnvelope(deleteLive, "BAD_REQUEST", /live/);

    const deleteOld = await server.api("DELETE", `${pipelineUrl("deletions")}/configs/1`);
    assert.equal(deleteOld.status, 204, deleteOld.text);
    const gone = await server.api("GET", `${pipelineUrl("deletions")}/configs/1`);
    assert.equal(gone.status, 404, gone.text);
    assert.deepEqual(await configStates(server, "deletions"), { 2: "live", 3: "unreleased" });
    assert.deepEqual(await runOnce(server, "deletions"), { version: 2, log: "two\n" });
  });
});
