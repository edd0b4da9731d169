import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { resolveConcurrencyGroup } from "../src/domain/concurrency-group.ts";
import { GoferError } from "../src/domain/errors.ts";
import { admitRuns, type PendingRun } from "../src/orchestrator/run-admission.ts";
import {
  deployPipeline,
  getRun,
  pipelineConfig,
  shTask,
  startRun,
  waitForRun,
  waitForTask,
} from "./support/pipelines.ts";
import { type StoredEvent, storedEvents } from "./support/stored-events.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

/** `sleep $SLEEP`: each run says how long its task takes through the run variable SLEEP (default 1 s). */
const sleeper = () => shTask("work", `sleep "\${SLEEP:-1}"`);

function groupPipeline(
  id: string,
  concurrency: { group: string; cancel_in_progress?: boolean },
  parallelism = 10,
) {
  return { ...pipelineConfig(id, [sleeper()], parallelism), concurrency };
}

/** Starts a run and returns it as the POST answered, timing the request. */
async function postRun(
  server: TestServer,
  pipelineId: string,
  variables: Record<string, string>,
  // biome-ignore lint/suspicious/noExplicitAny: run JSON as served
): Promise<{ run: any; ms: number }> {
  const sent = Date.now();
  const response = await server.api("POST", `/api/namespaces/default/pipelines/${pipelineId}/runs`, {
    variables,
  });
  assert.equal(response.status, 201, response.text);
  return { run: response.json.run, ms: Date.now() - sent };
}

type RunRef = [pipelineId: string, runId: number];

/** Waits for every run, checks each succeeded, and that each started only after the one before it ended. */
async function assertOneAtATime(server: TestServer, runs: RunRef[]): Promise<void> {
  let previous: { ended: number; name: string } | undefined;
  for (const [pipelineId, runId] of runs) {
    const { run } = await waitForRun(server, pipelineId, runId, 30_000);
    const name = `${pipelineId} run ${runId}`;
    assert.equal(run.status, "successful", name);
    if (previous)
      assert.ok(
        run.started >= previous.ended,
        `${name} started at ${run.started}, before ${previous.name} ended at ${previous.ended}`,
      );
    previous = { ended: run.ended, name };
  }
}

const overlap = (a: { started: number; ended: number }, b: { started: number; ended: number }) =>
  a.started < b.ended && b.started < a.ended;

function runEvents(events: StoredEvent[], kind: string, pipelineId: string, runId: number): unknown[] {
  return events.flatMap((event) => {
    const details = event.kind[kind];
    return details?.pipeline_id === pipelineId && details.run_id === runId ? [details] : [];
  });
}

describe("concurrency group templates", () => {
  it(`replaces \${NAME} by the run variable NAME and keeps everything else`, () => {
    assert.equal(resolveConcurrencyGroup(`deploy-\${BRANCH}`, { BRANCH: "main" }), "deploy-main");
    assert.equal(resolveConcurrencyGroup(`\${A}/\${B}/\${A}`, { A: "x", B: "y" }), "x/y/x");
    assert.equal(resolveConcurrencyGroup("cost $5 {x}", {}), "cost $5 {x}");
    assert.equal(resolveConcurrencyGroup(`deploy-\${BRANCH}`, { BRANCH: "" }), "deploy-");
  });

  it("refuses a run without a variable the template names, naming each missing one", () => {
    assert.throws(
      () => resolveConcurrencyGroup(`deploy-\${ENV}-\${BRANCH}`, { ENV: "prod" }),
      (error: unknown) =>
        error instanceof GoferError &&
        error.code === "BAD_REQUEST" &&
        error.message.includes("BRANCH") &&
        !error.message.includes("variables ENV"),
    );
  });
});

