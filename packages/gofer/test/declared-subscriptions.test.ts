/**
 * Subscriptions declared in a pipeline config (an extension of v0), against a real server and the real interval
 * extension container: each deploy reconciles them, and a deploy the extension cannot follow fails as a whole.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { pipelineConfig, shTask } from "./support/pipelines.ts";
import { storedEvents } from "./support/stored-events.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const PIPELINES = "/api/namespaces/default/pipelines";
const PIPELINE = "declared";
/** Lets a run request the extension sent just before it was told to stop arrive, before runs are counted. */
const SETTLE_MS = 500;

interface Declared {
  extension_id: string;
  subscription_id: string;
  settings: Record<string, string>;
}

const configWith = (subscriptions: Declared[]) => ({
  ...pipelineConfig(PIPELINE, [shTask("hello", "echo declared")]),
  subscriptions,
});

async function register(server: TestServer, subscriptions: Declared[]): Promise<number> {
  const registered = await server.api("POST", `${PIPELINES}/${PIPELINE}/configs`, {
    config: configWith(subscriptions),
  });
  assert.equal(registered.status, 201, registered.text);
  return registered.json.pipeline.config.version;
}

const deploy = (server: TestServer, version: number) =>
  server.api("POST", `${PIPELINES}/${PIPELINE}/configs/${version}`);

async function subscriptionsOf(server: TestServer): Promise<Array<Record<string, unknown>>> {
  const listed = await server.api("GET", `${PIPELINES}/${PIPELINE}/subscriptions`);
  assert.equal(listed.status, 200, listed.text);
  return listed.json.subscriptions;
}

const find = (subscriptions: Array<Record<string, unknown>>, id: string) =>
  subscriptions.find((subscription) => subscription.subscription_id === id);

async function runCount(server: TestServer): Promise<number> {
  const response = await server.api("GET", `${PIPELINES}/${PIPELINE}/runs?limit=200`);
  assert.equal(response.status, 200, response.text);
  return response.json.runs.length;
}

async function liveVersion(server: TestServer): Promise<number | undefined> {
  const response = await server.api("GET", `${PIPELINES}/${PIPELINE}/configs`);
  assert.equal(response.status, 200, response.text);
  return response.json.configs.find((config: { state: string }) => config.state === "live")?.version;
}

/** The subscription ids of the stored events of `kind` about this pipeline, oldest first. */
async function eventIds(server: TestServer, kind: string): Promise<string[]> {
  return (await storedEvents(server)).flatMap((event) => {
    const details = event.kind[kind];
    return details && details.pipeline_id === PIPELINE ? [String(details.subscription_id)] : [];
  });
}

