/**
 * The CLI on attempts: `run retry` (a failed run again, in place), `task get` and `task logs --attempt` on a task
 * tried more than once, and `run watch` reporting every attempt's start, end and retry exactly once.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertOk, type Gofer, parseJson, showResult, useCliServer } from "./support/cli.ts";
import { deployPipeline, pipelineConfig, shTask, startRun, waitForRun } from "./support/pipelines.ts";
import type { TestServer } from "./support/test-server.ts";

/** Fails its first attempt only; `child` is skipped then, and runs once `flaky` succeeds. */
const SECOND_TIME = pipelineConfig("second-time", [
  shTask("steady", "echo steady"),
  shTask("flaky", 'echo "attempt $GOFER_TASK_ATTEMPT"; [ "$GOFER_TASK_ATTEMPT" -ge 2 ] || exit 4'),
  shTask("child", "echo child ran", { depends_on: { flaky: "success" } }),
]);

/** Retried by its own policy: fails attempt 1, succeeds attempt 2 after a 200 ms delay. */
const SELF_HEALING = pipelineConfig("self-healing", [
  { ...shTask("flaky", '[ "$GOFER_TASK_ATTEMPT" -ge 2 ] || exit 3'), retries: { limit: 1, delay: "200ms" } },
  shTask("after", "echo after", { depends_on: { flaky: "success" } }),
]);

/** How many lines of `text` match `pattern` in full. */
const countLines = (text: string, pattern: RegExp): number =>
  text.split("\n").filter((line) => pattern.test(line)).length;

