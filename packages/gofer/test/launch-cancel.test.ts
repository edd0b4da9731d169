/**
 * A cancel never waits for a container start: a task whose image pull hangs (the engine's pull call held open by
 * a proxy) is cancelled at once, its pull is dropped, and no container of it ever runs.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type HoldingEngineProxy, startHoldingEngineProxy } from "./support/holding-engine-proxy.ts";
import {
  deployPipeline,
  pipelineConfig,
  shTask,
  startRun,
  waitForRun,
  waitForTask,
} from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";
import { waitFor } from "./support/wait-for.ts";

/** Containers are removed right after their task's result is committed; give that a bounded moment. */
const noContainersLeft = (server: TestServer) =>
  waitFor("every container of the run to be removed", 10_000, async () =>
    (await server.leftoverContainers()).length === 0 ? true : undefined,
  );

const isPull = (method: string, path: string) => method === "POST" && path.includes("/images/create");

describe("cancelling a task whose image is still being pulled", { timeout: 120_000 }, () => {
  let proxy: HoldingEngineProxy;
  let server: TestServer;

  before(async () => {
    proxy = await startHoldingEngineProxy(isPull);
    server = await startTestServer({ GOFER_WEB_SCHEDULER__DOCKER__HOST: proxy.host });
    await deployPipeline(
      server,
      pipelineConfig("slow-pull", [
        shTask("pull", "echo should never run", { always_pull_newest_image: true }),
        shTask("after", "echo after", { depends_on: { pull: "any" } }),
        shTask("side", "sleep 300"),
      ]),
    );
  });
  after(async () => {
    await server?.stop();
    await proxy?.close();
  });

  it("cancelling the run answers at once, drops the pull and ends the run cancelled", async () => {
    const held = proxy.held.total;
    const runId = await startRun(server, "slow-pull");
    await waitForTask(server, "slow-pull", runId, "pull", (task) => task.state === "processing");
    await waitFor("the pull to reach the engine", 10_000, async () =>
      proxy.held.total > held ? true : undefined,
    );
    await waitForTask(server, "slow-pull", runId, "side", (task) => task.state === "running");

    const began = performance.now();
    const cancel = await server.api("DELETE", `/api/namespaces/default/pipelines/slow-pull/runs/${runId}`);
    const answeredMs = performance.now() - began;
    assert.equal(cancel.status, 204, cancel.text);
    assert.ok(answeredMs < 1000, `the cancel took ${Math.round(answeredMs)} ms`);

    const { run, tasks } = await waitForRun(server, "slow-pull", runId, 30_000);
    assert.equal(run.status, "cancelled");
    assert.equal(tasks.pull.status, "cancelled", JSON.stringify(tasks.pull));
    assert.match(tasks.pull.status_reason.description, /Cancelled by/);
    assert.equal(tasks.pull.container_id ?? null, null);
    assert.equal(tasks.after.status, "cancelled");
    assert.equal(tasks.side.status, "cancelled");
    await waitFor("the held pull to be dropped", 10_000, async () =>
      proxy.held.abandoned >= proxy.held.total ? true : undefined,
    );
    await noContainersLeft(server);
  });

  it("cancelling just that task answers at once and its dependents go on as their conditions say", async () => {
    const runId = await startRun(server, "slow-pull");
    await waitForTask(server, "slow-pull", runId, "pull", (task) => task.state === "processing");
    await waitForTask(server, "slow-pull", runId, "side", (task) => task.state === "running");

    const began = performance.now();
    const cancel = await server.api(
      "DELETE",
      `/api/namespaces/default/pipelines/slow-pull/runs/${runId}/tasks/pull`,
    );
    const answeredMs = performance.now() - began;
    assert.equal(cancel.status, 204, cancel.text);
    assert.ok(answeredMs < 1000, `the cancel took ${Math.round(answeredMs)} ms`);

    const pull = await waitForTask(server, "slow-pull", runId, "pull", (task) => task.state === "complete");
    assert.equal(pull.status, "cancelled");
    await server.api("DELETE", `/api/namespaces/default/pipelines/slow-pull/runs/${runId}`);
    const { run } = await waitForRun(server, "slow-pull", runId, 30_000);
    assert.equal(run.status, "cancelled");
    await noContainersLeft(server);
  });
});
