import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { deployPipeline, getRun, pipelineConfig, shTask, waitForRun } from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

/** A task that keeps its run busy for about a second. */
const busyTask = () => shTask("work", "sleep 1");

/**
 * Starts a run and measures how long the POST took: a queued run must not hold the request, and holding it
 * until the run ahead of it finished would take longer than that run's one-second task.
 */
async function timedStart(server: TestServer, pipelineId: string): Promise<{ runId: number; ms: number }> {
  const sent = Date.now();
  const response = await server.api("POST", `/api/namespaces/default/pipelines/${pipelineId}/runs`, {
    variables: {},
  });
  const ms = Date.now() - sent;
  assert.equal(response.status, 201, response.text);
  return { runId: response.json.run.run_id, ms };
}

type RunRef = [pipelineId: string, runId: number];

/**
 * Samples the states of `runs` until all are complete (bounded), and returns the largest number seen running at
 * once together with every combination of states seen, so a test can check what ran beside what.
 */
async function watchRuns(server: TestServer, runs: RunRef[], timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let maxRunning = 0;
  const snapshots: string[][] = [];
  for (;;) {
    // Read the later runs first: states only move forward, so a run that finishes between two reads can then
    // never be counted as running beside its successor, while a real overlap is still seen.
    const states: string[] = [];
    for (const [pipelineId, runId] of [...runs].reverse())
      states.unshift((await getRun(server, pipelineId, runId)).state);
    snapshots.push(states);
    maxRunning = Math.max(maxRunning, states.filter((state) => state === "running").length);
    if (states.every((state) => state === "complete")) return { maxRunning, snapshots };
    if (Date.now() > deadline)
      throw new Error(`runs did not complete in ${timeoutMs} ms: ${states.join(",")}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Checks that the runs ran one after another, in the order given, and all succeeded. */
async function assertSerialised(server: TestServer, runs: RunRef[]): Promise<void> {
  let previousEnd = 0;
  for (const [pipelineId, runId] of runs) {
    const { run, tasks } = await waitForRun(server, pipelineId, runId, 5000);
    assert.equal(run.status, "successful", `${pipelineId} run ${runId}`);
    assert.ok(
      run.started >= previousEnd,
      `${pipelineId} run ${runId} started at ${run.started}, before the previous run ended at ${previousEnd}`,
    );
    assert.ok(tasks.work.started >= previousEnd);
    previousEnd = run.ended;
  }
}

describe("run queueing on a real engine", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  it("queues runs over the pipeline's parallelism: POSTs answer at once and runs execute in order", async () => {
    await deployPipeline(server, pipelineConfig("serial", [busyTask()], 1));
    const started = [
      await timedStart(server, "serial"),
      await timedStart(server, "serial"),
      await timedStart(server, "serial"),
    ];
    for (const { runId, ms } of started) assert.ok(ms < 1000, `POST of run ${runId} took ${ms} ms`);
    assert.deepEqual(
      started.map(({ runId }) => runId),
      [1, 2, 3],
    );

    const first = await getRun(server, "serial", 1);
    assert.ok(["pending", "running"].includes(first.state), first.state);
    assert.equal((await getRun(server, "serial", 2)).state, "pending");
    assert.equal((await getRun(server, "serial", 3)).state, "pending");

    const runs: RunRef[] = [
      ["serial", 1],
      ["serial", 2],
      ["serial", 3],
    ];
    const { maxRunning, snapshots } = await watchRuns(server, runs);
    assert.equal(maxRunning, 1, "never more than one run of the pipeline at once");
    assert.ok(
      snapshots.some((states) => states.join() === "running,pending,pending"),
      "runs 2 and 3 were seen pending while run 1 ran",
    );
    await assertSerialised(server, runs);
  });

  it("does not let a pipeline at its own limit hold back another pipeline's runs", async () => {
    await deployPipeline(server, pipelineConfig("busy", [shTask("work", "sleep 2")], 1));
    await deployPipeline(server, pipelineConfig("free", [shTask("work", "echo free")], 1));
    const busyFirst = await timedStart(server, "busy");
    const busySecond = await timedStart(server, "busy");
    const free = await timedStart(server, "free");

    const freeDone = await waitForRun(server, "free", free.runId, 10_000);
    assert.equal(freeDone.run.status, "successful");
    const busyDone = await waitForRun(server, "busy", busyFirst.runId, 10_000);
    assert.ok(
      freeDone.run.started < busyDone.run.ended,
      "the free pipeline's run started while the busy pipeline was at its limit",
    );
    await assertSerialised(server, [
      ["busy", busyFirst.runId],
      ["busy", busySecond.runId],
    ]);
  });
});

describe("run queueing under server-wide limits", () => {
  it("applies api.pipeline_run_concurrency_limit to pipelines whose parallelism is 0", async () => {
    const server = await startTestServer({ GOFER_WEB_API__PIPELINE_RUN_CONCURRENCY_LIMIT: "1" });
    try {
      await deployPipeline(server, pipelineConfig("default-limit", [busyTask()], 0));
      const started = [await timedStart(server, "default-limit"), await timedStart(server, "default-limit")];
      for (const { runId, ms } of started) assert.ok(ms < 1000, `POST of run ${runId} took ${ms} ms`);
      assert.equal((await getRun(server, "default-limit", 2)).state, "pending");
      const runs: RunRef[] = [
        ["default-limit", 1],
        ["default-limit", 2],
      ];
      const { maxRunning } = await watchRuns(server, runs);
      assert.equal(maxRunning, 1, "parallelism 0 means the server default (1 here), not unlimited");
      await assertSerialised(server, runs);
    } finally {
      await server.stop();
    }
  });

  it("applies api.global_run_concurrency_limit across pipelines", async () => {
    const server = await startTestServer({ GOFER_WEB_API__GLOBAL_RUN_CONCURRENCY_LIMIT: "1" });
    try {
      await deployPipeline(server, pipelineConfig("global-a", [busyTask()], 0));
      await deployPipeline(server, pipelineConfig("global-b", [busyTask()], 0));
      const a = await timedStart(server, "global-a");
      const b = await timedStart(server, "global-b");
      assert.ok(a.ms < 1000 && b.ms < 1000, `POSTs took ${a.ms} and ${b.ms} ms`);
      assert.equal((await getRun(server, "global-b", b.runId)).state, "pending");
      const runs: RunRef[] = [
        ["global-a", a.runId],
        ["global-b", b.runId],
      ];
      const { maxRunning, snapshots } = await watchRuns(server, runs);
      assert.equal(maxRunning, 1, "never more than one run on the server at once");
      assert.ok(snapshots.some((states) => states.join() === "running,pending"));
      await assertSerialised(server, runs);
    } finally {
      await server.stop();
    }
  });
});
