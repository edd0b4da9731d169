/** The interval extension run in-process by the kit, against a fake Gofer API on loopback. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type RunningExtension, runExtension } from "@gofer/sdk/extension";
import { callJson } from "../../../packages/sdk/test/support/extension-client.ts";
import { FakeServer, sendCanned } from "../../../packages/sdk/test/support/fake-server.ts";
import { createIntervalExtension } from "../src/extension.ts";

const SECRET = "interval-test-secret";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("interval extension", () => {
  const gofer = new FakeServer();
  let extension: RunningExtension;
  let runs = 0;

  const call = (method: string, path: string, body?: unknown) =>
    callJson(extension.url, SECRET, method, path, body);
  const runRequests = () => gofer.requests.filter((request) => request.url.endsWith("/runs"));
  const subscription = {
    namespace_id: "default",
    pipeline_id: "ticker",
    pipeline_subscription_id: "every-second",
  };

  before(async () => {
    gofer.handler = (request, response) => {
      runs += 1;
      sendCanned(response, {
        status: 201,
        body: { run: { namespace_id: "default", pipeline_id: "ticker", run_id: runs, variables: [] } },
      });
      assert.equal(request.method, "POST");
    };
    const goferUrl = await gofer.start();
    extension = await runExtension(createIntervalExtension(), {
      env: {
        GOFER_EXTENSION_SYSTEM_ID: "interval",
        GOFER_EXTENSION_SYSTEM_SECRET: SECRET,
        GOFER_EXTENSION_SYSTEM_GOFER_URL: goferUrl,
        GOFER_EXTENSION_SYSTEM_BIND_ADDRESS: "127.0.0.1:0",
        GOFER_EXTENSION_SYSTEM_LOG_LEVEL: "error",
        GOFER_EXTENSION_CONFIG_MIN_INTERVAL: "1s",
      },
      exitOnShutdown: false,
    });
  });

  after(async () => {
    await extension.close();
    await gofer.stop();
  });

  it("documents its params", async () => {
    const info = await call("GET", "/api/info");
    assert.equal(info.status, 200);
    assert.equal(info.json?.extension_id, "interval");
    assert.match(JSON.stringify(info.json?.documentation), /min_interval.*every|every.*min_interval/s);
  });

  it("refuses an interval below min_interval, naming both", async () => {
    const refused = await call("POST", "/api/subscribe", {
      ...subscription,
      pipeline_subscription_params: { every: "500ms" },
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.json?.error_code, "INVALID_SUBSCRIPTION");
    assert.match(String(refused.json?.message), /"500ms".*min_interval "1s"/);
  });

  it("starts runs every second and stops after unsubscribe", async () => {
    const subscribed = await call("POST", "/api/subscribe", {
      ...subscription,
      pipeline_subscription_params: { every: "1s" },
    });
    assert.equal(subscribed.status, 204);
    // Replaying the same subscription (Gofer does after restarts) replaces the timer instead of adding one.
    assert.equal(
      (
        await call("POST", "/api/subscribe", {
          ...subscription,
          pipeline_subscription_params: { every: "1s" },
        })
      ).status,
      204,
    );
    await sleep(3_500);
    const started = runRequests().length;
    assert.ok(started >= 2 && started <= 4, `${started} runs in 3.5 s`);
    assert.equal(runRequests()[0]?.url, "/api/namespaces/default/pipelines/ticker/runs");
    assert.equal(runRequests()[0]?.headers["gofer-api-version"], "v0");

    const debug = await call("GET", "/api/debug");
    assert.match(String(debug.json?.info), /default\/ticker\/every-second: every 1s, next run at /);

    assert.equal((await call("DELETE", "/api/subscribe", subscription)).status, 204);
    const atUnsubscribe = runRequests().length;
    await sleep(1_500);
    assert.equal(runRequests().length, atUnsubscribe);
  });
});
