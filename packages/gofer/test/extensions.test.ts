/**
 * Extensions against a real engine: the provided interval, cron and github images (built by `npm run images`)
 * run as containers, call the real API with their own tokens, and start real runs.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { EngineClient } from "../src/scheduler/docker/engine-client.ts";
import type { Scheduler } from "../src/scheduler/scheduler.ts";
import { freePort } from "./support/free-port.ts";
import { deployPipeline, pipelineConfig, shTask } from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";
import { waitFor } from "./support/wait-for.ts";

/** Lets a run request the extension sent just before it was told to stop arrive, before runs are counted. */
const SETTLE_MS = 500;
const IMAGE = (name: string) => `gofer/extension-${name}:latest`;
const PIPELINES = "/api/namespaces/default/pipelines";
const engine = new EngineClient();

async function install(server: TestServer, id: string, image: string, settings: Record<string, string> = {}) {
  const response = await server.api("POST", "/api/extensions", { id, image, settings });
  assert.equal(response.status, 201, response.text);
  assert.equal(response.json.extension.state, "running");
  return response.json.extension;
}

async function subscribe(
  server: TestServer,
  pipelineId: string,
  extensionId: string,
  subscriptionId: string,
  settings: Record<string, string>,
) {
  return server.api("POST", `${PIPELINES}/${pipelineId}/subscriptions`, {
    extension_id: extensionId,
    subscription_id: subscriptionId,
    settings,
  });
}

async function runsOf(server: TestServer, pipelineId: string): Promise<Array<Record<string, unknown>>> {
  const response = await server.api("GET", `${PIPELINES}/${pipelineId}/runs?limit=200`);
  assert.equal(response.status, 200, response.text);
  return response.json.runs;
}

/** This server's containers of the extension: tests running beside it install extensions of the same ids. */
async function containersOf(server: TestServer, extensionId: string): Promise<string[]> {
  const labels = { "gofer.extension": extensionId, "gofer.instance": server.instanceId };
  const found = await engine.listContainers({ all: true, labels });
  return found.map((container) => container.Id);
}