describe("admission with concurrency groups", () => {
  const limits = { perPipelineDefault: 10, global: 100 };
  const run = (pipeline: string, runId: number, group: string | null, parallelism = 10): PendingRun => ({
    namespace_id: "ns",
    pipeline_id: pipeline,
    run_id: runId,
    parallelism,
    concurrency_group: group,
  });
  const ids = (runs: PendingRun[]) => runs.map((admitted) => `${admitted.pipeline_id}#${admitted.run_id}`);
  const idle = { global: 0, byPipeline: new Map<string, number>(), byGroup: new Map<string, number>() };

  it("admits only the oldest pending run of a group, and none while one of the group runs", () => {
    const pending = [run("p", 1, "g"), run("p", 2, "g"), run("q", 1, "g"), run("p", 3, "h")];
    assert.deepEqual(ids(admitRuns(pending, idle, limits)), ["p#1", "p#3"]);
    const busy = { ...idle, global: 1, byPipeline: new Map([["ns/p", 1]]), byGroup: new Map([["ns/g", 1]]) };
    assert.deepEqual(ids(admitRuns(pending, busy, limits)), ["p#3"]);
  });

  it("keeps a group's order when its oldest run waits for its pipeline's limit", () => {
    const pending = [run("p", 2, "g", 1), run("q", 1, "g")];
    const pBusy = { ...idle, global: 1, byPipeline: new Map([["ns/p", 1]]) };
    assert.deepEqual(ids(admitRuns(pending, pBusy, limits)), []);
  });

  it("scopes groups to the namespace", () => {
    const other = { ...run("p", 1, "g"), namespace_id: "other" };
    assert.deepEqual(ids(admitRuns([run("p", 1, "g"), other], idle, limits)), ["p#1", "p#1"]);
  });
});

