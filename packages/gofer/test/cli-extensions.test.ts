import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { EngineClient } from "../src/scheduler/docker/engine-client.ts";
import {
  assertExit,
  type CliResult,
  type Gofer,
  parseJson,
  showResult,
  useCliServer,
} from "./support/cli.ts";
import { deployPipeline, pipelineConfig, shTask } from "./support/pipelines.ts";
import type { TestServer } from "./support/test-server.ts";

/** Built by `npm run images`; the tests that need a running extension are skipped without it. */
const INTERVAL_IMAGE = process.env.GOFER_INTERVAL_IMAGE ?? "gofer/extension-interval:latest";

/** A usage error: exit 2, nothing on stdout, and `message` on stderr. */
function assertUsage(result: CliResult, message: RegExp): void {
  assertExit(result, 2);
  assert.equal(result.stdout, "", showResult(result));
  assert.match(result.stderr, /^error: /m, showResult(result));
  assert.match(result.stderr, message, showResult(result));
}

/** A failure the server reported: exit 1, nothing on stdout, and `message` on stderr. */
function assertFails(result: CliResult, message: RegExp): void {
  assertExit(result, 1);
  assert.equal(result.stdout, "", showResult(result));
  assert.match(result.stderr, /^error: /m, showResult(result));
  assert.match(result.stderr, message, showResult(result));
}

// biome-ignore lint/suspicious/noExplicitAny: tests read the CLI's JSON as served
const json = (result: CliResult): any => {
  assertExit(result, 0);
  return parseJson(result);
};

