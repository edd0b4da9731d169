/**
 * Deleting a pipeline or namespace while runs start: the check for unfinished runs and the delete are one
 * decision, so a run is either seen (409, everything stays) or never created (its start answers 404). A run
 * the delete's cascade removed while its container runs must never happen.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setImmediate as nextTick, setTimeout as sleep } from "node:timers/promises";
import { EngineClient } from "../src/scheduler/docker/engine-client.ts";
import { pageEvents } from "../src/storage/events-store.ts";
import { deployPipeline, pipelineConfig, shTask, startRun, waitForRun } from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";
import { waitFor } from "./support/wait-for.ts";

const ROUNDS = 30;

/**
 * Keeps the database busy the way a loaded server does: something else holds Gofer's one SQLite connection for
 * a millisecond, again and again. Requests then wait statement by statement and their statements interleave,
 * which is what opens the gap between a check and a delete that run as separate statements. On an idle server
 * each request's statements ran back to back, and the race did not show.
 */
function keepDatabaseBusy(server: TestServer): () => Promise<void> {
  let stopped = false;
  const holding = (async () => {
    while (!stopped) await server.service.db.transaction().execute(() => sleep(1));
  })();
  return async () => {
    stopped = true;
    await holding;
  };
}

const pipelineUrl = (pipelineId: string, namespace = "default") =>
  `/api/namespaces/${namespace}/pipelines/${pipelineId}`;

/** Event kinds with their details, oldest first, read from the events table the bus commits to. */
async function storedEvents(server: TestServer): Promise<{ name: string; details: unknown }[]> {
  const events = await pageEvents(server.service.db, { limit: 100_000, reverse: false });
  return events.map((event) => {
    const [name, details] = Object.entries(event.kind)[0] ?? ["", undefined];
    return { name, details };
  });
}