describe("concurrency groups on a real engine", () => {
  let server: TestServer;
  before(async () => {
    // `sleep` as PID 1 ignores SIGTERM: a short grace period keeps superseding quick.
    server = await startTestServer({ GOFER_WEB_API__TASK_EXECUTION_STOP_TIMEOUT: "1" });
  });
  after(async () => {
    await server.stop();
  });

  it("runs a group one run at a time, in order of arrival, and serves the resolved group", async () => {
    await deployPipeline(server, groupPipeline("grp-serial", { group: `deploy-\${BRANCH}` }));
    const posted = [];
    for (let i = 0; i < 3; i++) posted.push(await postRun(server, "grp-serial", { BRANCH: "main" }));
    for (const { run, ms } of posted) {
      assert.ok(ms < 1000, `POST of run ${run.run_id} took ${ms} ms`);
      assert.equal(run.concurrency_group, "deploy-main");
    }
    assert.equal((await getRun(server, "grp-serial", 3)).state, "pending");
    assert.equal((await getRun(server, "grp-serial", 3)).concurrency_group, "deploy-main");
    await assertOneAtATime(server, [
      ["grp-serial", 1],
      ["grp-serial", 2],
      ["grp-serial", 3],
    ]);
  });

  it("runs different groups side by side", async () => {
    await deployPipeline(server, groupPipeline("grp-parallel", { group: `deploy-\${BRANCH}` }));
    const a = await startRun(server, "grp-parallel", { BRANCH: "a", SLEEP: "2" });
    const b = await startRun(server, "grp-parallel", { BRANCH: "b", SLEEP: "2" });
    const runA = (await waitForRun(server, "grp-parallel", a, 30_000)).run;
    const runB = (await waitForRun(server, "grp-parallel", b, 30_000)).run;
    assert.equal(runA.status, "successful");
    assert.equal(runB.status, "successful");
    assert.ok(overlap(runA, runB), "runs of different groups overlapped");
  });

  it("shares a group between the pipelines of a namespace", async () => {
    await deployPipeline(server, groupPipeline("grp-share-a", { group: "release" }));
    await deployPipeline(server, groupPipeline("grp-share-b", { group: "release" }));
    const a = await startRun(server, "grp-share-a");
    const b = await startRun(server, "grp-share-b");
    const a2 = await startRun(server, "grp-share-a");
    await assertOneAtATime(server, [
      ["grp-share-a", a],
      ["grp-share-b", b],
      ["grp-share-a", a2],
    ]);
  });

  it("still holds the pipeline's parallelism for runs of different groups", async () => {
    await deployPipeline(server, groupPipeline("grp-limited", { group: `deploy-\${BRANCH}` }, 1));
    const a = await startRun(server, "grp-limited", { BRANCH: "a" });
    const b = await startRun(server, "grp-limited", { BRANCH: "b" });
    assert.equal((await getRun(server, "grp-limited", b)).state, "pending");
    await assertOneAtATime(server, [
      ["grp-limited", a],
      ["grp-limited", b],
    ]);
  });

  it("lets a run waiting for its group not hold back its pipeline's runs in other groups", async () => {
    await deployPipeline(server, groupPipeline("grp-skip", { group: `deploy-\${BRANCH}` }));
    const first = await startRun(server, "grp-skip", { BRANCH: "a", SLEEP: "3" });
    const waiting = await startRun(server, "grp-skip", { BRANCH: "a" });
    const other = await startRun(server, "grp-skip", { BRANCH: "b" });
    const otherRun = (await waitForRun(server, "grp-skip", other, 30_000)).run;
    const firstRun = (await waitForRun(server, "grp-skip", first, 30_000)).run;
    assert.ok(otherRun.started < firstRun.ended, "group b ran while group a was busy");
    await assertOneAtATime(server, [
      ["grp-skip", first],
      ["grp-skip", waiting],
    ]);
  });

  it("with cancel_in_progress, a new run supersedes the older running and queued runs of its group", async () => {
    // Two pipelines share the group; only the second cancels in progress, so the first queues behind itself.
    await deployPipeline(server, groupPipeline("grp-queue", { group: `env-\${ENV}` }));
    await deployPipeline(
      server,
      groupPipeline("grp-cancel", { group: `env-\${ENV}`, cancel_in_progress: true }),
    );
    const running = await startRun(server, "grp-queue", { ENV: "prod", SLEEP: "60" });
    const queued = await startRun(server, "grp-queue", { ENV: "prod", SLEEP: "60" });
    const elsewhere = await startRun(server, "grp-queue", { ENV: "staging" });
    await waitForTask(server, "grp-queue", running, "work", (task) => task.state === "running");
    assert.equal((await getRun(server, "grp-queue", queued)).state, "pending");

    const { run: newest, ms } = await postRun(server, "grp-cancel", { ENV: "prod", SLEEP: "0" });
    assert.ok(ms < 1000, `the superseding POST took ${ms} ms`);
    const description = `Superseded by run ${newest.run_id} of grp-cancel`;
    for (const runId of [running, queued]) {
      const { run, tasks } = await waitForRun(server, "grp-queue", runId, 15_000);
      assert.equal(run.status, "cancelled", `run ${runId}`);
      assert.deepEqual(run.status_reason, { reason: "superseded", description }, `run ${runId}`);
      assert.equal(tasks.work.status, "cancelled");
    }
    const newestDone = await waitForRun(server, "grp-cancel", newest.run_id, 15_000);
    assert.equal(newestDone.run.status, "successful");
    const runningDone = await getRun(server, "grp-queue", running);
    assert.ok(
      newestDone.run.started >= runningDone.ended,
      "the new run waited for the superseded one to stop",
    );
    // Another group is untouched.
    assert.equal((await waitForRun(server, "grp-queue", elsewhere, 15_000)).run.status, "successful");

    const events = await storedEvents(server);
    assert.equal(runEvents(events, "started_run_cancellation", "grp-queue", running).length, 1);
    assert.equal(runEvents(events, "started_run_cancellation", "grp-queue", queued).length, 1);
    assert.equal(
      runEvents(events, "started_run", "grp-queue", queued).length,
      0,
      "the queued run never started",
    );
  });

  it("with cancel_in_progress, each new run of one pipeline supersedes the one before", async () => {
    await deployPipeline(server, groupPipeline("grp-latest", { group: "latest", cancel_in_progress: true }));
    const first = await startRun(server, "grp-latest", { SLEEP: "60" });
    await waitForTask(server, "grp-latest", first, "work", (task) => task.state === "running");
    const second = await startRun(server, "grp-latest", { SLEEP: "60" });
    const third = await startRun(server, "grp-latest", { SLEEP: "0" });
    const firstRun = (await waitForRun(server, "grp-latest", first, 15_000)).run;
    const secondRun = (await waitForRun(server, "grp-latest", second, 15_000)).run;
    assert.deepEqual(firstRun.status_reason, {
      reason: "superseded",
      description: `Superseded by run ${second} of grp-latest`,
    });
    assert.deepEqual(secondRun.status_reason, {
      reason: "superseded",
      description: `Superseded by run ${third} of grp-latest`,
    });
    assert.equal(secondRun.started, 0, "the second run never started");
    assert.equal((await waitForRun(server, "grp-latest", third, 15_000)).run.status, "successful");
  });

  it("refuses a run without a variable its group needs, with 400 naming it, and keeps nothing", async () => {
    await deployPipeline(server, groupPipeline("grp-missing", { group: `deploy-\${BRANCH}` }));
    const response = await server.api("POST", "/api/namespaces/default/pipelines/grp-missing/runs", {
      variables: { OTHER: "x" },
    });
    assert.equal(response.status, 400, response.text);
    assert.match(response.json.message, /concurrency group "deploy-\$\{BRANCH\}"/);
    assert.match(response.json.message, /BRANCH/);
    const list = await server.api("GET", "/api/namespaces/default/pipelines/grp-missing/runs");
    assert.deepEqual(list.json.runs, []);
    assert.equal(await startRun(server, "grp-missing", { BRANCH: "main", SLEEP: "0" }), 1);
    // Finished before the server stops, which would otherwise leave its container for a next boot to adopt.
    assert.equal((await waitForRun(server, "grp-missing", 1, 30_000)).run.status, "successful");
  });

  it("leaves runs of pipelines without a group ungrouped", async () => {
    await deployPipeline(server, pipelineConfig("grp-none", [shTask("work", "true")], 1));
    const runId = await startRun(server, "grp-none");
    const { run } = await waitForRun(server, "grp-none", runId, 15_000);
    assert.equal(run.concurrency_group, undefined);
  });
});

