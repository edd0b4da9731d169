/**
 * pull_request_with_check end to end: a signed pull_request delivery starts a run, a check run is created on the
 * head commit as the GitHub App, and the run's end completes it. Gofer and GitHub are fakes on loopback; the
 * fake GitHub verifies the App's JWT with the App's public key and the installation token on every call.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { encodePendingCheck, pendingCheckKey } from "../src/pending-checks.ts";
import { APP_ID, type Harness, startHarness, WEB_URL } from "./support/app-harness.ts";
import type { CheckRun } from "./support/fake-github.ts";
import type { StartedRun } from "./support/fake-gofer.ts";
import { waitFor } from "./support/wait-for.ts";

const sha = (digit: string) => digit.repeat(40);
const TOKENS = /^\/app\/installations\/678\/access_tokens$/;
const CHECK_RUNS = /^\/repos\/Octo-Org\/app\/check-runs$/;

function startedRun(harness: Harness, pipeline: string, count: number): Promise<StartedRun> {
  return waitFor(`run ${count} of ${pipeline}`, () =>
    harness.gofer.started.filter((run) => run.pipelineId === pipeline).at(count - 1),
  );
}

function checkRunFor(harness: Harness, run: StartedRun): Promise<CheckRun> {
  const externalId = `${run.namespaceId}/${run.pipelineId}/${run.runId}`;
  return waitFor(`the check run of ${externalId}`, () =>
    [...harness.github.checkRuns.values()].find((checkRun) => checkRun.external_id === externalId),
  );
}

function completion(checkRun: CheckRun): Promise<string> {
  return waitFor(`check run ${checkRun.id} completed`, () =>
    checkRun.status === "completed" ? checkRun.conclusion : undefined,
  );
}

describe("pull_request_with_check, run results from the event stream", () => {
  let harness: Harness;

  before(async () => {
    // Polling is slowed to a minute, so a completion seen within the test came from the event stream.
    harness = await startHarness({ runPollIntervalMs: 60_000, githubRetryDelaysMs: [5, 5] });
    assert.equal(
      await harness.subscribe("pr-checks", "pr-check", {
        repository: "octo-org/app",
        event_filter: "pull_request_with_check/opened,synchronize",
      }),
      204,
    );
    assert.equal(
      await harness.subscribe("pr-plain", "pr-plain", { repository: "octo-org/app", events: "pull_request" }),
      204,
    );
  });

  after(() => harness.stop());

  it("creates an in-progress check run on the head commit when the run starts, as the App", async () => {
    assert.equal(await harness.deliverPullRequest("pr-1", "opened", sha("a")), 204);
    const run = await startedRun(harness, "pr-checks", 1);
    assert.equal(run.variables.GOFER_EXTENSION_GITHUB_EVENT, "pull_request");
    assert.equal(run.variables.GOFER_EXTENSION_GITHUB_ACTION, "opened");
    assert.equal(run.variables.GOFER_EXTENSION_GITHUB_REPOSITORY, "Octo-Org/App");
    assert.equal(run.variables.GOFER_EXTENSION_GITHUB_PULLREQUEST_HEAD_SHA, sha("a"));
    assert.equal(run.variables.GOFER_EXTENSION_GITHUB_PULLREQUEST_BRANCH, "feature/readme");
    assert.equal(run.variables.GOFER_EXTENSION_GITHUB_PULLREQUEST_AUTHOR_USERNAME, "hubot");

    const checkRun = await checkRunFor(harness, run);
    assert.equal(checkRun.name, "pr-check");
    assert.equal(checkRun.head_sha, sha("a"));
    assert.equal(checkRun.status, "in_progress");
    assert.equal(checkRun.details_url, `${WEB_URL}/namespaces/default/pipelines/pr-checks/runs/${run.runId}`);
    assert.equal(checkRun.output?.title, `Run #${run.runId} | Namespace: default | Pipeline: pr-checks`);
    assert.ok(checkRun.started_at && !Number.isNaN(Date.parse(checkRun.started_at)));

    const tokenCalls = harness.github.callsTo("POST", TOKENS);
    assert.equal(tokenCalls.length, 1);
    assert.equal(tokenCalls[0]?.status, 201, tokenCalls[0]?.refusal);
    const created = harness.github.callsTo("POST", CHECK_RUNS);
    assert.deepEqual(
      created.map((call) => call.status),
      [201],
    );
    assert.match(created[0]?.authorization ?? "", /^token ghs_/);
    const pendingKey = pendingCheckKey(run);
    await waitFor("the pending check run stored", () => harness.gofer.objects.has(pendingKey));

    // The plain pull_request subscription started its run too, without a check run.
    const plain = await startedRun(harness, "pr-plain", 1);
    assert.equal(
      [...harness.github.checkRuns.values()].some((c) => c.external_id?.includes(`/pr-plain/`)),
      false,
      `no check run for ${plain.pipelineId}`,
    );

    await waitFor("the event stream", () => harness.gofer.openStreams > 0);
    harness.gofer.completeRun(run, "successful");
    assert.equal(await completion(checkRun), "success");
    assert.ok(checkRun.completed_at);
    assert.match(checkRun.output?.summary ?? "", /\*\*Status\*\*: `successful`/);
    assert.match(checkRun.output?.summary ?? "", /\*\*Duration\*\*: 1 min 5 s/);
    await waitFor("the pending check run removed", () => !harness.gofer.objects.has(pendingKey));
    // Nothing is watched any more, so the stream is closed until the next check run.
    await waitFor("the event stream closed", () => harness.gofer.openStreams === 0);
  });

  it("reports a failed run as failure, reusing the cached installation token", async () => {
    assert.equal(await harness.deliverPullRequest("pr-2", "synchronize", sha("b")), 204);
    const run = await startedRun(harness, "pr-checks", 2);
    const checkRun = await checkRunFor(harness, run);
    assert.equal(checkRun.head_sha, sha("b"));
    await waitFor("the event stream", () => harness.gofer.openStreams > 0);
    harness.gofer.completeRun(run, "failed");
    assert.equal(await completion(checkRun), "failure");
    assert.equal(harness.github.callsTo("POST", TOKENS).length, 1);
    const tokens = new Set(
      harness.github.calls.filter((call) => call.path.includes("/check-runs")).map((c) => c.authorization),
    );
    assert.equal(tokens.size, 1);
  });

  it("reports a cancelled run as cancelled", async () => {
    assert.equal(await harness.deliverPullRequest("pr-3", "synchronize", sha("c")), 204);
    const run = await startedRun(harness, "pr-checks", 3);
    const checkRun = await checkRunFor(harness, run);
    await waitFor("the event stream", () => harness.gofer.openStreams > 0);
    harness.gofer.completeRun(run, "cancelled");
    assert.equal(await completion(checkRun), "cancelled");
  });

  it("reports a run that ended before its check run existed", async () => {
    harness.gofer.completeOnStart = "successful";
    try {
      assert.equal(await harness.deliverPullRequest("pr-4", "synchronize", sha("d")), 204);
      const run = await startedRun(harness, "pr-checks", 4);
      assert.equal(await completion(await checkRunFor(harness, run)), "success");
    } finally {
      harness.gofer.completeOnStart = undefined;
    }
  });

  it("starts nothing for an action outside the filter", async () => {
    const runs = harness.gofer.started.length;
    const checkRuns = harness.github.checkRuns.size;
    assert.equal(await harness.deliverPullRequest("pr-5", "closed", sha("e")), 204);
    // The plain subscription takes every action; the check subscription does not take "closed".
    await startedRun(harness, "pr-plain", 5);
    assert.equal(harness.gofer.started.length, runs + 1);
    assert.equal(harness.github.checkRuns.size, checkRuns);
  });

  it("retries GitHub's server errors, and starts the run when GitHub stays down", async () => {
    harness.github.failNext("POST", CHECK_RUNS, 502);
    assert.equal(await harness.deliverPullRequest("pr-6", "synchronize", sha("f")), 204);
    const retried = await startedRun(harness, "pr-checks", 5);
    const checkRun = await checkRunFor(harness, retried);
    assert.equal(checkRun.status, "in_progress");
    await waitFor("the event stream", () => harness.gofer.openStreams > 0);
    harness.gofer.completeRun(retried, "successful");
    assert.equal(await completion(checkRun), "success");

    const before = harness.github.callsTo("POST", CHECK_RUNS).length;
    for (let i = 0; i < 3; i++) harness.github.failNext("POST", CHECK_RUNS, 500);
    assert.equal(await harness.deliverPullRequest("pr-7", "synchronize", sha("1")), 204);
    const run = await startedRun(harness, "pr-checks", 6);
    await waitFor("three attempts", () => harness.github.callsTo("POST", CHECK_RUNS).length === before + 3);
    // The report gives up; the extension keeps no watch and no stored check for the run.
    await waitFor("the report given up", async () => {
      const info = await harness.call("GET", "/api/debug");
      return /GitHub App 12345: 0 check run\(s\) in progress, 0 run\(s\) watched/.test(
        String(info.json?.info),
      );
    });
    assert.equal(harness.gofer.objects.has(pendingCheckKey(run)), false);
    assert.equal(
      [...harness.github.checkRuns.values()].some((c) => c.external_id === `default/pr-checks/${run.runId}`),
      false,
    );
  });

  it("replaces an installation token GitHub no longer accepts", async () => {
    harness.github.tokens.clear();
    assert.equal(await harness.deliverPullRequest("pr-8", "synchronize", sha("2")), 204);
    const run = await startedRun(harness, "pr-checks", 7);
    const checkRun = await checkRunFor(harness, run);
    const tokenCalls = harness.github.callsTo("POST", TOKENS);
    assert.equal(tokenCalls.length, 2);
    assert.equal(tokenCalls[1]?.status, 201, tokenCalls[1]?.refusal);
    await waitFor("the event stream", () => harness.gofer.openStreams > 0);
    harness.gofer.completeRun(run, "successful");
    assert.equal(await completion(checkRun), "success");
  });

  it("says in its debug text which App it reports as", async () => {
    const info = await harness.call("GET", "/api/debug");
    assert.match(String(info.json?.info), new RegExp(`GitHub App ${APP_ID}: `));
    assert.match(String(info.json?.info), /installation token\(s\) requested/);
  });
});

describe("pull_request_with_check without the event stream, and across restarts", () => {
  let harness: Harness;
  const leftBehind: StartedRun = {
    namespaceId: "default",
    pipelineId: "pr-checks",
    runId: 90,
    variables: {},
  };
  let leftCheckRunId = 0;

  before(async () => {
    harness = await startHarness({
      runPollIntervalMs: 50,
      githubRetryDelaysMs: [5, 5],
      beforeStart(gofer, github) {
        // What a previous start left: a check run in progress for a run that has since failed.
        gofer.refuseEvents = true;
        gofer.addRun(leftBehind, "failed");
        leftCheckRunId = github.seedCheckRun({
          owner: "Octo-Org",
          repo: "app",
          name: "pr-check",
          head_sha: sha("9"),
          status: "in_progress",
        });
        gofer.objects.set(
          pendingCheckKey(leftBehind),
          encodePendingCheck({
            ...leftBehind,
            subscriptionId: "pr-check",
            repository: { owner: "Octo-Org", repo: "app" },
            headSha: sha("9"),
            checkRunId: leftCheckRunId,
          }),
        );
      },
    });
    assert.equal(
      await harness.subscribe("pr-checks", "pr-check", {
        repository: "octo-org/app",
        events: "pull_request_with_check:opened|synchronize",
      }),
      204,
    );
  });

  after(() => harness.stop());

  it("completes the check runs a previous start left in progress", async () => {
    const checkRun = harness.github.checkRuns.get(leftCheckRunId);
    assert.ok(checkRun);
    assert.equal(await completion(checkRun), "failure");
    await waitFor("the pending check run removed", () => harness.gofer.objects.size === 0);
  });

  it("learns a run's result by polling when the event stream is refused", async () => {
    assert.equal(await harness.deliverPullRequest("poll-1", "opened", sha("3")), 204);
    const run = await startedRun(harness, "pr-checks", 1);
    const checkRun = await checkRunFor(harness, run);
    harness.gofer.completeRun(run, "cancelled", false);
    assert.equal(await completion(checkRun), "cancelled");
    assert.equal(harness.gofer.streamsOpened, 0);
  });

  it("completes the check run neutral when the run is deleted", async () => {
    assert.equal(await harness.deliverPullRequest("poll-2", "synchronize", sha("4")), 204);
    const run = await startedRun(harness, "pr-checks", 2);
    const checkRun = await checkRunFor(harness, run);
    harness.gofer.deleteRun(run);
    assert.equal(await completion(checkRun), "neutral");
    assert.match(checkRun.output?.summary ?? "", /no longer exists/);
  });

  it("keeps a check run still waiting at shutdown, and completes it after the restart", async () => {
    assert.equal(await harness.deliverPullRequest("poll-3", "synchronize", sha("5")), 204);
    const run = await startedRun(harness, "pr-checks", 3);
    const checkRun = await checkRunFor(harness, run);
    await waitFor("the pending check run stored", () => harness.gofer.objects.has(pendingCheckKey(run)));
    await harness.extension.close();
    assert.equal(checkRun.status, "in_progress");
    assert.equal(harness.gofer.objects.has(pendingCheckKey(run)), true);

    harness.gofer.completeRun(run, "successful", false);
    await harness.restart();
    assert.equal(await completion(checkRun), "success");
    await waitFor("the pending check run removed", () => !harness.gofer.objects.has(pendingCheckKey(run)));
  });
});
