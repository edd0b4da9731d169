/**
 * Run notifications end to end: a real server, real busybox runs on Docker, and webhook receivers on 127.0.0.1
 * that check Gofer's signature the way a receiver would. Signed JSON and Slack deliveries with what they say;
 * retries of a receiver that fails and recovers, each answer recorded; a 4xx not retried; a target that keeps
 * failing disabled with its reason; test deliveries; bad input refused with the v0 envelope; a delivery cut off
 * by a stop resumed at the next start, and an event whose deliveries were never made caught up on; the URLs and
 * secrets re-encrypted by a key rotation, and never shown back. The same deliveries from a server on PostgreSQL,
 * where the replica holding the work lease sends them.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import { rotateSecretKey } from "../src/secrets/rotate-key.ts";
import { openDatabase } from "../src/storage/database.ts";
import { freePort } from "./support/free-port.ts";
import { deployPipeline, pipelineConfig, shTask, startRun, waitForRun } from "./support/pipelines.ts";
import { type PrivatePostgres, startPrivatePostgres } from "./support/private-postgres.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";
import { waitFor } from "./support/wait-for.ts";
import { type Receiver, startReceiver, verifySignature } from "./support/webhook-receiver.ts";

/** Quick retries, so a receiver failing three times is given up on in well under a second. */
const SETTINGS = {
  GOFER_WEB_NOTIFICATIONS__RETRY_BACKOFF: "100ms",
  GOFER_WEB_NOTIFICATIONS__MAX_ATTEMPTS: "3",
  GOFER_WEB_NOTIFICATIONS__DISABLE_AFTER: "3",
  GOFER_WEB_NOTIFICATIONS__TIMEOUT: "3s",
};
/** The part of a webhook URL that is a secret, as in Slack's: it must never come back. */
const URL_TOKEN = "T0000/B0000/hush-hush-url-token";

const pipelinePath = (pipeline: string, namespace = "default") =>
  `/api/namespaces/${namespace}/pipelines/${pipeline}`;

// biome-ignore lint/suspicious/noExplicitAny: JSON as served
type Json = any;

