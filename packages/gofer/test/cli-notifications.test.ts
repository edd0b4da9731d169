/**
 * `gofer notification …` as a user runs it, against a real server and a webhook receiver on 127.0.0.1: create
 * (URL from stdin, secret printed once), list, get, deliveries with each attempt's answer, test, disable, enable
 * and delete, for a pipeline and for a namespace; `--output json` on each; the URL's secret part never printed.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { assertExit, assertOk, goferAgainst, parseJson } from "./support/cli.ts";
import { deployPipeline, pipelineConfig, shTask, startRun, waitForRun } from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";
import { waitFor } from "./support/wait-for.ts";
import { type Receiver, startReceiver, verifySignature } from "./support/webhook-receiver.ts";

const URL_TOKEN = "T0000/B0000/cli-url-token";

// biome-ignore lint/suspicious/noExplicitAny: JSON as printed
type Json = any;

describe("gofer notification", { timeout: 180_000 }, () => {
  let server: TestServer;
  let gofer: ReturnType<typeof goferAgainst>;
  let hooks: Receiver;

  /** Runs the command; fails on a non-zero exit or on the URL's secret part in anything it printed. */
  const ok = async (args: string[], input?: string) => {
    const result = assertOk(await gofer(args, input === undefined ? {} : { input }));
    assert.ok(!result.stdout.includes(URL_TOKEN) && !result.stderr.includes(URL_TOKEN), result.stdout);
    return result;
  };

  before(async () => {
    server = await startTestServer({
      GOFER_WEB_NOTIFICATIONS__RETRY_BACKOFF: "100ms",
      GOFER_WEB_NOTIFICATIONS__MAX_ATTEMPTS: "2",
    });
    gofer = goferAgainst(server);
    hooks = await startReceiver((index) =>
      index === 0 ? { status: 503, body: "warming up" } : { status: 200, body: "ok" },
    );
    await deployPipeline(server, pipelineConfig("app", [shTask("build", "exit 4")]));
  });
  after(async () => {
    await hooks?.close();
    await server?.stop();
  });

  it("creates a pipeline's target from stdin, prints the secret once, and lists what was delivered", async () => {
    const created = await ok(
      [
        "notification",
        "create",
        "-",
        "--pipeline",
        "app",
        "--event",
        "run_failed",
        "--description",
        "ci alerts",
      ],
      `${hooks.url}/hooks/${URL_TOKEN}\n`,
    );
    const made =
      /Notification target (\S+) created for pipeline app \(namespace default\): json to (\S+) on run_failed/.exec(
        created.stdout,
      );
    assert.ok(made, created.stdout);
    const [, id = "", origin] = made;
    assert.equal(origin, hooks.url);
    const secret = /signing secret: (\S+)/.exec(created.stdout)?.[1];
    assert.ok(secret, created.stdout);

    const listed = await ok(["notification", "list", "--pipeline", "app"]);
    assert.match(
      listed.stdout,
      new RegExp(`${id}\\s+${hooks.url.replaceAll(".", "\\.")}\\s+json\\s+run_failed\\s+enabled\\s+0`),
    );
    assert.ok(!listed.stdout.includes(secret));
    const listedJson = parseJson(
      await ok(["notification", "list", "--pipeline", "app", "--output", "json"]),
    ) as Json[];
    assert.deepEqual(
      listedJson.map((n) => [n.notification_id, n.url_origin, n.signed]),
      [[id, hooks.url, true]],
    );
    const got = await ok(["notification", "get", id, "--pipeline", "app"]);
    assert.match(got.stdout, /url:\s+http:\/\/127\.0\.0\.1:\d+\/… \(the rest is kept encrypted\)/);
    assert.match(got.stdout, /signed:\s+yes/);
    assert.match(got.stdout, /description:\s+ci alerts/);
    assert.ok(!got.stdout.includes(secret));

    const runId = await startRun(server, "app");
    await waitForRun(server, "app", runId);
    const requests = await hooks.waitForRequests(2);
    for (const request of requests) assert.deepEqual(verifySignature(secret, request), { ok: true });
    const deliveries = await waitFor("the delivery to succeed", 30_000, async () => {
      const printed = parseJson(
        await ok(["notification", "deliveries", id, "--pipeline", "app", "--output", "json"]),
      ) as Json[];
      return printed[0]?.state === "succeeded" ? printed : undefined;
    });
    assert.equal(deliveries.length, 1);
    const table = await ok(["notification", "deliveries", id, "--pipeline", "app"]);
    assert.match(
      table.stdout,
      new RegExp(`run_failed\\s+app run ${runId}\\s+succeeded\\s+2\\s+HTTP 200 \\(\\d+ ms\\)`),
    );
    const detailed = await ok(["notification", "deliveries", id, "--pipeline", "app", "--attempts"]);
    assert.match(
      detailed.stdout,
      /attempt 1 .*: HTTP 503 in \d+ ms - the receiver answered HTTP 503\n\s+warming up/,
    );
    assert.match(detailed.stdout, /attempt 2 .*: HTTP 200 in \d+ ms\n\s+ok/);

    const tested = await ok(["notification", "test", id, "--pipeline", "app"]);
    assert.match(tested.stdout, /event:\s+test/);
    assert.match(tested.stdout, /state:\s+succeeded/);

    const disabled = parseJson(
      await ok(["notification", "disable", id, "--pipeline", "app", "--output", "json"]),
    ) as Json;
    assert.equal(disabled.state, "disabled");
    assert.equal(disabled.state_reason.reason, "disabled_by_user");
    assert.match((await ok(["notification", "enable", id, "--pipeline", "app"])).stdout, /enabled/);
    assert.match((await ok(["notification", "delete", id, "--pipeline", "app"])).stdout, /deleted/);
    const gone = await gofer(["notification", "get", id, "--pipeline", "app"]);
    assertExit(gone, 1);
    assert.match(gone.stderr, /not found \(HTTP 404, NOT_FOUND\)/);
  });

  it("makes a namespace's Slack target, and says when a test delivery fails", async () => {
    const dead = await startReceiver(() => ({ status: 410, body: "this hook was removed" }));
    try {
      const created = parseJson(
        await ok([
          "notification",
          "create",
          `${dead.url}/services/${URL_TOKEN}`,
          "--format",
          "slack",
          "--event",
          "run_successful",
          "--event",
          "run_cancelled",
          "--output",
          "json",
        ]),
      ) as Json;
      assert.equal(created.secret, null);
      assert.equal(created.notification.pipeline_id, null);
      assert.deepEqual(created.notification.events, ["run_successful", "run_cancelled"]);
      const listed = await ok(["notification", "list"]);
      assert.match(listed.stdout, /slack\s+run_successful, run_cancelled\s+enabled/);

      const tested = await gofer(["notification", "test", created.notification.notification_id]);
      assertExit(tested, 1);
      assert.match(tested.stdout, /state:\s+failed/);
      assert.match(
        tested.stdout,
        /HTTP 410 in \d+ ms - the receiver answered HTTP 410, which is not retried/,
      );
      assert.match(tested.stdout, /this hook was removed/);
      assert.equal(
        JSON.parse(dead.received[0]?.body ?? "{}").text.startsWith(":bell: Test notification"),
        true,
      );
    } finally {
      await dead.close();
    }
  });

  it("refuses an unknown event before calling the server, and passes the server's refusals on", async () => {
    const unknown = await gofer([
      "notification",
      "create",
      "https://example.com/hook",
      "--event",
      "run_started",
    ]);
    assertExit(unknown, 2);
    assert.match(
      unknown.stderr,
      /expected one of run_successful, run_failed, run_cancelled, task_failed, got "run_started"/,
    );
    const badUrl = await gofer(["notification", "create", "ftp://example.com/hook", "--event", "run_failed"]);
    assertExit(badUrl, 1);
    assert.match(badUrl.stderr, /must be http or https, not ftp \(HTTP 400, BAD_REQUEST\)/);
  });
});
