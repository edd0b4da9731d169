/**
 * A whole Gofer server on Docker Swarm (`scheduler.engine = "swarm"`), end to end on a private single-node swarm:
 * a DAG with success, failure and skip, complete logs, cancellation with a grace period, and a task adopted
 * across a restart with every line once. The same API and guarantees as on one Docker engine.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { EngineClient } from "../src/scheduler/docker/engine-client.ts";
import * as P from "./support/pipelines.ts";
import { startSwarmEngine } from "./support/swarm-engine.ts";
import { startTestServer } from "./support/test-server.ts";

test("a Gofer server runs pipelines on the swarm", { timeout: 120_000 }, async (t) => {
  const engine = await startSwarmEngine();
  const client = new EngineClient({ host: engine.host });
  const server = await startTestServer({
    GOFER_WEB_SCHEDULER__ENGINE: "swarm",
    GOFER_WEB_SCHEDULER__DOCKER__HOST: engine.host,
    GOFER_WEB_API__TASK_EXECUTION_STOP_TIMEOUT: "2",
  });
  try {
    const started = Date.now();
    await P.deployPipeline(
      server,
      P.pipelineConfig("dag", [
        P.shTask(
          "first",
          'i=1; while [ $i -le 50 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done; printf "no newline"',
        ),
        P.shTask("second", "echo second; exit 3", { depends_on: { first: "Success" } }),
        P.shTask("on-failure", "echo cleanup", { depends_on: { second: "Failure" } }),
        P.shTask("skipped", "echo never", { depends_on: { second: "Success" } }),
      ]),
    );
    const runId = await P.startRun(server, "dag");
    const { run, tasks } = await P.waitForRun(server, "dag", runId);
    t.diagnostic(`dag run took ${Date.now() - started} ms`);
    assert.equal(run.status, "failed");
    assert.equal(tasks.first.status, "successful");
    assert.equal(tasks.second.exit_code, 3);
    assert.equal(tasks["on-failure"].status, "successful");
    assert.equal(tasks.skipped.status, "skipped");
    const lines = await P.taskLogLines(server, "dag", runId, "first");
    assert.deepEqual(
      lines.filter((l: string) => l.startsWith("out ")),
      Array.from({ length: 50 }, (_, i) => `out ${i + 1}`),
    );
    assert.deepEqual(
      lines.filter((l: string) => l.startsWith("err ")),
      Array.from({ length: 50 }, (_, i) => `err ${i + 1}`),
    );
    assert.ok(lines.includes("no newline"), lines.join("|"));

    // Cancellation: SIGTERM, then kill after the 2 s grace. Tasks run under an init, so the task ignores the
    // SIGTERM itself (and its `sleep` inherits that) to reach the kill.
    await P.deployPipeline(server, P.pipelineConfig("cancel", [P.shTask("long", "trap '' TERM; sleep 30")]));
    const cancelRun = await P.startRun(server, "cancel");
    await P.waitForTask(server, "cancel", cancelRun, "long", (e: { state: string }) => e.state === "running");
    const asked = Date.now();
    assert.equal(
      (await server.api("DELETE", `/api/namespaces/default/pipelines/cancel/runs/${cancelRun}`)).status,
      204,
    );
    const cancelled = await P.waitForRun(server, "cancel", cancelRun);
    t.diagnostic(`cancel took ${Date.now() - asked} ms`);
    assert.equal(cancelled.run.status, "cancelled");
    assert.equal(cancelled.tasks.long.exit_code, 137);

    // A restart while a task runs: adopted, every line exactly once.
    await P.deployPipeline(
      server,
      P.pipelineConfig("adopt", [
        P.shTask("slow", 'i=1; while [ $i -le 30 ]; do echo "line $i"; i=$((i+1)); sleep 0.1; done'),
      ]),
    );
    const adoptRun = await P.startRun(server, "adopt");
    await P.waitForTask(server, "adopt", adoptRun, "slow", (e: { state: string }) => e.state === "running");
    await new Promise((r) => setTimeout(r, 800));
    await server.restart();
    const adopted = await P.waitForRun(server, "adopt", adoptRun);
    assert.equal(adopted.tasks.slow.status, "successful");
    assert.deepEqual(
      await P.taskLogLines(server, "adopt", adoptRun, "slow"),
      Array.from({ length: 30 }, (_, i) => `line ${i + 1}`),
    );

    const left = await client.listServices({ labels: { "gofer.instance": server.instanceId } });
    t.diagnostic(
      `services left: ${left.map((s: { Spec: { Name: string } }) => s.Spec.Name).join(", ") || "none"}`,
    );
    assert.deepEqual(left, []);
  } finally {
    await server.stop();
    client.close();
    await engine.close();
  }
});