describe("subscriptions declared in the pipeline config", { timeout: 180_000 }, () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
    const installed = await server.api("POST", "/api/extensions", {
      id: "interval",
      image: "gofer/extension-interval:latest",
      settings: { min_interval: "1s" },
    });
    assert.equal(installed.status, 201, installed.text);
  });
  after(async () => {
    await server?.stop();
  });

  it("a deploy creates, updates and removes them, takes over an API-made one of the same key and leaves the others", async () => {
    // The pipeline exists once its first version is registered; API-made subscriptions can come before a deploy.
    const v1 = await register(server, [
      { extension_id: "interval", subscription_id: "ticks", settings: { every: "2s" } },
      { extension_id: "interval", subscription_id: "adopted", settings: { every: "1h" } },
    ]);
    for (const [id, every] of [
      ["manual", "1h"],
      ["adopted", "1h"],
    ] as const) {
      const created = await server.api("POST", `${PIPELINES}/${PIPELINE}/subscriptions`, {
        extension_id: "interval",
        subscription_id: id,
        settings: { every },
      });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.json.subscription.declared_by_version, undefined);
    }

    const deployed = await deploy(server, v1);
    assert.equal(deployed.status, 201, deployed.text);
    let listed = await subscriptionsOf(server);
    assert.deepEqual(find(listed, "ticks"), {
      namespace_id: "default",
      pipeline_id: PIPELINE,
      extension_id: "interval",
      subscription_id: "ticks",
      settings: { every: "2s" },
      status: "active",
      status_reason: null,
      declared_by_version: v1,
    });
    assert.equal(
      find(listed, "adopted")?.declared_by_version,
      v1,
      "the declared one takes the API-made one over",
    );
    assert.equal(find(listed, "manual")?.declared_by_version, undefined);

    // Declared ones are the config's: the API cannot make a second one of the same key.
    const duplicate = await server.api("POST", `${PIPELINES}/${PIPELINE}/subscriptions`, {
      extension_id: "interval",
      subscription_id: "ticks",
      settings: { every: "5s" },
    });
    assert.equal(duplicate.status, 409, duplicate.text);
    assert.match(duplicate.json.message, /declared by its config version 1/);

    await sleep(5_500);
    assert.ok((await runCount(server)) >= 2, "the declared subscription starts runs");

    const v2 = await register(server, [
      { extension_id: "interval", subscription_id: "ticks", settings: { every: "3s" } },
      { extension_id: "interval", subscription_id: "adopted", settings: { every: "1h" } },
    ]);
    assert.equal((await deploy(server, v2)).status, 201);
    listed = await subscriptionsOf(server);
    assert.deepEqual(find(listed, "ticks")?.settings, { every: "3s" });
    assert.equal(find(listed, "ticks")?.declared_by_version, v2);
    assert.equal(find(listed, "adopted")?.declared_by_version, v2);

    const v3 = await register(server, []);
    assert.equal((await deploy(server, v3)).status, 201);
    listed = await subscriptionsOf(server);
    assert.deepEqual(
      listed.map((subscription) => subscription.subscription_id),
      ["manual"],
      "the API-made subscription stays",
    );
    await sleep(SETTLE_MS);
    const afterRemoval = await runCount(server);
    await sleep(3_500);
    assert.equal(await runCount(server), afterRemoval, "runs started after the declared subscription went");

    // Registered when created and when its settings changed (the extension was handed them again); the taken-over
    // one was announced by the API once, not again when the config adopted it with the same settings.
    assert.deepEqual(await eventIds(server, "pipeline_extension_subscription_registered"), [
      "manual",
      "adopted",
      "ticks",
      "ticks",
    ]);
    assert.deepEqual((await eventIds(server, "pipeline_extension_subscription_unregistered")).sort(), [
      "adopted",
      "ticks",
    ]);
  });

  it("a deploy the extensions cannot follow fails with their message and changes nothing", async () => {
    const good = await register(server, [
      { extension_id: "interval", subscription_id: "slow", settings: { every: "1h" } },
    ]);
    assert.equal((await deploy(server, good)).status, 201);
    const before = await subscriptionsOf(server);
    const registeredBefore = (await eventIds(server, "pipeline_extension_subscription_registered")).length;

    const missing = await register(server, [
      { extension_id: "interval", subscription_id: "slow", settings: { every: "2h" } },
      { extension_id: "nothing-here", subscription_id: "sub", settings: { every: "5s" } },
    ]);
    const noExtension = await deploy(server, missing);
    assert.equal(noExtension.status, 409, noExtension.text);
    assert.equal(noExtension.json.error_code, "CONFLICT");
    assert.match(
      noExtension.json.message,
      new RegExp(`Cannot deploy version ${missing}: subscription "sub" to "nothing-here": .*not installed`),
    );

    const badSetting = await register(server, [
      { extension_id: "interval", subscription_id: "typo", settings: { evry: "5s" } },
    ]);
    const unknownSetting = await deploy(server, badSetting);
    assert.equal(unknownSetting.status, 400, unknownSetting.text);
    assert.match(unknownSetting.json.message, /missing required setting "every"/);

    // The first is handed over before the extension refuses the second: it is taken back, and "slow" is given
    // its previous settings again.
    const refusedVersion = await register(server, [
      { extension_id: "interval", subscription_id: "extra", settings: { every: "2s" } },
      { extension_id: "interval", subscription_id: "slow", settings: { every: "10ms" } },
    ]);
    const refused = await deploy(server, refusedVersion);
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.json.error_code, "EXTENSION_REFUSED");
    assert.match(refused.json.message, /subscription "slow" to "interval": .*min_interval/);

    assert.equal(await liveVersion(server), good, "the previous version stays live");
    assert.deepEqual(await subscriptionsOf(server), before, "no subscription changed");
    assert.equal(
      (await eventIds(server, "pipeline_extension_subscription_registered")).length,
      registeredBefore,
      "nothing was announced",
    );
    const runsBefore = await runCount(server);
    await sleep(4_500);
    assert.equal(
      await runCount(server),
      runsBefore,
      "the subscription handed over before the refusal was taken back",
    );
  });
});