describe("extensions", { timeout: 240_000 }, () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({
      GOFER_WEB_EXTENSIONS__HEALTH_CHECK_INTERVAL: "1",
      GOFER_WEB_EXTENSIONS__RESTART_BACKOFF_MAX: "2",
    });
    for (const id of ["ticks", "crons", "hooks", "quiet"]) {
      await deployPipeline(server, pipelineConfig(id, [shTask("hello", "echo hello from $GOFER_RUN_ID")]));
    }
  });
  after(async () => {
    await server?.stop();
  });

  it("an interval subscription starts runs every 2 s, and none after it is deleted", async () => {
    const extension = await install(server, "interval", IMAGE("interval"), { min_interval: "1s" });
    assert.ok(
      extension.documentation.pipeline_subscription_params.some((p: { key: string }) => p.key === "every"),
    );
    // A setting reaches the container under Gofer's name (what extensions on its Go SDK read) and under ours.
    const [container] = await containersOf(server, "interval");
    const env = (await engine.inspectContainer(container as string)).Config.Env ?? [];
    assert.ok(env.includes("GOFER_EXTENSION_CONFIG_MIN_INTERVAL=1s"), env.join(" "));
    assert.ok(env.includes("MIN_INTERVAL=1s"), env.join(" "));
    const created = await subscribe(server, "ticks", "interval", "every-2s", { every: "2s" });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.subscription.status, "active");

    await sleep(8_000);
    const runs = await runsOf(server, "ticks");
    assert.ok(runs.length >= 3, `expected at least 3 runs in 8 s, got ${runs.length}`);
    assert.deepEqual((runs[0] as { initiator: { user: string } }).initiator.user, "interval (extension)");

    const deleted = await server.api("DELETE", `${PIPELINES}/ticks/subscriptions/interval/every-2s`);
    assert.equal(deleted.status, 204, deleted.text);
    await sleep(SETTLE_MS);
    const afterDelete = (await runsOf(server, "ticks")).length;
    await sleep(4_500);
    assert.equal(
      (await runsOf(server, "ticks")).length,
      afterDelete,
      "runs started after the subscription was deleted",
    );
  });

  it("checks subscription settings against the extension's parameters before anything is stored", async () => {
    const missing = await subscribe(server, "quiet", "interval", "no-every", {});
    assert.equal(missing.status, 400, missing.text);
    assert.match(missing.json.message, /missing required setting "every"/);

    const unknown = await subscribe(server, "quiet", "interval", "typo", { every: "5s", evry: "5s" });
    assert.equal(unknown.status, 400, unknown.text);
    assert.match(unknown.json.message, /takes no setting "evry"; its settings are: every/);
    const misspelt = await subscribe(server, "quiet", "interval", "misspelt", { evry: "5s" });
    assert.equal(misspelt.status, 400, misspelt.text);
    assert.match(misspelt.json.message, /missing required setting "every" .*; it takes no setting "evry"/);

    const refused = await subscribe(server, "quiet", "interval", "too-fast", { every: "10ms" });
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.json.error_code, "EXTENSION_REFUSED");
    assert.match(refused.json.message, /min_interval/);

    const noExtension = await subscribe(server, "quiet", "nothing-here", "sub", { every: "5s" });
    assert.equal(noExtension.status, 404, noExtension.text);

    const listed = await server.api("GET", `${PIPELINES}/quiet/subscriptions`);
    assert.deepEqual(listed.json.subscriptions, []);
  });

  it("a disabled subscription starts no runs until it is enabled again", async () => {
    const created = await subscribe(server, "quiet", "interval", "toggled", { every: "1s" });
    assert.equal(created.status, 201, created.text);
    const path = `${PIPELINES}/quiet/subscriptions/interval/toggled`;
    const disabled = await server.api("PATCH", path, { status: "disabled" });
    assert.equal(disabled.status, 204, disabled.text);
    await sleep(SETTLE_MS);
    const before = (await runsOf(server, "quiet")).length;
    await sleep(3_000);
    assert.equal((await runsOf(server, "quiet")).length, before, "a disabled subscription started runs");
    assert.equal((await server.api("GET", path)).json.subscription.status, "disabled");

    assert.equal((await server.api("PATCH", path, {})).status, 400);
    const paused = await server.api("PATCH", path, { status: "paused" });
    assert.equal(paused.status, 400, paused.text);
    assert.match(paused.json.message, /Invalid status "paused"; send "active" or "disabled"/);
    assert.equal((await server.api("PATCH", path, { status: "active" })).status, 204);
    await waitFor("a run after enabling", 5_000, async () =>
      (await runsOf(server, "quiet")).length > before ? true : undefined,
    );
    assert.equal((await server.api("DELETE", path)).status, 204);
  });

  it("a cron subscription with a seconds param fires", async () => {
    await install(server, "cron", IMAGE("cron"));
    const created = await subscribe(server, "crons", "cron", "every-2s", {
      expression: "* * * * *",
      seconds: "*/2",
    });
    assert.equal(created.status, 201, created.text);
    await waitFor("a cron run", 8_000, async () =>
      (await runsOf(server, "crons")).length > 0 ? true : undefined,
    );
    const bad = await subscribe(server, "crons", "cron", "bad", { expression: "not a cron" });
    assert.equal(bad.status, 400, bad.text);
    assert.equal((await server.api("DELETE", `${PIPELINES}/crons/subscriptions/cron/every-2s`)).status, 204);
  });

  it("a signed GitHub push starts a run with the event's facts; a bad or missing signature starts none", async () => {
    const secret = "webhook-secret-for-tests";
    await install(server, "github", IMAGE("github"), { webhook_secret: secret });
    const created = await subscribe(server, "hooks", "github", "main-pushes", {
      repository: "octo/widgets",
      events: "push:main",
    });
    assert.equal(created.status, 201, created.text);

    const payload = JSON.stringify({
      ref: "refs/heads/main",
      after: "0123456789abcdef0123456789abcdef01234567",
      repository: { full_name: "octo/widgets" },
      pusher: { name: "mona", email: "mona@example.com" },
      sender: { login: "mona" },
      head_commit: {
        id: "0123456789abcdef0123456789abcdef01234567",
        author: { name: "Mona", email: "mona@example.com", username: "mona" },
        committer: { name: "Mona", email: "mona@example.com", username: "mona" },
      },
    });
    const deliver = (signature: string | undefined, delivery: string) =>
      fetch(`${server.service.externalEventsUrl}/api/external/github`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": "push",
          "x-github-delivery": delivery,
          ...(signature === undefined ? {} : { "x-hub-signature-256": signature }),
        },
        body: payload,
      });
    const sign = (key: string) => `sha256=${createHmac("sha256", key).update(payload).digest("hex")}`;

    const unsigned = await deliver(undefined, "d-1");
    assert.equal(unsigned.status, 401, await unsigned.text());
    const misSigned = await deliver(sign("wrong secret"), "d-2");
    assert.equal(misSigned.status, 401, await misSigned.text());
    await sleep(500);
    assert.equal((await runsOf(server, "hooks")).length, 0, "an unverified webhook started a run");

    const signed = await deliver(sign(secret), "d-3");
    assert.equal(signed.status, 204, await signed.text());
    const run = await waitFor("the webhook's run", 5_000, async () => (await runsOf(server, "hooks"))[0]);
    const variables = Object.fromEntries(
      (run.variables as Array<{ key: string; value: string }>).map(({ key, value }) => [key, value]),
    );
    assert.equal(variables.GOFER_EXTENSION_GITHUB_EVENT, "push");
    assert.equal(variables.GOFER_EXTENSION_GITHUB_REF, "refs/heads/main");
    assert.equal(variables.GOFER_EXTENSION_GITHUB_REPOSITORY, "octo/widgets");
    assert.equal(variables.GOFER_EXTENSION_GITHUB_SHA, "0123456789abcdef0123456789abcdef01234567");

    const unknown = await fetch(`${server.service.externalEventsUrl}/api/external/nobody`, {
      method: "POST",
      body: "{}",
    });
    assert.equal(unknown.status, 404);
    const oversized = await fetch(`${server.service.externalEventsUrl}/api/external/github`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "x".repeat(11 * 1024 * 1024),
    });
    assert.equal(oversized.status, 413);
  });

  it("an extension killed by hand is restarted and its subscriptions work again", async () => {
    const created = await subscribe(server, "ticks", "interval", "survivor", { every: "1s" });
    assert.equal(created.status, 201, created.text);
    const [container] = await containersOf(server, "interval");
    assert.ok(container, "the interval extension has no container");
    await engine.killContainer(container);

    await waitFor("the extension to be restarted", 20_000, async () => {
      const extension = (await server.api("GET", "/api/extensions/interval")).json.extension;
      return extension.state === "running" && extension.restarts >= 1 ? true : undefined;
    });
    const before = (await runsOf(server, "ticks")).length;
    await waitFor("runs after the restart", 6_000, async () =>
      (await runsOf(server, "ticks")).length >= before + 2 ? true : undefined,
    );
    assert.equal(
      (await server.api("DELETE", `${PIPELINES}/ticks/subscriptions/interval/survivor`)).status,
      204,
    );
  });

  it("after a server restart the extension runs again, in a new container, with its subscriptions replayed", async () => {
    const created = await subscribe(server, "ticks", "interval", "rebooted", { every: "1s" });
    assert.equal(created.status, 201, created.text);
    const [before] = await containersOf(server, "interval");
    assert.ok(before, "the interval extension has no container");
    await server.restart(async () => {
      assert.deepEqual(
        await containersOf(server, "interval"),
        [],
        "shutdown stops and removes the extension",
      );
    });
    await waitFor("the extension to run again", 20_000, async () => {
      const extension = (await server.api("GET", "/api/extensions/interval")).json.extension;
      return extension.state === "running" ? true : undefined;
    });
    const [after] = await containersOf(server, "interval");
    assert.ok(after && after !== before, "the extension runs in a new container");
    const counted = (await runsOf(server, "ticks")).length;
    await waitFor("runs from the replayed subscription", 8_000, async () =>
      (await runsOf(server, "ticks")).length >= counted + 2 ? true : undefined,
    );
    assert.equal(
      (await server.api("DELETE", `${PIPELINES}/ticks/subscriptions/interval/rebooted`)).status,
      204,
    );
  });

  it("an extension that stops answering its health checks is marked unhealthy and replaced", async () => {
    const [container] = await containersOf(server, "interval");
    assert.ok(container, "the interval extension has no container");
    const restartsBefore = (await server.api("GET", "/api/extensions/interval")).json.extension.restarts;
    // A paused container keeps its port but answers nothing: a hung process, as far as Gofer can tell.
    execFileSync("docker", ["pause", container]);
    await waitFor("the extension to be marked unhealthy", 15_000, async () => {
      const extension = (await server.api("GET", "/api/extensions/interval")).json.extension;
      return extension.state_reason?.reason === "unhealthy" ? true : undefined;
    });
    await waitFor("a healthy replacement", 20_000, async () => {
      const extension = (await server.api("GET", "/api/extensions/interval")).json.extension;
      return extension.state === "running" && extension.restarts > restartsBefore ? true : undefined;
    });
    const containers = await containersOf(server, "interval");
    assert.equal(containers.length, 1);
    assert.notEqual(containers[0], container, "the hung container was not replaced");
  });

  it("serves the extension's logs and debug information", async () => {
    const logs = await server.api("GET", "/api/extensions/interval/logs");
    assert.equal(logs.status, 200, logs.text);
    assert.ok(logs.text.length > 0, "no log lines");
    const debug = await server.api("GET", "/api/extensions/interval/debug");
    assert.equal(debug.status, 200, debug.text);
    assert.equal(typeof debug.json.info, "string");
  });

  it("a disabled extension stops and starts no runs; enabling it restores its subscriptions", async () => {
    const created = await subscribe(server, "quiet", "interval", "while-enabled", { every: "1s" });
    assert.equal(created.status, 201, created.text);
    assert.equal((await server.api("PATCH", "/api/extensions/interval", { enable: false })).status, 204);
    const disabled = (await server.api("GET", "/api/extensions/interval")).json.extension;
    assert.equal(disabled.state, "exited");
    assert.equal(disabled.state_reason.reason, "disabled");
    assert.deepEqual(await containersOf(server, "interval"), []);
    await sleep(SETTLE_MS);
    const before = (await runsOf(server, "quiet")).length;
    await sleep(2_500);
    assert.equal((await runsOf(server, "quiet")).length, before);
    const refused = await subscribe(server, "quiet", "interval", "while-disabled", { every: "1s" });
    assert.equal(refused.status, 409, refused.text);

    assert.equal((await server.api("PATCH", "/api/extensions/interval", { enable: true })).status, 204);
    await waitFor("runs after enabling", 6_000, async () =>
      (await runsOf(server, "quiet")).length > before ? true : undefined,
    );
    assert.equal(
      (await server.api("DELETE", `${PIPELINES}/quiet/subscriptions/interval/while-enabled`)).status,
      204,
    );
  });

  it("install refuses duplicates, bad settings and images that do not start, leaving nothing behind", async () => {
    const duplicate = await server.api("POST", "/api/extensions", {
      id: "interval",
      image: IMAGE("interval"),
      settings: {},
    });
    assert.equal(duplicate.status, 409, duplicate.text);

    const badKey = await server.api("POST", "/api/extensions", {
      id: "bad-key",
      image: IMAGE("interval"),
      settings: { "min-interval": "1s" },
    });
    assert.equal(badKey.status, 400, badKey.text);

    const unknownSetting = await server.api("POST", "/api/extensions", {
      id: "typo",
      image: IMAGE("interval"),
      settings: { min_intervall: "1s" },
    });
    assert.equal(unknownSetting.status, 400, unknownSetting.text);
    assert.match(
      unknownSetting.json.message,
      /takes no setting "min_intervall"; its settings are: min_interval/,
    );

    const missingImage = await server.api("POST", "/api/extensions", {
      id: "ghost",
      image: "gofer/no-such-extension:latest",
      settings: {},
    });
    assert.equal(missingImage.status, 400, missingImage.text);
    assert.equal(missingImage.json.error_code, "EXTENSION_START_FAILED");
    assert.match(missingImage.json.message, /no-such-extension/);

    const crashing = await server.api("POST", "/api/extensions", {
      id: "crasher",
      image: "gofer/busybox:latest",
      settings: {},
    });
    assert.equal(crashing.status, 400, crashing.text);
    assert.match(crashing.json.message, /exited with code/);

    for (const id of ["bad-key", "typo", "ghost", "crasher"]) {
      assert.equal((await server.api("GET", `/api/extensions/${id}`)).status, 404, id);
      assert.deepEqual(await containersOf(server, id), [], id);
    }
    const roles = (await server.api("GET", "/api/roles")).json.roles.map((role: { id: string }) => role.id);
    assert.ok(!roles.includes("extension_ghost"));
  });

  it("uninstall takes its container, token, role, subscriptions and objects along", async () => {
    const created = await subscribe(server, "quiet", "cron", "doomed", { expression: "0 0 1 1 *" });
    assert.equal(created.status, 201, created.text);
    const stored = await server.api("POST", "/api/extensions/cron/objects/state?force=true", "x", {
      "content-type": "application/octet-stream",
    });
    assert.equal(stored.status, 201, stored.text);

    assert.equal((await server.api("DELETE", "/api/extensions/cron")).status, 204);
    assert.equal((await server.api("GET", "/api/extensions/cron")).status, 404);
    assert.deepEqual(await containersOf(server, "cron"), []);
    assert.deepEqual((await server.api("GET", `${PIPELINES}/quiet/subscriptions`)).json.subscriptions, []);
    const tokens = (await server.api("GET", "/api/tokens")).json.tokens as Array<{ user: string }>;
    assert.ok(!tokens.some((token) => token.user === "cron (extension)"), "the extension's token survived");
    const roles = (await server.api("GET", "/api/roles")).json.roles.map((role: { id: string }) => role.id);
    assert.ok(!roles.includes("extension_cron"));
    assert.equal((await server.api("GET", "/api/extensions/cron/objects")).status, 404);
    await waitFor("the extension's object files to go", 3_000, async () =>
      existsSync(join(server.dataDir, "objects", "extensions", "cron")) ? undefined : true,
    );
  });
});