describe("run notifications", { timeout: 300_000 }, () => {
  let server: TestServer;
  const receivers: Receiver[] = [];

  const receiver = async (...args: Parameters<typeof startReceiver>) => {
    const started = await startReceiver(...args);
    receivers.push(started);
    return started;
  };

  const createTarget = async (owner: string, body: Record<string, unknown>): Promise<Json> => {
    const created = await server.api("POST", `${owner}/notifications`, body);
    assert.equal(created.status, 201, created.text);
    assert.ok(!created.text.includes(URL_TOKEN), created.text);
    return created.json;
  };

  const deliveriesOf = async (owner: string, id: string): Promise<Json[]> => {
    const listed = await server.api("GET", `${owner}/notifications/${id}/deliveries`);
    assert.equal(listed.status, 200, listed.text);
    assert.ok(!listed.text.includes(URL_TOKEN), listed.text);
    return listed.json.deliveries;
  };

  /** Waits until the target has `count` deliveries, none pending; answers them oldest first. */
  const settledDeliveries = (owner: string, id: string, count: number): Promise<Json[]> =>
    waitFor(`${count} settled deliveries of ${id}`, 30_000, async () => {
      const deliveries = await deliveriesOf(owner, id);
      const settled = deliveries.length === count && deliveries.every((d: Json) => d.state !== "pending");
      return settled ? deliveries.reverse() : undefined;
    });

  const getTarget = async (owner: string, id: string): Promise<Json> => {
    const got = await server.api("GET", `${owner}/notifications/${id}`);
    assert.equal(got.status, 200, got.text);
    assert.ok(!got.text.includes(URL_TOKEN), got.text);
    return got.json.notification;
  };

  const finishedRun = async (pipeline: string, namespace = "default") => {
    const runId = await startRun(server, pipeline, {}, namespace);
    return (await waitForRun(server, pipeline, runId, 60_000, namespace)).run;
  };

  before(async () => {
    server = await startTestServer(SETTINGS);
  });
  after(async () => {
    for (const started of receivers) await started.close();
    await server?.stop();
  });

  it("signs JSON deliveries of a failed and a successful run, and the receiver's check passes", async () => {
    const hooks = await receiver(() => ({ status: 200, body: "thanks" }));
    await deployPipeline(server, pipelineConfig("breaks", [shTask("fail", "echo broken; exit 3")]));
    await deployPipeline(server, pipelineConfig("works", [shTask("ok", "echo ok")]));
    const made = await createTarget(pipelinePath("breaks"), {
      url: `${hooks.url}/hooks/${URL_TOKEN}`,
      events: ["task_failed", "run_failed"],
    });
    const { notification, secret } = made;
    assert.equal(typeof secret, "string");
    assert.ok(secret.length >= 40, "a generated secret has 32 random bytes");
    assert.deepEqual(
      { ...notification, notification_id: "", created: 0, modified: 0 },
      {
        notification_id: "",
        namespace_id: "default",
        pipeline_id: "breaks",
        url_origin: hooks.url,
        format: "json",
        events: ["run_failed", "task_failed"],
        description: "",
        signed: true,
        state: "enabled",
        state_reason: null,
        failures_in_a_row: 0,
        created: 0,
        modified: 0,
      },
    );
    const shown = await server.api("GET", `${pipelinePath("breaks")}/notifications`);
    assert.equal(shown.status, 200, shown.text);
    assert.deepEqual(
      shown.json.notifications.map((n: Json) => n.notification_id),
      [notification.notification_id],
    );
    assert.ok(!shown.text.includes(secret) && !shown.text.includes(URL_TOKEN), shown.text);

    const run = await finishedRun("breaks");
    assert.equal(run.status, "failed");
    const [first, second] = await hooks.waitForRequests(2);
    assert.ok(first && second);
    const bodies = [first, second].map((request) => {
      assert.deepEqual(verifySignature(secret, request), { ok: true });
      assert.equal(request.path, `/hooks/${URL_TOKEN}`);
      assert.equal(request.headers["content-type"], "application/json");
      assert.match(String(request.headers["user-agent"]), /^gofer\//);
      const body = JSON.parse(request.body);
      assert.equal(request.headers["x-gofer-event"], body.event);
      assert.equal(request.headers["x-gofer-delivery"], body.delivery_id);
      return body;
    });
    const runUrl = `${server.url}/namespaces/default/pipelines/breaks/runs/${run.run_id}`;
    const taskFailed = bodies.find((body) => body.event === "task_failed");
    const runFailed = bodies.find((body) => body.event === "run_failed");
    assert.deepEqual(
      { ...taskFailed, delivery_id: "", event_id: "", emitted: 0, status_reason: null },
      {
        event: "task_failed",
        delivery_id: "",
        notification_id: notification.notification_id,
        event_id: "",
        emitted: 0,
        namespace_id: "default",
        pipeline_id: "breaks",
        run_id: run.run_id,
        task_execution_id: "fail",
        status: "failed",
        status_reason: null,
        exit_code: 3,
        run_url: runUrl,
      },
    );
    assert.equal(taskFailed.status_reason.reason, "abnormal_exit");
    assert.equal(runFailed.status, "failed");
    assert.equal(runFailed.run_url, runUrl);
    assert.equal(runFailed.task_execution_id, undefined);
    assert.match(String(runFailed.event_id), /^\d+$/);

    // What a receiver refuses: a changed body, another secret, an old timestamp.
    assert.equal(verifySignature(secret, { ...first, body: `${first.body} ` }).ok, false);
    assert.equal(verifySignature("another-secret-entirely", first).ok, false);
    assert.equal(verifySignature(secret, first, Date.now() + 10 * 60_000).ok, false);

    const deliveries = await settledDeliveries(pipelinePath("breaks"), notification.notification_id, 2);
    for (const delivery of deliveries) {
      assert.equal(delivery.state, "succeeded", JSON.stringify(delivery));
      assert.equal(delivery.run_id, run.run_id);
      assert.equal(delivery.attempts.length, 1);
      assert.equal(delivery.attempts[0].response_status, 200);
      assert.equal(delivery.attempts[0].response_body, "thanks");
      assert.equal(delivery.attempts[0].error, null);
    }

    // A secret the user chose signs too, and is not answered back.
    const chosen = "a-secret-the-user-chose-42";
    const mine = await createTarget(pipelinePath("works"), {
      url: `${hooks.url}/works`,
      events: ["run_successful"],
      secret: chosen,
      description: "deploys",
    });
    assert.equal(mine.secret, null);
    assert.equal(mine.notification.description, "deploys");
    const ok = await finishedRun("works");
    assert.equal(ok.status, "successful");
    const [, , third] = await hooks.waitForRequests(3);
    assert.ok(third);
    assert.deepEqual(verifySignature(chosen, third), { ok: true });
    assert.equal(JSON.parse(third.body).event, "run_successful");
    assert.equal(JSON.parse(third.body).status, "successful");
  });

  it("sends a namespace's Slack target one readable line for any of its pipelines", async () => {
    const slack = await receiver(() => ({ status: 200, body: "ok" }));
    const created = await server.api("POST", "/api/namespaces", {
      id: "chatty",
      name: "Chatty",
      description: "",
    });
    assert.equal(created.status, 201, created.text);
    await deployPipeline(server, pipelineConfig("hello", [shTask("hi", "echo hi")]), "chatty");
    await deployPipeline(server, pipelineConfig("sad", [shTask("no", "exit 1")]), "chatty");
    const { notification, secret } = await createTarget("/api/namespaces/chatty", {
      url: `${slack.url}/services/${URL_TOKEN}`,
      format: "slack",
      events: ["run_successful", "run_failed"],
    });
    assert.equal(secret, null);
    assert.equal(notification.pipeline_id, null);
    assert.equal(notification.signed, false);

    const run = await finishedRun("hello", "chatty");
    const [request] = await slack.waitForRequests(1);
    assert.ok(request);
    assert.equal(request.headers["x-gofer-signature-256"], undefined);
    const runUrl = `${server.url}/namespaces/chatty/pipelines/hello/runs/${run.run_id}`;
    assert.deepEqual(JSON.parse(request.body), {
      text: `:white_check_mark: Run ${run.run_id} of pipeline chatty/hello succeeded <${runUrl}|View run>`,
    });
    const failed = await finishedRun("sad", "chatty");
    const [, second] = await slack.waitForRequests(2);
    assert.ok(second);
    assert.match(
      JSON.parse(second.body).text,
      new RegExp(
        `^:x: Run ${failed.run_id} of pipeline chatty/sad failed: .+ <http://127\\.0\\.0\\.1:\\d+/.+\\|View run>$`,
      ),
    );
    // The namespace's target is not one of its pipelines' targets.
    const underPipeline = await server.api(
      "GET",
      `${pipelinePath("hello", "chatty")}/notifications/${notification.notification_id}`,
    );
    assert.equal(underPipeline.status, 404, underPipeline.text);
  });

  it("retries a receiver that answers 500 twice, then takes it, and lists every answer", async () => {
    const flaky = await receiver((index) =>
      index < 2 ? { status: 500, body: `not yet (${index + 1})` } : { status: 200, body: "got it" },
    );
    await deployPipeline(server, pipelineConfig("retried", [shTask("ok", "true")]));
    const owner = pipelinePath("retried");
    const { notification, secret } = await createTarget(owner, {
      url: `${flaky.url}/hook`,
      events: ["run_successful"],
    });
    await finishedRun("retried");
    const [delivery] = await settledDeliveries(owner, notification.notification_id, 1);
    assert.equal(delivery.state, "succeeded", JSON.stringify(delivery));
    assert.deepEqual(
      delivery.attempts.map((a: Json) => [a.attempt, a.response_status, a.response_body, a.error]),
      [
        [1, 500, "not yet (1)", "the receiver answered HTTP 500"],
        [2, 500, "not yet (2)", "the receiver answered HTTP 500"],
        [3, 200, "got it", null],
      ],
    );
    const [a1, a2, a3] = delivery.attempts;
    assert.ok(a2.started - a1.started >= 100, "the first retry waits the backoff");
    assert.ok(a3.started - a2.started >= 200, "the second waits twice as long");
    const requests = await flaky.waitForRequests(3);
    assert.deepEqual(
      requests.map((request) => request.headers["x-gofer-delivery"]),
      [delivery.delivery_id, delivery.delivery_id, delivery.delivery_id],
      "every attempt carries the same delivery id",
    );
    for (const request of requests) assert.deepEqual(verifySignature(secret, request), { ok: true });
    const target = await getTarget(owner, notification.notification_id);
    assert.equal(target.failures_in_a_row, 0);
  });

  it("does not retry a 4xx, and disables a target that keeps failing, saying why", async () => {
    const gone = await receiver(() => ({ status: 404, body: "no such hook" }));
    await deployPipeline(server, pipelineConfig("lost", [shTask("no", "exit 1")]));
    const lostOwner = pipelinePath("lost");
    const lost = await createTarget(lostOwner, { url: `${gone.url}/old`, events: ["run_failed"] });
    await finishedRun("lost");
    const [refused] = await settledDeliveries(lostOwner, lost.notification.notification_id, 1);
    assert.equal(refused.state, "failed");
    assert.equal(refused.attempts.length, 1, "a 404 is not retried");
    assert.match(refused.state_reason, /HTTP 404, which is not retried/);
    assert.equal((await getTarget(lostOwner, lost.notification.notification_id)).failures_in_a_row, 1);

    const down = await receiver(() => ({ status: 500, body: "down" }));
    await deployPipeline(
      server,
      pipelineConfig("crashy", [shTask("a", "exit 1"), shTask("b", "exit 2"), shTask("c", "exit 3")]),
    );
    const owner = pipelinePath("crashy");
    const { notification } = await createTarget(owner, { url: `${down.url}/hook`, events: ["task_failed"] });
    const id = notification.notification_id;
    await finishedRun("crashy");
    const deliveries = await settledDeliveries(owner, id, 3);
    for (const delivery of deliveries) {
      assert.equal(delivery.state, "failed");
      assert.equal(delivery.attempts.length, 3);
      assert.match(delivery.state_reason, /^gave up after 3 attempt\(s\): the receiver answered HTTP 500$/);
    }
    assert.equal(down.received.length, 9);
    const disabled = await getTarget(owner, id);
    assert.equal(disabled.state, "disabled");
    assert.equal(disabled.failures_in_a_row, 3);
    assert.equal(disabled.state_reason.reason, "failing");
    assert.match(disabled.state_reason.description, /disabled after 3 failed deliveries in a row/);
    assert.match(disabled.state_reason.description, /HTTP 500/);

    // A disabled target fires nothing.
    await finishedRun("crashy");
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await deliveriesOf(owner, id)).length, 3);
    assert.equal(down.received.length, 9);

    const enabled = await server.api("PATCH", `${owner}/notifications/${id}`, { state: "enabled" });
    assert.equal(enabled.status, 200, enabled.text);
    assert.equal(enabled.json.notification.state, "enabled");
    assert.equal(enabled.json.notification.state_reason, null);
    assert.equal(enabled.json.notification.failures_in_a_row, 0);
    const off = await server.api("PATCH", `${owner}/notifications/${id}`, { state: "disabled" });
    assert.equal(off.json.notification.state_reason.reason, "disabled_by_user");
  });

  it("sends test deliveries on request, reporting a refused connection without the URL", async () => {
    const owner = pipelinePath("works");
    const closed = await freePort();
    const dead = await createTarget(owner, {
      url: `http://127.0.0.1:${closed}/hooks/${URL_TOKEN}`,
      events: ["run_failed"],
    });
    const tested = await server.api(
      "POST",
      `${owner}/notifications/${dead.notification.notification_id}/test`,
    );
    assert.equal(tested.status, 200, tested.text);
    assert.ok(!tested.text.includes(URL_TOKEN), tested.text);
    const delivery = tested.json.delivery;
    assert.equal(delivery.event, "test");
    assert.equal(delivery.state, "failed");
    assert.equal(delivery.attempts.length, 1, "a test is sent once");
    assert.equal(delivery.attempts[0].response_status, null);
    assert.match(delivery.attempts[0].error, /could not reach the receiver \(.*ECONNREFUSED/);
    const target = await getTarget(owner, dead.notification.notification_id);
    assert.equal(target.failures_in_a_row, 0, "a test does not count against the target");
    assert.deepEqual(
      (await deliveriesOf(owner, dead.notification.notification_id)).map((d: Json) => d.delivery_id),
      [delivery.delivery_id],
    );

    const live = await receiver(() => ({ status: 204 }));
    const { notification, secret } = await createTarget(owner, {
      url: `${live.url}/t`,
      events: ["run_failed"],
    });
    const disabled = await server.api("PATCH", `${owner}/notifications/${notification.notification_id}`, {
      state: "disabled",
    });
    assert.equal(disabled.status, 200, disabled.text);
    const ok = await server.api("POST", `${owner}/notifications/${notification.notification_id}/test`);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.delivery.state, "succeeded", "a disabled target can still be tested");
    const [request] = await live.waitForRequests(1);
    assert.ok(request);
    assert.deepEqual(verifySignature(secret, request), { ok: true });
    assert.deepEqual(JSON.parse(request.body), {
      event: "test",
      delivery_id: ok.json.delivery.delivery_id,
      notification_id: notification.notification_id,
      event_id: null,
      emitted: JSON.parse(request.body).emitted,
      namespace_id: "default",
      pipeline_id: "works",
      run_id: null,
      status: null,
      status_reason: null,
      run_url: null,
    });
  });

  it("refuses bad input with the v0 envelope, and finds a target only under its own path", async () => {
    const owner = pipelinePath("works");
    const good = { url: `http://127.0.0.1:9/${URL_TOKEN}`, events: ["run_failed"] };
    const before = (await server.api("GET", `${owner}/notifications`)).json.notifications.length;
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...good, url: "not a url" }, /not an absolute URL/],
      [{ ...good, url: `ftp://127.0.0.1/${URL_TOKEN}` }, /must be http or https, not ftp/],
      [{ ...good, url: `https://user:pw@127.0.0.1/${URL_TOKEN}` }, /must not hold a user or password/],
      [{ ...good, url: `https://127.0.0.1/${"x".repeat(2100)}` }, /longer than 2048/],
      [{ ...good, events: [] }, /Name at least one event/],
      [
        { ...good, events: ["run_failed", "run_exploded"] },
        /Unknown event\(s\) "run_exploded"; events are run_successful/,
      ],
      [{ ...good, format: "xml" }, /Unknown format "xml"/],
      [{ ...good, format: "slack", secret: "0123456789abcdef" }, /Only json targets are signed/],
      [{ ...good, secret: "short" }, /16-256 characters/],
      [{ ...good, colour: "red" }, /.+/],
      [{ events: ["run_failed"] }, /url/],
    ];
    for (const [body, message] of cases) {
      const refused = await server.api("POST", `${owner}/notifications`, body);
      const where = `${JSON.stringify(body).slice(0, 120)}: ${refused.text}`;
      assert.equal(refused.status, 400, where);
      assert.equal(refused.json.error_code, "BAD_REQUEST", where);
      assert.equal(typeof refused.json.request_id, "string", where);
      assert.match(refused.json.message, message, where);
      assert.ok(!refused.text.includes(URL_TOKEN), where);
    }
    assert.equal((await server.api("GET", `${owner}/notifications`)).json.notifications.length, before);

    const missing = await server.api("POST", `${pipelinePath("nowhere")}/notifications`, good);
    assert.equal(missing.status, 404, missing.text);
    assert.match(missing.json.message, /Pipeline "nowhere" in namespace "default" not found/);
    const { notification } = await createTarget(owner, good);
    const id = notification.notification_id;
    for (const path of [
      `/api/namespaces/default/notifications/${id}`,
      `${pipelinePath("breaks")}/notifications/${id}`,
      `${owner}/notifications/01HZZZZZZZZZZZZZZZZZZZZZZZ`,
    ]) {
      const got = await server.api("GET", path);
      assert.equal(got.status, 404, `${path}: ${got.text}`);
      assert.equal(got.json.error_code, "NOT_FOUND");
    }
    const badState = await server.api("PATCH", `${owner}/notifications/${id}`, { state: "paused" });
    assert.equal(badState.status, 400, badState.text);
    assert.match(badState.json.message, /Invalid state "paused"; send "enabled" or "disabled"/);
    const badLimit = await server.api("GET", `${owner}/notifications/${id}/deliveries?limit=0`);
    assert.equal(badLimit.status, 400, badLimit.text);
    const deleted = await server.api("DELETE", `${owner}/notifications/${id}`);
    assert.equal(deleted.status, 204, deleted.text);
    assert.equal((await server.api("GET", `${owner}/notifications/${id}`)).status, 404);
  });

  it("resumes a delivery cut off by a stop, and catches up on an event whose deliveries were never made", async () => {
    // The first request is never answered: the stop cuts it off; after the restart the receiver answers.
    const slow = await receiver((index) => (index === 0 ? "hang" : { status: 200, body: "late but fine" }));
    const quick = await receiver(() => ({ status: 200, body: "quick" }));
    await deployPipeline(server, pipelineConfig("resumed", [shTask("ok", "true")]));
    const owner = pipelinePath("resumed");
    const cutOff = (await createTarget(owner, { url: `${slow.url}/s`, events: ["run_successful"] }))
      .notification;
    const lost = (await createTarget(owner, { url: `${quick.url}/q`, events: ["run_successful"] }))
      .notification;
    await finishedRun("resumed");
    const [hanging] = await slow.waitForRequests(1);
    assert.ok(hanging);
    const [lostDelivery] = await settledDeliveries(owner, lost.notification_id, 1);
    assert.equal(lostDelivery.state, "succeeded");

    await server.restart(async () => {
      const sqlite = new DatabaseSync(join(server.dataDir, "gofer.db"));
      try {
        const pending = sqlite
          .prepare("select state, attempts_json from notification_deliveries where notification_id = ?")
          .all(cutOff.notification_id)
          .map((row) => ({ ...row }));
        assert.deepEqual(
          pending,
          [{ state: "pending", attempts_json: "[]" }],
          "the cut-off send is not recorded",
        );
        // As if the server had died between the event's commit and its deliveries: neither the quick target's
        // delivery nor the progress mark past the event is there.
        sqlite
          .prepare("delete from notification_deliveries where delivery_id = ?")
          .run(lostDelivery.delivery_id);
        sqlite
          .prepare("update notification_progress set last_event_id = ?")
          .run(Number(lostDelivery.event_id) - 1);
      } finally {
        sqlite.close();
      }
    });

    const [resumed] = await settledDeliveries(owner, cutOff.notification_id, 1);
    assert.equal(resumed.state, "succeeded");
    assert.deepEqual(
      resumed.attempts.map((a: Json) => [a.attempt, a.response_status, a.response_body]),
      [[1, 200, "late but fine"]],
    );
    const again = await slow.waitForRequests(2);
    assert.equal(
      again[1]?.headers["x-gofer-delivery"],
      hanging.headers["x-gofer-delivery"],
      "the same delivery",
    );

    const [caughtUp] = await settledDeliveries(owner, lost.notification_id, 1);
    assert.equal(caughtUp.state, "succeeded");
    assert.equal(caughtUp.event_id, lostDelivery.event_id);
    assert.notEqual(caughtUp.delivery_id, lostDelivery.delivery_id);
    assert.equal(quick.received.length, 2);
    // The catch-up made no second delivery for the target that still had its own.
    assert.equal((await deliveriesOf(owner, cutOff.notification_id)).length, 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(slow.received.length, 2);
  });

  it("re-encrypts the targets' URLs and secrets when the secret key is rotated", async () => {
    const hooks = await receiver(() => ({ status: 200 }));
    const owner = pipelinePath("works");
    const { notification, secret } = await createTarget(owner, {
      url: `${hooks.url}/rotated/${URL_TOKEN}`,
      events: ["run_failed"],
    });
    await server.restart(async () => {
      const db = await openDatabase(join(server.dataDir, "gofer.db"));
      try {
        const outcome = await rotateSecretKey(
          db,
          { encryption_key: "", key_file: join(server.dataDir, "secret-store.key") },
          randomBytes(32),
        );
        assert.ok(outcome.notificationTargets >= 1);
      } finally {
        await db.destroy();
      }
    });
    const tested = await server.api("POST", `${owner}/notifications/${notification.notification_id}/test`);
    assert.equal(tested.status, 200, tested.text);
    assert.equal(tested.json.delivery.state, "succeeded", tested.text);
    const [request] = await hooks.waitForRequests(1);
    assert.ok(request);
    assert.equal(request.path, `/rotated/${URL_TOKEN}`);
    assert.deepEqual(verifySignature(secret, request), { ok: true });
  });
});