describe("deletes racing run starts", () => {
  let server: TestServer;
  const engine = new EngineClient({ host: process.env.DOCKER_HOST || undefined });

  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.stop();
  });

  it("a pipeline delete either refuses because of the new run or wins and the start finds nothing", async () => {
    const outcomes = { refused: 0, deleted: 0 };
    for (let round = 0; round < ROUNDS; round += 1) {
      const pipelineId = `race-${round}`;
      await deployPipeline(server, pipelineConfig(pipelineId, [shTask("quick", "true")]));
      // Varying which request leaves first and by how many ticks walks the start across the delete's steps.
      const ticks = round % 5;
      const startFirst = round % 2 === 0;
      const start = async () => {
        if (!startFirst) for (let tick = 0; tick < ticks; tick += 1) await nextTick();
        return server.api("POST", `${pipelineUrl(pipelineId)}/runs`, { variables: {} });
      };
      const remove = async () => {
        if (startFirst) for (let tick = 0; tick < ticks; tick += 1) await nextTick();
        return server.api("DELETE", pipelineUrl(pipelineId));
      };
      const stopBusy = keepDatabaseBusy(server);
      const [started, deleted] = await Promise.all([start(), remove()]).finally(stopBusy);
      const context = `round ${round}: start ${started.status} ${started.text} / delete ${deleted.status} ${deleted.text}`;
      if (deleted.status === 409) {
        outcomes.refused += 1;
        assert.equal(started.status, 201, context);
        assert.equal(deleted.json.error_code, "CONFLICT", context);
        const run = await server.api("GET", `${pipelineUrl(pipelineId)}/runs/${started.json.run.run_id}`);
        assert.equal(run.status, 200, context);
        await waitForRun(server, pipelineId, started.json.run.run_id);
        assert.equal((await server.api("DELETE", pipelineUrl(pipelineId))).status, 204, context);
      } else {
        outcomes.deleted += 1;
        assert.equal(deleted.status, 204, context);
        assert.equal(started.status, 404, context);
        assert.equal(started.json.error_code, "NOT_FOUND", context);
        assert.equal((await server.api("GET", pipelineUrl(pipelineId))).status, 404, context);
        const containers = await engine.listContainers({
          all: true,
          labels: { "gofer.instance": server.instanceId, "gofer.pipeline": pipelineId },
        });
        assert.deepEqual(
          containers.map((container) => container.Id),
          [],
          `${context}: a container runs for a deleted pipeline`,
        );
      }
    }
    // Both sides must have won sometimes, or the rounds did not race at all.
    assert.ok(outcomes.refused > 0 && outcomes.deleted > 0, JSON.stringify(outcomes));
  });

  it("a delete with an unfinished run answers 409 and leaves everything in place", async () => {
    for (const namespace of ["busy", "calm"]) {
      const created = await server.api("POST", "/api/namespaces", {
        id: namespace,
        name: namespace,
        description: "",
      });
      assert.equal(created.status, 201, created.text);
      // The same pipeline id in both namespaces: the check must look at the namespace too.
      await deployPipeline(server, pipelineConfig("held", [shTask("wait", "sleep 60")]), namespace);
    }
    await deployPipeline(server, pipelineConfig("idle", [shTask("quick", "true")]), "busy");
    const runId = await startRun(server, "held", {}, "busy");

    const pipelineRefused = await server.api("DELETE", pipelineUrl("held", "busy"));
    assert.equal(pipelineRefused.status, 409, pipelineRefused.text);
    assert.deepEqual(Object.keys(pipelineRefused.json).sort(), ["error_code", "message", "request_id"]);
    assert.equal(pipelineRefused.json.error_code, "CONFLICT");
    assert.equal(
      pipelineRefused.json.message,
      'Pipeline "held" has 1 unfinished run(s); cancel them and retry',
    );
    const namespaceRefused = await server.api("DELETE", "/api/namespaces/busy");
    assert.equal(namespaceRefused.status, 409, namespaceRefused.text);
    assert.equal(namespaceRefused.json.error_code, "CONFLICT");
    assert.equal(
      namespaceRefused.json.message,
      'Namespace "busy" has 1 unfinished run(s); cancel them and retry',
    );
    for (const path of [
      "/api/namespaces/busy",
      pipelineUrl("held", "busy"),
      `${pipelineUrl("held", "busy")}/configs/1`,
      `${pipelineUrl("held", "busy")}/runs/${runId}`,
      `${pipelineUrl("held", "busy")}/runs/${runId}/tasks/wait`,
    ]) {
      const response = await server.api("GET", path);
      assert.equal(response.status, 200, `${path}: ${response.text}`);
    }

    // Runs elsewhere do not block: another pipeline of the namespace, the same pipeline id in another one.
    assert.equal((await server.api("DELETE", pipelineUrl("idle", "busy"))).status, 204);
    assert.equal((await server.api("DELETE", pipelineUrl("held", "calm"))).status, 204);
    assert.equal((await server.api("DELETE", "/api/namespaces/calm")).status, 204);

    const cancelled = await server.api("DELETE", `${pipelineUrl("held", "busy")}/runs/${runId}`);
    assert.equal(cancelled.status, 204, cancelled.text);
    await waitForRun(server, "held", runId, 60_000, "busy");
    assert.equal((await server.api("DELETE", pipelineUrl("held", "busy"))).status, 204);
    assert.equal((await server.api("DELETE", "/api/namespaces/busy")).status, 204);
    // The cancelled task's container is removed after the run completes; the test server counts it until then.
    await waitFor("the cancelled task's container to be removed", 30_000, async () => {
      const containers = await engine.listContainers({
        all: true,
        labels: { "gofer.instance": server.instanceId, "gofer.namespace": "busy" },
      });
      return containers.length === 0 ? true : undefined;
    });

    const missing = await server.api("DELETE", "/api/namespaces/busy");
    assert.equal(missing.status, 404, missing.text);
    assert.equal(missing.json.message, 'Namespace "busy" not found');
    const missingPipeline = await server.api("DELETE", pipelineUrl("nowhere"));
    assert.equal(missingPipeline.status, 404, missingPipeline.text);
    assert.equal(missingPipeline.json.message, 'Pipeline "nowhere" in namespace "default" not found');
  });

  it("a delete's event is in the events table once the delete answered", async () => {
    const created = await server.api("POST", "/api/namespaces", {
      id: "fleeting",
      name: "f",
      description: "",
    });
    assert.equal(created.status, 201, created.text);
    await deployPipeline(server, pipelineConfig("brief", [shTask("quick", "true")]), "fleeting");
    assert.equal((await server.api("DELETE", pipelineUrl("brief", "fleeting"))).status, 204);
    assert.deepEqual(
      (await storedEvents(server)).filter((event) => event.name === "deleted_pipeline").at(-1),
      { name: "deleted_pipeline", details: { namespace_id: "fleeting", pipeline_id: "brief" } },
    );
    assert.equal((await server.api("DELETE", "/api/namespaces/fleeting")).status, 204);
    assert.deepEqual(
      (await storedEvents(server)).filter((event) => event.name === "deleted_namespace").at(-1),
      { name: "deleted_namespace", details: { namespace_id: "fleeting" } },
    );
  });
});
