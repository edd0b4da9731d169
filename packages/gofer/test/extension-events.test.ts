/**
 * Every extension and subscription change publishes its event, whichever path makes it: the API, the standard
 * extensions registered at boot, an uninstall that takes subscriptions along. Events are read back from the
 * events history WebSocket, in the v0 details shapes (`{id, image}` for extensions, the subscription's key for
 * subscriptions).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { deployPipeline, pipelineConfig, shTask } from "./support/pipelines.ts";
import { type StoredEvent, storedEvents } from "./support/stored-events.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";
import { waitFor } from "./support/wait-for.ts";

const PREFIX = "gofer/extension-";
const IMAGE = (name: string) => `${PREFIX}${name}:latest`;
const PIPELINES = "/api/namespaces/default/pipelines";

/** The details of every stored event of one kind, oldest first. */
async function detailsOf(server: TestServer, kind: string): Promise<Record<string, unknown>[]> {
  return (await storedEvents(server)).flatMap((event) => (event.kind[kind] ? [event.kind[kind]] : []));
}

/** The first event of `kind` whose details equal `details`, or undefined. */
async function findEvent(
  server: TestServer,
  kind: string,
  details: Record<string, unknown>,
): Promise<StoredEvent | undefined> {
  return (await storedEvents(server)).find((event) => {
    const found = event.kind[kind];
    return found !== undefined && JSON.stringify(found) === JSON.stringify(details);
  });
}

const subscriptionKey = (pipelineId: string, extensionId: string, subscriptionId: string) => ({
  namespace_id: "default",
  pipeline_id: pipelineId,
  extension_id: extensionId,
  subscription_id: subscriptionId,
});

async function subscribe(
  server: TestServer,
  pipelineId: string,
  extensionId: string,
  subscriptionId: string,
) {
  const created = await server.api("POST", `${PIPELINES}/${pipelineId}/subscriptions`, {
    extension_id: extensionId,
    subscription_id: subscriptionId,
    settings: { every: "1h" },
  });
  assert.equal(created.status, 201, created.text);
}

describe("extension and subscription events", { timeout: 180_000 }, () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({
      GOFER_WEB_EXTENSIONS__INSTALL_STD_EXTENSIONS: "true",
      GOFER_WEB_EXTENSIONS__STD_IMAGE_PREFIX: PREFIX,
    });
    for (const id of ["first", "second", "doomed"]) {
      await deployPipeline(server, pipelineConfig(id, [shTask("hello", "echo hello")]));
    }
    await waitFor("the standard interval extension to run", 20_000, async () => {
      const extension = (await server.api("GET", "/api/extensions/interval")).json.extension;
      return extension.state === "running" ? true : undefined;
    });
  });
  after(async () => {
    await server?.stop();
  });

  it("installed_extension: the standard extensions registered at boot, once each, and an API install", async () => {
    assert.deepEqual(await detailsOf(server, "installed_extension"), [
      { id: "interval", image: IMAGE("interval") },
      { id: "cron", image: IMAGE("cron") },
    ]);
    // Already registered at the next boot: nothing is installed, so nothing is announced.
    await server.restart();
    assert.equal((await detailsOf(server, "installed_extension")).length, 2);

    const installed = await server.api("POST", "/api/extensions", {
      id: "ticker",
      image: IMAGE("interval"),
      settings: {},
    });
    assert.equal(installed.status, 201, installed.text);
    assert.ok(await findEvent(server, "installed_extension", { id: "ticker", image: IMAGE("interval") }));

    // An install that undoes itself was never announced, so it is not announced as gone either.
    const ghost = await server.api("POST", "/api/extensions", {
      id: "ghost",
      image: "gofer/no-such-extension:latest",
      settings: {},
    });
    assert.equal(ghost.status, 400, ghost.text);
    const events = await storedEvents(server);
    assert.ok(!events.some((event) => JSON.stringify(event.kind).includes('"ghost"')), "ghost has events");
  });

  it("disabled_extension and enabled_extension: one each per change, none for a change to the same status", async () => {
    const path = "/api/extensions/ticker";
    assert.equal((await server.api("PATCH", path, { enable: false })).status, 204);
    assert.equal((await server.api("PATCH", path, { enable: false })).status, 204);
    assert.equal((await server.api("PATCH", path, { enable: true })).status, 204);
    assert.equal((await server.api("PATCH", path, { enable: true })).status, 204);
    const ticker = { id: "ticker", image: IMAGE("interval") };
    assert.deepEqual(await detailsOf(server, "disabled_extension"), [ticker]);
    assert.deepEqual(await detailsOf(server, "enabled_extension"), [ticker]);
  });

  it("pipeline_extension_subscription_registered and _unregistered: created and deleted through the API", async () => {
    await subscribe(server, "first", "interval", "hourly");
    const key = subscriptionKey("first", "interval", "hourly");
    const registered = await findEvent(server, "pipeline_extension_subscription_registered", key);
    assert.ok(registered, "no registered event");

    const deleted = await server.api("DELETE", `${PIPELINES}/first/subscriptions/interval/hourly`);
    assert.equal(deleted.status, 204, deleted.text);
    const unregistered = await findEvent(server, "pipeline_extension_subscription_unregistered", key);
    assert.ok(
      unregistered && Number(unregistered.id) > Number(registered.id),
      "no unregistered event after the registered one",
    );

    // A refused subscription was never registered.
    const refused = await server.api("POST", `${PIPELINES}/first/subscriptions`, {
      extension_id: "interval",
      subscription_id: "too-fast",
      settings: { every: "10ms" },
    });
    assert.equal(refused.status, 400, refused.text);
    assert.equal(
      await findEvent(
        server,
        "pipeline_extension_subscription_registered",
        subscriptionKey("first", "interval", "too-fast"),
      ),
      undefined,
    );
  });

  it("uninstalled_extension: after an unregistered event for each subscription the uninstall took along", async () => {
    await subscribe(server, "first", "ticker", "one");
    await subscribe(server, "second", "ticker", "two");
    assert.equal((await server.api("DELETE", "/api/extensions/ticker")).status, 204);

    const uninstalled = await findEvent(server, "uninstalled_extension", {
      id: "ticker",
      image: IMAGE("interval"),
    });
    assert.ok(uninstalled, "no uninstalled event");
    for (const key of [
      subscriptionKey("first", "ticker", "one"),
      subscriptionKey("second", "ticker", "two"),
    ]) {
      const unregistered = await findEvent(server, "pipeline_extension_subscription_unregistered", key);
      assert.ok(unregistered, `no unregistered event for ${key.subscription_id}`);
      assert.ok(
        Number(unregistered.id) < Number(uninstalled.id),
        "the subscription went after its extension",
      );
    }
  });

  it("a deleted pipeline takes its subscriptions along under deleted_pipeline, without an event for each", async () => {
    await subscribe(server, "doomed", "interval", "hourly");
    assert.equal((await server.api("DELETE", `${PIPELINES}/doomed`)).status, 204);
    assert.ok(
      await findEvent(server, "deleted_pipeline", { namespace_id: "default", pipeline_id: "doomed" }),
    );
    const listed = (await server.api("GET", "/api/extensions/interval/subscriptions")).json.subscriptions;
    assert.deepEqual(listed, []);
    assert.equal(
      await findEvent(
        server,
        "pipeline_extension_subscription_unregistered",
        subscriptionKey("doomed", "interval", "hourly"),
      ),
      undefined,
    );
  });
});
