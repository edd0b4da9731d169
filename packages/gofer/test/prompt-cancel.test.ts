/**
 * A cancel ends now: tasks run under an init, so a command that does not trap SIGTERM is no longer PID 1 ignoring
 * it and ends at the signal, with the default grace period (30 s) unset by the test; a task that traps SIGTERM
 * gets the grace period and its trap runs.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { EngineClient } from "../src/scheduler/docker/engine-client.ts";
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

/** The built-in `api.task_execution_stop_timeout`, in seconds. */
const DEFAULT_GRACE_SECONDS = 30;

const runUrl = (pipelineId: string, runId: number) =>
  `/api/namespaces/default/pipelines/${pipelineId}/runs/${runId}`;

const isRunning = (execution: { state: string }) => execution.state === "running";

/** The grace periods the cancellation events of one run announced, by task. */
async function announcedGraces(
  server: TestServer,
  pipelineId: string,
  runId: number,
): Promise<Array<[unknown, unknown]>> {
  return (await storedEvents(server)).flatMap((event) => {
    const details = event.kind.started_task_execution_cancellation;
    return details?.pipeline_id === pipelineId && details.run_id === runId
      ? [[details.task_execution_id, details.timeout] as [unknown, unknown]]
      : [];
  });
}

describe("a cancel that ends now", () => {
  let server: TestServer;
  const engine = new EngineClient({ host: process.env.DOCKER_HOST || undefined });
  before(async () => {
    // The helper sets a short grace for every test; unset here, the built-in default applies.
    server = await startTestServer({
      GOFER_WEB_API__TASK_EXECUTION_STOP_TIMEOUT: undefined as unknown as string,
    });
  });
  after(async () => {
    await server.stop();
    engine.close();
  });

  it("ends a task that does not trap SIGTERM at once, not after the default grace period", async () => {
    await deployPipeline(server, pipelineConfig("sleeper", [shTask("nap", "sleep 300")]));
    const runId = await startRun(server, "sleeper");
    await waitForTask(server, "sleeper", runId, "nap", isRunning, 10_000);

    const [container] = await engine.listContainers({
      all: true,
      labels: { "gofer.instance": server.instanceId, "gofer.pipeline": "sleeper", "gofer.task": "nap" },
    });
    assert.ok(container, "the task's container");
    const inspected = await engine.inspectContainer(container.Id);
    assert.equal(inspected.HostConfig?.Init, true, "the task runs under the engine's init");

    const requested = Date.now();
    const response = await server.api("DELETE", runUrl("sleeper", runId));
    assert.equal(response.status, 204, response.text);
    const { run, tasks } = await waitForRun(server, "sleeper", runId, 3000);
    const endedIn = Date.now() - requested;
    assert.ok(endedIn < 3000, `the run took ${endedIn} ms to end after the cancel`);
    assert.equal(run.status, "cancelled");
    assert.equal(run.status_reason.reason, "user_cancelled");
    assert.equal(tasks.nap.status, "cancelled");
    assert.equal(tasks.nap.exit_code, 143, "ended by SIGTERM, not killed");
    assert.deepEqual(await announcedGraces(server, "sleeper", runId), [["nap", DEFAULT_GRACE_SECONDS]]);
  });

  it("gives a task that traps SIGTERM the grace period: its trap runs and it ends cancelled", async () => {
    const script =
      "trap 'echo got TERM; sleep 2; echo cleaned up; exit 0' TERM; echo ready; while true; do sleep 1; done";
    await deployPipeline(server, pipelineConfig("trapper", [shTask("careful", script)]));
    const runId = await startRun(server, "trapper");
    await waitForTask(server, "trapper", runId, "careful", isRunning, 10_000);
    const logUrl = `${runUrl("trapper", runId)}/tasks/careful/logs`;
    const deadline = Date.now() + 10_000;
    while (!(await server.api("GET", logUrl)).text.includes("ready")) {
      assert.ok(Date.now() < deadline, "the task never printed ready");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const requested = Date.now();
    const response = await server.api("DELETE", runUrl("trapper", runId));
    assert.equal(response.status, 204, response.text);
    const { run, tasks } = await waitForRun(server, "trapper", runId, 10_000);
    const endedIn = Date.now() - requested;
    // The trap's 2 s sleep ran (plus up to 1 s for the loop's sleep to finish), well inside the 30 s grace.
    assert.ok(endedIn >= 1900, `the run ended ${endedIn} ms after the cancel: the trap did not get its time`);
    assert.ok(endedIn < 8000, `the run took ${endedIn} ms to end after the cancel`);
    assert.equal(run.status, "cancelled");
    assert.equal(tasks.careful.status, "cancelled");
    assert.equal(tasks.careful.status_reason.reason, "cancelled");
    assert.equal(tasks.careful.exit_code, 0, "the trap's own exit, not a kill");
    const log = await server.api("GET", logUrl);
    assert.equal(log.text, "ready\ngot TERM\ncleaned up\n");
    assert.deepEqual(await announcedGraces(server, "trapper", runId), [["careful", DEFAULT_GRACE_SECONDS]]);
  });
});