describe("extensions that cannot start", { timeout: 60_000 }, () => {
  it("never stop the server from starting; their failure is visible and retried", async () => {
    const server = await startTestServer({
      GOFER_WEB_EXTENSIONS__INSTALL_STD_EXTENSIONS: "true",
      GOFER_WEB_EXTENSIONS__STD_IMAGE_PREFIX: "gofer/missing-extension-",
      GOFER_WEB_EXTENSIONS__RESTART_BACKOFF_MAX: "1",
    });
    try {
      const metadata = await server.api("GET", "/api/system/metadata");
      assert.equal(metadata.status, 200);
      const extension = await waitFor("the failure to be recorded", 10_000, async () => {
        const found = (await server.api("GET", "/api/extensions/interval")).json.extension;
        return found.state === "exited" && found.restarts >= 1 ? found : undefined;
      });
      assert.equal(extension.state_reason.reason, "start_failed");
      assert.match(extension.state_reason.description, /missing-extension-interval/);
      const listed = (await server.api("GET", "/api/extensions")).json.extensions;
      assert.deepEqual(
        listed.map((item: { registration: { extension_id: string } }) => item.registration.extension_id),
        ["cron", "interval"],
      );
    } finally {
      await server.stop();
    }
  });
});

/** The real scheduler, with `start` held back while `delayMs` is set: a start that is still pulling its image. */
function slowStarts(docker: Scheduler) {
  const control = { delayMs: 0 };
  const scheduler: Scheduler = {
    start: async (spec) => {
      if (control.delayMs > 0) await sleep(control.delayMs);
      return docker.start(spec);
    },
    wait: (id) => docker.wait(id),
    logs: (id, options) => docker.logs(id, options),
    stop: (id, timeout) => docker.stop(id, timeout),
    remove: (id) => docker.remove(id),
    listManaged: (labels) => docker.listManaged(labels),
    serviceBindHost: () => docker.serviceBindHost(),
  };
  return { control, scheduler };
}