describe("gofer CLI: retried runs and task attempts", { timeout: 180_000 }, () => {
  let server: TestServer;
  let gofer: Gofer;
  useCliServer((started, cli) => {
    server = started;
    gofer = cli;
  });

  /** A run of `second-time` that has failed once. */
  async function failedRun(): Promise<number> {
    if ((await server.api("GET", "/api/namespaces/default/pipelines/second-time")).status === 404)
      await deployPipeline(server, SECOND_TIME);
    const runId = await startRun(server, "second-time");
    const { run } = await waitForRun(server, "second-time", runId);
    assert.equal(run.status, "failed");
    return runId;
  }

  it("`run retry` says which tasks run again and that the run is queued; the run then succeeds", async () => {
    const runId = await failedRun();
    const retried = assertOk(await gofer(["run", "retry", "second-time", String(runId)]));
    assert.match(retried.stdout, new RegExp(`Run ${runId} of second-time is queued again \\(retry 1\\)`));
    assert.match(
      retried.stdout,
      /runs again: flaky \(attempt 2, was failed\), child \(attempt 2, was skipped\)/,
    );
    assert.match(retried.stdout, /kept: +1 successful task\n/);
    assert.match(retried.stdout, new RegExp(`gofer run watch second-time ${runId}`));

    const watched = assertOk(await gofer(["run", "watch", "second-time", String(runId)]));
    assert.match(watched.stdout, /flaky: successful \(exit 0\) after .* \(attempt 2\)/);
    assert.match(watched.stdout, /Run \d+ successful/);

    const shown = assertOk(await gofer(["run", "get", "second-time", String(runId)]));
    assert.match(shown.stdout, /^retries: +1$/m);
    assert.match(shown.stdout, /^flaky +complete +successful +\S+ +0 +2$/m, "the task table shows attempts");
    assert.match(shown.stdout, /^steady +complete +successful +\S+ +0 +1$/m);
    const listed = assertOk(await gofer(["run", "list", "second-time"]));
    assert.match(listed.stdout, /RETRIES/);
    assert.match(listed.stdout, new RegExp(`^${runId} +complete +successful .* 1$`, "m"));
  });

  it("`run retry` refuses a successful run with a 409 that says only failed or cancelled runs can be", async () => {
    const runId = await failedRun();
    assertOk(await gofer(["run", "retry", "second-time", String(runId)]));
    await waitForRun(server, "second-time", runId);
    const refused = await gofer(["run", "retry", "second-time", String(runId)]);
    assert.equal(refused.code, 1, showResult(refused));
    assert.equal(refused.stdout, "");
    assert.match(
      refused.stderr,
      new RegExp(`^error: cannot retry run ${runId} of second-time: .*successful`, "m"),
    );
    assert.match(
      refused.stderr,
      /^hint: only a failed or cancelled run can be retried; start a new one with/m,
    );

    const missing = await gofer(["run", "retry", "second-time", "9999"]);
    assert.equal(missing.code, 1, showResult(missing));
    assert.match(missing.stderr, /HTTP 404/);
  });

  it("`run retry --json` prints the run, queued again", async () => {
    const runId = await failedRun();
    const retried = assertOk(await gofer(["run", "retry", "second-time", String(runId), "--json"]));
    const run = parseJson(retried) as { run_id: number; retries: number; state: string };
    assert.equal(run.run_id, runId);
    assert.equal(run.retries, 1);
    assert.notEqual(run.state, "complete");
    await waitForRun(server, "second-time", runId);
  });

  it("`run retry --watch` follows the retried run to its end", async () => {
    const runId = await failedRun();
    const watched = assertOk(await gofer(["run", "retry", "second-time", String(runId), "--watch"]));
    assert.match(watched.stderr, new RegExp(`Retrying run ${runId} of second-time: flaky, child`));
    assert.equal(countLines(watched.stdout, /^ {2}steady: successful \(exit 0\)/), 1, "the kept task, once");
    assert.equal(
      countLines(watched.stdout, /^ {2}flaky: failed \(exit 4\)/),
      1,
      "the first attempt's end, once",
    );
    assert.doesNotMatch(watched.stdout, /retrying in/, "a retried run's new attempts wait for no delay");
    assert.equal(countLines(watched.stdout, /^ {2}flaky: successful \(exit 0\) after \S+ \(attempt 2\)$/), 1);
    assert.equal(countLines(watched.stdout, /^ {2}child: successful \(exit 0\) after \S+ \(attempt 2\)$/), 1);
    assert.match(watched.stdout, new RegExp(`^Run ${runId} successful`, "m"));
  });

  it("`task logs --attempt` reads one attempt's log, the latest without it; `task get` lists the attempts", async () => {
    const runId = await failedRun();
    assertOk(await gofer(["run", "retry", "second-time", String(runId)]));
    await waitForRun(server, "second-time", runId);
    const run = String(runId);

    assert.equal(
      assertOk(await gofer(["task", "logs", "second-time", run, "flaky", "--attempt", "1"])).stdout,
      "attempt 1\n",
    );
    assert.equal(
      assertOk(await gofer(["task", "logs", "second-time", run, "flaky", "--attempt", "2"])).stdout,
      "attempt 2\n",
    );
    assert.equal(assertOk(await gofer(["task", "logs", "second-time", run, "flaky"])).stdout, "attempt 2\n");
    const followed = assertOk(
      await gofer(["task", "logs", "second-time", run, "flaky", "-a", "1", "--follow"]),
    );
    assert.equal(followed.stdout, "attempt 1\n", "a finished attempt's followed log ends at once");
    const beyond = await gofer(["task", "logs", "second-time", run, "flaky", "--attempt", "3"]);
    assert.equal(beyond.code, 1, showResult(beyond));
    assert.match(beyond.stderr, /HTTP 404/);
    const badAttempt = await gofer(["task", "logs", "second-time", run, "flaky", "--attempt", "0"]);
    assert.notEqual(badAttempt.code, 0, showResult(badAttempt));

    const shown = assertOk(await gofer(["task", "get", "second-time", run, "flaky"]));
    assert.match(shown.stdout, /^attempt: +2$/m);
    assert.match(shown.stdout, /^ATTEMPT +STATUS +EXIT +REASON +DURATION$/m);
    assert.match(shown.stdout, /^1 +failed +4 +abnormal_exit +\S+/m);
    assert.match(shown.stdout, /^2 +successful +0 +- +\S+/m);
    const once = assertOk(await gofer(["task", "get", "second-time", run, "steady"]));
    assert.match(once.stdout, /^attempt: +1$/m);
    assert.doesNotMatch(once.stdout, /ATTEMPT/, "no attempts table for a task tried once");
    const json = parseJson(await gofer(["task", "get", "second-time", run, "flaky", "--json"])) as {
      attempt: number;
    };
    assert.equal(json.attempt, 2);
  });

  it("`run watch` prints each attempt's start, end and retry exactly once", async () => {
    await deployPipeline(server, SELF_HEALING);
    const runId = await startRun(server, "self-healing");
    const watched = assertOk(await gofer(["run", "watch", "self-healing", String(runId)]));
    const out = watched.stdout;
    const expected: [RegExp, string][] = [
      [/^Run \d+ of self-healing/, "the header"],
      [/^ {2}flaky: running$/, "attempt 1 starting"],
      [/^ {2}flaky: failed \(exit 3\) after \S+$/, "attempt 1 failing"],
      [/^ {2}flaky: retrying in 200ms \(attempt 2\)$/, "the retry"],
      [/^ {2}flaky: running \(attempt 2\)$/, "attempt 2 starting"],
      [/^ {2}flaky: successful \(exit 0\) after \S+ \(attempt 2\)$/, "attempt 2 succeeding"],
      [/^ {2}after: running$/, "the dependent starting"],
      [/^ {2}after: successful \(exit 0\) after \S+$/, "the dependent succeeding"],
      [/^Run \d+ successful/, "the summary"],
    ];
    for (const [pattern, what] of expected)
      assert.equal(countLines(out, pattern), 1, `${what} once (${pattern})\n${showResult(watched)}`);
    const lines = out.trimEnd().split("\n");
    const position = (pattern: RegExp) => lines.findIndex((line) => pattern.test(line));
    const order = expected.map(([pattern]) => position(pattern));
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
      `in order\n${out}`,
    );
    assert.equal(lines.length, expected.length, `nothing else printed\n${out}`);

    const shown = assertOk(await gofer(["task", "get", "self-healing", String(runId), "flaky"]));
    assert.match(shown.stdout, /^retries: +1 \(200ms ×2, max 5m\)$/m);
    assert.match(shown.stdout, /^1 +failed +3 +abnormal_exit/m);
  });
});