describe("run notifications on PostgreSQL", { timeout: 300_000 }, () => {
  let postgres: PrivatePostgres;
  let server: TestServer;
  let hooks: Receiver;

  before(async () => {
    postgres = await startPrivatePostgres();
    server = await startTestServer(SETTINGS, { databaseUrl: await postgres.createDatabase("gofer_notify") });
    // Per path: /flaky fails twice then recovers; /down always fails.
    hooks = await startReceiver();
    let flaky = 0;
    hooks.answer((index) => {
      const path = hooks.received[index]?.path;
      if (path === "/down") return { status: 502, body: "bad gateway" };
      return flaky++ < 2 ? { status: 500, body: "not yet" } : { status: 200, body: "ok" };
    });
  });
  after(async () => {
    await hooks?.close();
    await server?.stop();
    await postgres?.stop();
  });

  it("retries, records every answer, and disables a failing target", async () => {
    await deployPipeline(
      server,
      pipelineConfig("on-pg", [shTask("a", "exit 1"), shTask("b", "exit 2"), shTask("c", "exit 3")]),
    );
    const owner = pipelinePath("on-pg");
    const create = async (path: string, events: string[]) => {
      const created = await server.api("POST", `${owner}/notifications`, {
        url: `${hooks.url}${path}`,
        events,
      });
      assert.equal(created.status, 201, created.text);
      return created.json;
    };
    const recovering = await create("/flaky", ["run_failed"]);
    const failing = await create("/down", ["task_failed"]);
    const runId = await startRun(server, "on-pg");
    await waitForRun(server, "on-pg", runId);

    const settled = (id: string, count: number) =>
      waitFor(`${count} settled deliveries`, 30_000, async () => {
        const listed = await server.api("GET", `${owner}/notifications/${id}/deliveries`);
        const deliveries: Json[] = listed.json.deliveries;
        return deliveries.length === count && deliveries.every((d) => d.state !== "pending")
          ? deliveries
          : undefined;
      });
    const [recovered] = await settled(recovering.notification.notification_id, 1);
    assert.equal(recovered.state, "succeeded");
    assert.deepEqual(
      recovered.attempts.map((a: Json) => a.response_status),
      [500, 500, 200],
    );
    for (const request of hooks.received.filter((r) => r.path === "/flaky")) {
      assert.deepEqual(verifySignature(recovering.secret, request), { ok: true });
    }
    const failed = await settled(failing.notification.notification_id, 3);
    assert.ok(failed.every((d) => d.state === "failed" && d.attempts.length === 3));
    const target = await server.api("GET", `${owner}/notifications/${failing.notification.notification_id}`);
    assert.equal(target.json.notification.state, "disabled");
    assert.match(target.json.notification.state_reason.description, /HTTP 502/);
  });
});