describe("concurrency groups across a restart", () => {
  it("keeps a group's order and one run at a time after the server restarts", async () => {
    const server = await startTestServer();
    try {
      await deployPipeline(server, groupPipeline("grp-restart", { group: `deploy-\${BRANCH}` }));
      const first = await startRun(server, "grp-restart", { BRANCH: "main", SLEEP: "2" });
      const second = await startRun(server, "grp-restart", { BRANCH: "main" });
      const third = await startRun(server, "grp-restart", { BRANCH: "main" });
      await waitForTask(server, "grp-restart", first, "work", (task) => task.state === "running");
      await server.restart();
      assert.equal((await getRun(server, "grp-restart", third)).state, "pending");
      await assertOneAtATime(server, [
        ["grp-restart", first],
        ["grp-restart", second],
        ["grp-restart", third],
      ]);
    } finally {
      await server.stop();
    }
  });

  it("ends a superseded run with its reason when the server restarts while it stops", async () => {
    const server = await startTestServer({ GOFER_WEB_API__TASK_EXECUTION_STOP_TIMEOUT: "2" });
    try {
      await deployPipeline(
        server,
        groupPipeline("grp-restart-cancel", { group: "only", cancel_in_progress: true }),
      );
      const first = await startRun(server, "grp-restart-cancel", { SLEEP: "60" });
      await waitForTask(server, "grp-restart-cancel", first, "work", (task) => task.state === "running");
      const second = await startRun(server, "grp-restart-cancel", { SLEEP: "0" });
      await server.restart();
      const firstRun = (await waitForRun(server, "grp-restart-cancel", first, 20_000)).run;
      assert.equal(firstRun.status, "cancelled");
      assert.equal(firstRun.status_reason?.reason, "superseded");
      const secondRun = (await waitForRun(server, "grp-restart-cancel", second, 20_000)).run;
      assert.equal(secondRun.status, "successful");
      assert.ok(secondRun.started >= firstRun.ended);
    } finally {
      await server.stop();
    }
  });
});