async function extensionTokens(server: TestServer, id: string): Promise<number> {
  const tokens = (await server.api("GET", "/api/tokens")).json.tokens as Array<{ user: string }>;
  return tokens.filter((token) => token.user === `${id} (extension)`).length;
}

describe("extension lifecycle races", { timeout: 120_000 }, () => {
  let server: TestServer;
  let control: { delayMs: number };

  before(async () => {
    server = await startTestServer(
      { GOFER_WEB_EXTENSIONS__RESTART_BACKOFF_MAX: "1" },
      {
        wrapScheduler: (docker) => {
          const slow = slowStarts(docker);
          control = slow.control;
          return slow.scheduler;
        },
      },
    );
  });
  after(async () => {
    await server?.stop();
  });

  /** Kills the running container, so the supervisor's restart runs into the slow start. */
  async function crashIntoSlowStart(id: string): Promise<void> {
    const [container] = await containersOf(server, id);
    assert.ok(container, `extension ${id} has no container`);
    control.delayMs = 3_000;
    await engine.killContainer(container);
    await waitFor("the restart to begin", 5_000, async () => {
      const state = (await server.api("GET", `/api/extensions/${id}`)).json.extension.state;
      return state === "processing" ? true : undefined;
    });
  }

  it("a disable during a slow restart leaves no container and no valid token, and enable brings one back", async () => {
    await install(server, "racer", IMAGE("interval"));
    await crashIntoSlowStart("racer");
    assert.equal((await server.api("PATCH", "/api/extensions/racer", { enable: false })).status, 204);
    control.delayMs = 0;
    await sleep(4_000);
    assert.deepEqual(await containersOf(server, "racer"), [], "a container outlived the disable");
    assert.equal(await extensionTokens(server, "racer"), 0, "a token outlived the disable");
    assert.equal(
      (await server.api("GET", "/api/extensions/racer")).json.extension.state_reason.reason,
      "disabled",
    );

    assert.equal((await server.api("PATCH", "/api/extensions/racer", { enable: true })).status, 204);
    assert.equal((await server.api("GET", "/api/extensions/racer")).json.extension.state, "running");
    assert.equal((await containersOf(server, "racer")).length, 1);
    assert.equal(await extensionTokens(server, "racer"), 1);
  });

  it("an uninstall during a slow restart removes the container, the token and the role", async () => {
    await install(server, "goner", IMAGE("interval"));
    await crashIntoSlowStart("goner");
    assert.equal((await server.api("DELETE", "/api/extensions/goner")).status, 204);
    control.delayMs = 0;
    await sleep(4_000);
    assert.deepEqual(await containersOf(server, "goner"), []);
    assert.equal(await extensionTokens(server, "goner"), 0);
    const roles = (await server.api("GET", "/api/roles")).json.roles.map((role: { id: string }) => role.id);
    assert.ok(!roles.includes("extension_goner"));
  });
});

describe("a server whose webhook port is taken", () => {
  it("fails to start and leaves nothing listening", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const taken = (blocker.address() as { port: number }).port;
    const apiPort = await freePort();
    try {
      await assert.rejects(
        startTestServer({
          GOFER_WEB_SERVER__BIND_ADDRESS: `127.0.0.1:${apiPort}`,
          GOFER_WEB_EXTERNAL_EVENTS__BIND_ADDRESS: `127.0.0.1:${taken}`,
        }),
        /EADDRINUSE/,
      );
      await assert.rejects(fetch(`http://127.0.0.1:${apiPort}/api/system/metadata`), "the API still answers");
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
