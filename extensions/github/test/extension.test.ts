/** The github extension run in-process by the kit, against a fake Gofer API on loopback. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type RunningExtension, runExtension } from "@gofer/sdk/extension";
import { callJson } from "../../../packages/sdk/test/support/extension-client.ts";
import { FakeServer, sendCanned } from "../../../packages/sdk/test/support/fake-server.ts";
import { createGithubExtension } from "../src/extension.ts";
import { signBody } from "../src/signature.ts";
import { type FixtureName, fixtureBytes } from "./fixtures.ts";

const SECRET = "github-test-secret";
const WEBHOOK_SECRET = "It's a Secret to Everybody";

describe("github extension", () => {
  const gofer = new FakeServer();
  let extension: RunningExtension;
  let runs = 0;

  const call = (method: string, path: string, body?: unknown) =>
    callJson(extension.url, SECRET, method, path, body);
  /** A delivery as Gofer forwards it: GitHub's headers (in GitHub's own capitalisation) and the body's bytes. */
  const deliver = (name: FixtureName, delivery: string, headers: Record<string, string> = {}) => {
    const body = fixtureBytes(name);
    return call("POST", "/api/external-event", {
      headers: {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/044aadd",
        "X-GitHub-Event": name,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": signBody(WEBHOOK_SECRET, body),
        ...headers,
      },
      body: [...body],
    });
  };
  const runRequests = () => gofer.requests.filter((request) => request.url.endsWith("/runs"));
  const subscribe = (pipeline: string, params: Record<string, string>) =>
    call("POST", "/api/subscribe", {
      namespace_id: "default",
      pipeline_id: pipeline,
      pipeline_subscription_id: "github",
      pipeline_subscription_params: params,
    });

  before(async () => {
    gofer.handler = (_request, response) => {
      runs += 1;
      sendCanned(response, { status: 201, body: { run: { run_id: runs, variables: [] } } });
    };
    const goferUrl = await gofer.start();
    extension = await runExtension(createGithubExtension(), {
      env: {
        GOFER_EXTENSION_SYSTEM_ID: "github",
        GOFER_EXTENSION_SYSTEM_SECRET: SECRET,
        GOFER_EXTENSION_SYSTEM_GOFER_URL: goferUrl,
        GOFER_EXTENSION_SYSTEM_BIND_ADDRESS: "127.0.0.1:0",
        GOFER_EXTENSION_SYSTEM_LOG_LEVEL: "error",
        GOFER_EXTENSION_CONFIG_WEBHOOK_SECRET: WEBHOOK_SECRET,
      },
      exitOnShutdown: false,
    });
    assert.equal(
      (await subscribe("on-main", { repository: "octo-org/app", events: "push:main" })).status,
      204,
    );
    assert.equal(
      (await subscribe("on-release", { repository: "octo-org/app", events: "push:release/*" })).status,
      204,
    );
    assert.equal(
      (await subscribe("elsewhere", { repository: "octo-org/other", events: "push" })).status,
      204,
    );
  });

  after(async () => {
    await extension.close();
    await gofer.stop();
  });

  it("refuses to start without a webhook secret", async () => {
    await assert.rejects(
      runExtension(createGithubExtension(), {
        env: {
          GOFER_EXTENSION_SYSTEM_ID: "github",
          GOFER_EXTENSION_SYSTEM_SECRET: SECRET,
          GOFER_EXTENSION_SYSTEM_GOFER_URL: "http://127.0.0.1:1",
          GOFER_EXTENSION_SYSTEM_BIND_ADDRESS: "127.0.0.1:0",
          GOFER_EXTENSION_SYSTEM_LOG_LEVEL: "error",
        },
        exitOnShutdown: false,
      }),
      /GOFER_EXTENSION_CONFIG_WEBHOOK_SECRET/,
    );
  });

  it("refuses invalid subscriptions", async () => {
    const repository = await subscribe("bad", { repository: "octo-org", events: "push" });
    assert.equal(repository.status, 400);
    assert.equal(repository.json?.error_code, "INVALID_SUBSCRIPTION");
    const events = await subscribe("bad", { repository: "octo-org/app", events: "push:main,,release" });
    assert.equal(events.status, 400);
    assert.match(String(events.json?.message), /empty entry/);
  });

  it("refuses a delivery with a bad signature and starts nothing", async () => {
    const before = runRequests().length;
    const wrong = await deliver("push", "bad-1", {
      "X-Hub-Signature-256": signBody("guess", fixtureBytes("push")),
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json?.error_code, "INVALID_SIGNATURE");
    const missing = await deliver("push", "bad-2", { "X-Hub-Signature-256": "" });
    assert.equal(missing.status, 401);
    assert.equal(runRequests().length, before);
  });

  it("starts one run for a signed push to a watched branch, with its variables", async () => {
    const before = runRequests().length;
    const delivered = await deliver("push", "delivery-1");
    assert.equal(delivered.status, 204);
    const started = runRequests().slice(before);
    assert.equal(started.length, 1);
    assert.equal(started[0]?.url, "/api/namespaces/default/pipelines/on-main/runs");
    const { variables } = JSON.parse(started[0]?.body ?? "{}") as { variables: Record<string, string> };
    assert.equal(variables.GOFER_EXTENSION_GITHUB_EVENT, "push");
    assert.equal(variables.GOFER_EXTENSION_GITHUB_REPOSITORY, "octo-org/app");
    assert.equal(variables.GOFER_EXTENSION_GITHUB_REF, "refs/heads/main");
    assert.equal(variables.GOFER_EXTENSION_GITHUB_SHA, "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c");
    assert.equal(variables.GOFER_EXTENSION_GITHUB_AUTHOR, "monalisa");
    assert.equal(variables.GOFER_EXTENSION_GITHUB_DELIVERY, "delivery-1");
    assert.equal(variables.GOFER_EXTENSION_GITHUB_HEAD_COMMIT_AUTHOR_EMAIL, "mona@example.com");
  });

  it("ignores a redelivery of the same delivery id", async () => {
    const before = runRequests().length;
    assert.equal((await deliver("push", "delivery-1")).status, 204);
    assert.equal(runRequests().length, before);
  });

  it("answers ping with 204 and starts nothing", async () => {
    const before = runRequests().length;
    assert.equal((await deliver("ping", "ping-1")).status, 204);
    assert.equal(runRequests().length, before);
  });

  it("takes Gofer v0's event_filter beside events", async () => {
    assert.equal(
      (await subscribe("v0-push", { repository: "octo-org/app", event_filter: "push" })).status,
      204,
    );
    const before = runRequests().length;
    assert.equal((await deliver("push", "delivery-v0")).status, 204);
    const started = runRequests()
      .slice(before)
      .map((request) => request.url)
      .sort();
    assert.deepEqual(started, [
      "/api/namespaces/default/pipelines/on-main/runs",
      "/api/namespaces/default/pipelines/v0-push/runs",
    ]);
    const unsubscribed = await call("DELETE", "/api/subscribe", {
      namespace_id: "default",
      pipeline_id: "v0-push",
      pipeline_subscription_id: "github",
    });
    assert.equal(unsubscribed.status, 204);
  });

  it("refuses a subscription without events or event_filter, or with a bad event_filter", async () => {
    const neither = await subscribe("bad", { repository: "octo-org/app" });
    assert.equal(neither.status, 400);
    assert.match(String(neither.json?.message), /give events .* or Gofer v0's event_filter/);
    const bad = await subscribe("bad", { repository: "octo-org/app", event_filter: "push/main" });
    assert.equal(bad.status, 400);
    assert.match(String(bad.json?.message), /push deliveries have no action/);
  });

  it("refuses pull_request_with_check without the GitHub App settings, naming them", async () => {
    const cases: Array<Record<string, string>> = [
      { event_filter: "pull_request_with_check/opened" },
      { events: "push:main,pull_request_with_check" },
    ];
    for (const params of cases) {
      const answer = await subscribe("checks", { repository: "octo-org/app", ...params });
      assert.equal(answer.status, 400);
      assert.equal(answer.json?.error_code, "INVALID_SUBSCRIPTION");
      assert.match(String(answer.json?.message), /-c app_id=… -c app_installation=… -c app_key=…/);
    }
  });

  it("refuses a signed body that is not JSON", async () => {
    const body = new TextEncoder().encode("{not json");
    const answer = await call("POST", "/api/external-event", {
      headers: { "x-github-event": "push", "x-hub-signature-256": signBody(WEBHOOK_SECRET, body) },
      body: [...body],
    });
    assert.equal(answer.status, 400);
    assert.equal(answer.json?.error_code, "INVALID_PAYLOAD");
  });
});