const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("CLI: extensions and subscriptions", () => {
  let server: TestServer;
  let gofer: Gofer;
  useCliServer((started, cli) => {
    server = started;
    gofer = cli;
  });

  describe("usage errors exit 2 before asking the server", () => {
    it("missing arguments name the argument", async () => {
      assertUsage(await gofer(["extension", "get"]), /missing required argument 'id'/);
      assertUsage(await gofer(["extension", "install", "interval"]), /missing required argument 'image'/);
      assertUsage(await gofer(["extension", "logs"]), /missing required argument 'id'/);
      assertUsage(await gofer(["pipeline", "subscription", "list"]), /missing required argument 'pipeline'/);
      assertUsage(
        await gofer(["pipeline", "subscription", "create", "app", "interval"]),
        /missing required argument 'subscription'/,
      );
      assertUsage(
        await gofer(["pipeline", "subscription", "disable", "app"]),
        /missing required argument 'extension'/,
      );
      assertUsage(await gofer(["pipeline", "subscribe", "app"]), /missing required argument 'extension'/);
      assertUsage(
        await gofer(["pipeline", "unsubscribe", "app", "interval"]),
        /missing required argument 'subscription'/,
      );
    });

    it("a -c or -s without `=` names the argument", async () => {
      assertUsage(
        await gofer(["extension", "install", "interval", INTERVAL_IMAGE, "-c", "min_interval"]),
        /-c, --setting.*'min_interval' is invalid.*KEY=VALUE/,
      );
      assertUsage(
        await gofer(["pipeline", "subscribe", "app", "interval", "every-5m", "-s", "=5m"]),
        /-s, --setting.*'=5m' is invalid/,
      );
    });

    it("registry credentials need both the user and the password from stdin", async () => {
      assertUsage(
        await gofer([
          "extension",
          "install",
          "private",
          "registry.example/ext:1",
          "--registry-user",
          "robot",
        ]),
        /--registry-user needs --registry-pass-stdin/,
      );
      assertUsage(
        await gofer(["extension", "install", "private", "registry.example/ext:1", "--registry-pass-stdin"], {
          input: "hunter2\n",
        }),
        /--registry-pass-stdin needs --registry-user/,
      );
      assertUsage(
        await gofer(
          [
            "extension",
            "install",
            "private",
            "registry.example/ext:1",
            "--registry-user",
            "robot",
            "--registry-pass-stdin",
          ],
          { input: "\n" },
        ),
        /registry password read from stdin is empty/,
      );
      const listed = await server.api("GET", "/api/extensions");
      assert.equal(listed.status, 200, listed.text);
      assert.equal(
        listed.json.extensions.some(
          (item: { registration: { extension_id: string } }) => item.registration.extension_id === "private",
        ),
        false,
        "nothing was installed",
      );
    });
  });

  describe("against the server", () => {
    it("`extension list --json` prints one JSON array of extensions", async () => {
      const listed = json(await gofer(["extension", "list", "--json"]));
      assert.ok(Array.isArray(listed), JSON.stringify(listed));
      const direct = await server.api("GET", "/api/extensions");
      assert.deepEqual(
        listed.map((item: { registration: { extension_id: string } }) => item.registration.extension_id),
        direct.json.extensions.map(
          (item: { registration: { extension_id: string } }) => item.registration.extension_id,
        ),
      );
      const table = await gofer(["extension", "list"]);
      assertExit(table, 0);
      assert.match(
        table.stdout,
        listed.length ? /^ID\s+IMAGE\s+STATUS\s+STATE\s+STARTED\s+REASON$/m : /\(none\)/,
      );
    });

    it("`extension get missing` fails with the server's 404 message", async () => {
      const direct = await server.api("GET", "/api/extensions/missing");
      assert.equal(direct.status, 404, direct.text);
      const result = await gofer(["extension", "get", "missing"]);
      assertFails(result, new RegExp(`^error: ${literal(direct.json.message)} \\(HTTP 404`, "m"));
      assertFails(await gofer(["extension", "get", "missing", "--json"]), /HTTP 404/);
      assertFails(await gofer(["extension", "uninstall", "missing"]), /HTTP 404/);
      assertFails(await gofer(["extension", "subscriptions", "missing"]), /HTTP 404/);
    });

    it("subscriptions of a missing pipeline or to a missing extension fail with 404", async () => {
      assertFails(
        await gofer(["pipeline", "subscription", "get", "no-such-pipeline", "interval", "every-5m"]),
        /HTTP 404/,
      );
      await deployPipeline(server, pipelineConfig("lonely", [shTask("t", "true")]));
      assertFails(
        await gofer(["pipeline", "subscribe", "lonely", "no-such-extension", "every-5m", "-s", "every=5m"]),
        /HTTP 404/,
      );
      const listed = json(await gofer(["pipeline", "subscription", "list", "lonely", "--json"]));
      assert.deepEqual(listed, []);
    });
  });

  describe("with the interval extension installed", () => {
    // A missing image fails here rather than skipping: ./test.sh builds it, so its absence is a broken set-up.
    before(async () => {
      const image = await new EngineClient().inspectImage(INTERVAL_IMAGE);
      assert.ok(image, `${INTERVAL_IMAGE} is not built; run \`npm run images\``);
    });

    /** Polls the extension until it is running, failing with its last state and reason otherwise. */
    async function waitUntilRunning(id: string): Promise<void> {
      let last: unknown;
      for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(250)) {
        const got = await server.api("GET", `/api/extensions/${id}`);
        last = got.json;
        if (got.status === 200 && got.json.extension.state === "running") return;
      }
      assert.fail(`extension ${id} did not reach running: ${JSON.stringify(last)}`);
    }

    it("installs, shows, subscribes a pipeline, disables, enables and uninstalls", async () => {
      const installed = await gofer([
        "extension",
        "install",
        "interval",
        INTERVAL_IMAGE,
        "-c",
        "min_interval=1m",
      ]);
      assertExit(installed, 0);
      assert.match(installed.stdout, /^Extension interval installed$/m);
      await waitUntilRunning("interval");

      const listed = await gofer(["extension", "list"]);
      assertExit(listed, 0);
      assert.match(
        listed.stdout,
        new RegExp(`^interval\\s+${literal(INTERVAL_IMAGE)}\\s+\\S+\\s+running\\s`, "m"),
      );

      const shown = await gofer(["extension", "get", "interval"]);
      assertExit(shown, 0);
      assert.match(shown.stdout, /^state:\s+running$/m);
      assert.match(shown.stdout, /^restarts:\s+0$/m);
      assert.match(shown.stdout, /min_interval=1m/);
      assert.match(shown.stdout, /^Config parameters/m);
      assert.match(shown.stdout, /^min_interval\s+no\s+/m);
      assert.match(shown.stdout, /^Subscription parameters/m);
      assert.match(shown.stdout, /^every\s+yes\s+/m);
      const got = json(await gofer(["extension", "get", "interval", "--json"]));
      assert.equal(got.registration.extension_id, "interval");
      assert.equal(got.state, "running");
      assert.equal(got.state_reason, null);

      // A reader who is not an admin sees the setting's key but not its value.
      assertExit(await gofer(["role", "create", "ext-reader", "-p", "extensions:.*=read"]), 0);
      const reader = json(await gofer(["token", "create", "reader", "-r", "ext-reader", "--json"]));
      const masked = await gofer(["extension", "get", "interval"], { env: { GOFER_TOKEN: reader.secret } });
      assertExit(masked, 0);
      assert.match(masked.stdout, /min_interval=\[redacted\]/);
      assert.ok(!masked.stdout.includes("min_interval=1m"), showResult(masked));

      await deployPipeline(server, pipelineConfig("app", [shTask("t", "true")]));
      const tooOften = await gofer(["pipeline", "subscribe", "app", "interval", "fast", "-s", "every=1s"]);
      assertExit(tooOften, 1);
      assert.match(tooOften.stderr, /^error: /m, showResult(tooOften));

      const subscribed = await gofer([
        "pipeline",
        "subscribe",
        "app",
        "interval",
        "hourly",
        "-s",
        "every=1h",
      ]);
      assertExit(subscribed, 0);
      assert.match(subscribed.stdout, /^Subscription interval\/hourly of pipeline app created$/m);
      const created = json(
        await gofer([
          "pipeline",
          "subscription",
          "create",
          "app",
          "interval",
          "daily",
          "-s",
          "every=24h",
          "--json",
        ]),
      );
      assert.equal(created.subscription_id, "daily");
      assert.equal(created.status, "active");
      assert.deepEqual(created.settings, { every: "24h" });
      assertFails(
        await gofer(["pipeline", "subscribe", "app", "interval", "hourly", "-s", "every=1h"]),
        /HTTP 409/,
      );

      const table = await gofer(["pipeline", "subscription", "list", "app"]);
      assertExit(table, 0);
      assert.match(table.stdout, /^EXTENSION\s+SUBSCRIPTION\s+STATUS\s+SETTINGS/m);
      assert.match(table.stdout, /^interval\s+hourly\s+active\s+every=1h/m);
      const subscriptions = json(await gofer(["pipeline", "subscription", "list", "app", "--json"]));
      assert.deepEqual(
        subscriptions.map((item: { subscription_id: string }) => item.subscription_id).sort(),
        ["daily", "hourly"],
      );
      const one = await gofer(["pipeline", "subscription", "get", "app", "interval", "hourly"]);
      assertExit(one, 0);
      assert.match(one.stdout, /^settings:\s+every=1h$/m);

      const disabled = json(
        await gofer(["pipeline", "subscription", "disable", "app", "interval", "hourly", "--json"]),
      );
      assert.equal(disabled.status, "disabled");
      const enabled = await gofer(["pipeline", "subscription", "enable", "app", "interval", "hourly"]);
      assertExit(enabled, 0);
      assert.match(enabled.stdout, /^Subscription interval\/hourly of pipeline app enabled$/m);

      const ofExtension = json(await gofer(["extension", "subscriptions", "interval", "--json"]));
      assert.deepEqual(
        ofExtension
          .map((item: { pipeline_id: string; subscription_id: string }) => item.subscription_id)
          .sort(),
        ["daily", "hourly"],
      );

      const unsubscribed = await gofer(["pipeline", "unsubscribe", "app", "interval", "hourly"]);
      assertExit(unsubscribed, 0);
      assert.match(unsubscribed.stdout, /^Subscription interval\/hourly of pipeline app deleted$/m);
      assertExit(await gofer(["pipeline", "subscription", "delete", "app", "interval", "daily"]), 0);
      assert.deepEqual(json(await gofer(["pipeline", "subscription", "list", "app", "--json"])), []);

      const logs = await gofer(["extension", "logs", "interval", "--json"]);
      assertExit(logs, 0);
      for (const line of logs.stdout.split("\n").filter((text) => text !== ""))
        assert.equal(typeof JSON.parse(line), "string", showResult(logs));
      const debug = json(await gofer(["extension", "debug", "interval", "--json"]));
      assert.equal(typeof debug.info, "string");

      const off = await gofer(["extension", "disable", "interval"]);
      assertExit(off, 0);
      assert.match(off.stdout, /^Extension interval disabled$/m);
      assert.equal(
        json(await gofer(["extension", "get", "interval", "--json"])).registration.status,
        "disabled",
      );
      const on = json(await gofer(["extension", "enable", "interval", "--json"]));
      assert.equal(on.registration.status, "enabled");
      await waitUntilRunning("interval");

      const removed = await gofer(["extension", "uninstall", "interval"]);
      assertExit(removed, 0);
      assert.match(removed.stdout, /^Extension interval uninstalled$/m);
      assertFails(await gofer(["extension", "get", "interval"]), /HTTP 404/);
    });
  });
});
