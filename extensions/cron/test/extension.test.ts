/** The cron extension run in-process by the kit, against a fake Gofer API (runs and object store) on loopback. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type RunningExtension, runExtension } from "@gofer/sdk/extension";
import { callJson } from "../../../packages/sdk/test/support/extension-client.ts";
import {
  FakeServer,
  type RecordedRequest,
  sendCanned,
} from "../../../packages/sdk/test/support/fake-server.ts";
import { createCronExtension } from "../src/extension.ts";
import { decodeLastFire, encodeLastFire } from "../src/last-fire.ts";

const SECRET = "cron-test-secret";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await sleep(20);
  }
}

describe("cron extension", () => {
  const gofer = new FakeServer();
  const objects = new Map<string, Uint8Array>();
  let extension: RunningExtension;
  let runs = 0;

  const call = (method: string, path: string, body?: unknown) =>
    callJson(extension.url, SECRET, method, path, body);
  const runRequests = (pipeline: string) =>
    gofer.requests.filter((request) => request.url === `/api/namespaces/default/pipelines/${pipeline}/runs`);
  const variablesOf = (request: RecordedRequest | undefined) =>
    (JSON.parse(request?.body ?? "{}") as { variables?: Record<string, string> }).variables;

  before(async () => {
    gofer.handler = (request, response) => {
      const object = /^\/api\/extensions\/cron\/objects\/([^/?]+)/.exec(request.url);
      if (object?.[1]) {
        const key = decodeURIComponent(object[1]);
        if (request.method === "GET") {
          const stored = objects.get(key);
          if (!stored) {
            sendCanned(response, {
              status: 404,
              body: { message: "Not Found", request_id: "r", error_code: "NOT_FOUND" },
            });
            return;
          }
          response.writeHead(200, { "content-type": "application/octet-stream" }).end(stored);
          return;
        }
        if (request.method === "POST") {
          objects.set(key, request.bytes);
          sendCanned(response, { status: 201, body: { object: { key, created: Date.now() } } });
          return;
        }
        objects.delete(key);
        sendCanned(response, { status: 204 });
        return;
      }
      runs += 1;
      sendCanned(response, { status: 201, body: { run: { run_id: runs, variables: [] } } });
    };
    const goferUrl = await gofer.start();
    extension = await runExtension(createCronExtension(), {
      env: {
        GOFER_EXTENSION_SYSTEM_ID: "cron",
        GOFER_EXTENSION_SYSTEM_SECRET: SECRET,
        GOFER_EXTENSION_SYSTEM_GOFER_URL: goferUrl,
        GOFER_EXTENSION_SYSTEM_BIND_ADDRESS: "127.0.0.1:0",
        GOFER_EXTENSION_SYSTEM_LOG_LEVEL: "error",
      },
      exitOnShutdown: false,
    });
  });

  after(async () => {
    await extension.close();
    await gofer.stop();
  });

  it("refuses an invalid expression or time zone with the reason", async () => {
    const base = { namespace_id: "default", pipeline_id: "p", pipeline_subscription_id: "bad" };
    const expression = await call("POST", "/api/subscribe", {
      ...base,
      pipeline_subscription_params: { expression: "61 * * * *" },
    });
    assert.equal(expression.status, 400);
    assert.equal(expression.json?.error_code, "INVALID_SUBSCRIPTION");
    assert.match(String(expression.json?.message), /the minute field "61" is not valid: expected 0-59/);
    const timezone = await call("POST", "/api/subscribe", {
      ...base,
      pipeline_subscription_params: { expression: "0 3 * * *", timezone: "Moon/Tranquility" },
    });
    assert.equal(timezone.status, 400);
    assert.match(String(timezone.json?.message), /Moon\/Tranquility/);
  });

  it("reads 6 fields with the year last, and refuses a schedule whose years are past", async () => {
    const subscription = {
      namespace_id: "default",
      pipeline_id: "yearly",
      pipeline_subscription_id: "y2030",
    };
    const subscribed = await call("POST", "/api/subscribe", {
      ...subscription,
      pipeline_subscription_params: { expression: "0 12 1 1 * 2030" },
    });
    assert.equal(subscribed.status, 204);
    assert.match(
      String((await call("GET", "/api/debug")).json?.info),
      /default\/yearly\/y2030: "0 12 1 1 \* 2030" in UTC, next run at 2030-01-01T12:00:00.000Z/,
    );
    assert.equal((await call("DELETE", "/api/subscribe", subscription)).status, 204);

    const past = await call("POST", "/api/subscribe", {
      ...subscription,
      pipeline_subscription_params: { expression: "0 12 1 1 * 2020" },
    });
    assert.equal(past.status, 400);
    assert.equal(past.json?.error_code, "INVALID_SUBSCRIPTION");
    assert.match(String(past.json?.message), /never fires again/);
  });

  it("starts a run at each scheduled second with its scheduled time, none after unsubscribe", async () => {
    const subscription = {
      namespace_id: "default",
      pipeline_id: "seconds",
      pipeline_subscription_id: "each",
    };
    const subscribed = await call("POST", "/api/subscribe", {
      ...subscription,
      pipeline_subscription_params: { expression: "* * * * *", seconds: "*" },
    });
    assert.equal(subscribed.status, 204);
    await sleep(2_600);
    const started = runRequests("seconds");
    assert.ok(started.length >= 2 && started.length <= 3, `${started.length} runs`);
    const scheduled = variablesOf(started[0])?.GOFER_EXTENSION_CRON_SCHEDULED_TIME;
    assert.match(String(scheduled), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    assert.match(
      String((await call("GET", "/api/debug")).json?.info),
      /default\/seconds\/each: "\* \* \* \* \*", seconds "\*" in UTC/,
    );

    assert.equal((await call("DELETE", "/api/subscribe", subscription)).status, 204);
    const atUnsubscribe = runRequests("seconds").length;
    await sleep(1_300);
    assert.equal(runRequests("seconds").length, atUnsubscribe);
  });

  it("with catch_up, starts exactly one run for ticks missed while down, and records it", async () => {
    const key = "last-fire:default:hourly:catch-up";
    const lastFire = new Date(Date.now() - 3 * 3_600_000);
    objects.set(key, encodeLastFire({ lastFire, expression: "0 * * * *", timezone: "UTC" }));
    const subscription = {
      namespace_id: "default",
      pipeline_id: "hourly",
      pipeline_subscription_id: "catch-up",
    };
    const params = { expression: "0 * * * *", catch_up: "true" };
    const hourStart = () => new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000).toISOString();
    const hourBefore = hourStart();
    assert.equal(
      (await call("POST", "/api/subscribe", { ...subscription, pipeline_subscription_params: params }))
        .status,
      204,
    );
    await until(() => runRequests("hourly").length === 1);

    const latestHour = variablesOf(runRequests("hourly")[0])?.GOFER_EXTENSION_CRON_SCHEDULED_TIME;
    assert.ok(latestHour === hourBefore || latestHour === hourStart(), `${latestHour}`);
    await until(
      () => decodeLastFire(objects.get(key) ?? new Uint8Array())?.lastFire.toISOString() === latestHour,
    );

    // Replayed again (another restart) with nothing missed since: no second run.
    assert.equal(
      (await call("POST", "/api/subscribe", { ...subscription, pipeline_subscription_params: params }))
        .status,
      204,
    );
    await sleep(300);
    assert.equal(runRequests("hourly").length, 1);

    assert.equal((await call("DELETE", "/api/subscribe", subscription)).status, 204);
    await until(() => !objects.has(key));
  });

  it("with catch_up, a first subscribe records the time instead of running", async () => {
    const subscription = { namespace_id: "default", pipeline_id: "fresh", pipeline_subscription_id: "new" };
    const params = { expression: "0 0 1 1 *", catch_up: "true" };
    assert.equal(
      (await call("POST", "/api/subscribe", { ...subscription, pipeline_subscription_params: params }))
        .status,
      204,
    );
    await until(() => objects.has("last-fire:default:fresh:new"));
    assert.equal(runRequests("fresh").length, 0);
  });
});
