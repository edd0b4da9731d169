// biome-ignore-all lint/suspicious/noTemplateCurlyInString: concurrency groups are written with ${NAME} placeholders
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type PipelineConfig, validatePipelineConfig } from "@gofer/sdk";
import { diffPipelineConfigs, formatConfigDiff } from "../src/cli/pipeline-file/config-diff.ts";
import { liveConfigFromVersion } from "../src/cli/pipeline-file/live-config.ts";
import { pipelineControls, toStoredTasks } from "../src/domain/config-conversion.ts";
import { getLiveConfig, insertConfig, setConfigState } from "../src/storage/configs-store.ts";
import { openDatabase } from "../src/storage/database.ts";
import { insertNamespace } from "../src/storage/namespaces-store.ts";
import { upsertPipeline } from "../src/storage/pipelines-store.ts";
import { pipelineConfig, shTask } from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const configsUrl = (pipelineId: string) => `/api/namespaces/default/pipelines/${pipelineId}/configs`;

/** A config using every extension of v0, written with some defaults left out. */
function controlledConfig(id: string) {
  return {
    ...pipelineConfig(id, [
      { ...shTask("build", "true"), timeout: "10m", retries: { limit: 2 } },
      {
        ...shTask("upload", "true", { depends_on: { build: "Success" } }),
        retries: { limit: 3, delay: "2s", factor: 1.5, max_delay: "1m", on: ["failure", "timeout"] },
      },
    ]),
    timeout: "1h30m",
    concurrency: { group: "deploy-${BRANCH}" },
    subscriptions: [
      { extension_id: "interval", subscription_id: "nightly", settings: { every: "24h" } },
      { extension_id: "cron", subscription_id: "weekdays" },
    ],
  };
}

function normalised(input: unknown): PipelineConfig {
  const result = validatePipelineConfig(input);
  assert.ok(result.ok, result.ok ? "" : JSON.stringify(result.problems));
  return result.config;
}

describe("pipeline controls through the API", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  it("serves a registered config with every extension back as registered, defaults filled in", async () => {
    const input = controlledConfig("controlled");
    const registered = await server.api("POST", configsUrl("controlled"), { config: input });
    assert.equal(registered.status, 201, registered.text);
    const shown = await server.api("GET", `${configsUrl("controlled")}/1`);
    assert.equal(shown.status, 200, shown.text);
    const served = shown.json.config;
    for (const body of [served, registered.json.pipeline.config]) {
      assert.deepEqual(liveConfigFromVersion(body), normalised(input));
    }
    assert.equal(served.timeout, "1h30m");
    assert.deepEqual(served.concurrency, { group: "deploy-${BRANCH}", cancel_in_progress: false });
    assert.deepEqual(served.subscriptions, [
      { extension_id: "interval", subscription_id: "nightly", settings: { every: "24h" } },
      { extension_id: "cron", subscription_id: "weekdays", settings: {} },
    ]);
    assert.equal(served.tasks.build.timeout, "10m");
    assert.deepEqual(served.tasks.build.retries, {
      limit: 2,
      delay: "1s",
      factor: 2,
      max_delay: "5m",
      on: ["failure", "timeout", "scheduler_error", "orphaned"],
    });
    assert.ok(!("controls_json" in served));

    const listed = await server.api("GET", configsUrl("controlled"));
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual(listed.json.configs[0], served);
  });

  it("serves a v0 config with none of the extensions' keys", async () => {
    const registered = await server.api("POST", configsUrl("plain"), {
      config: { ...pipelineConfig("plain", [shTask("build", "true")]), timeout: null, subscriptions: [] },
    });
    assert.equal(registered.status, 201, registered.text);
    const shown = await server.api("GET", `${configsUrl("plain")}/1`);
    assert.equal(shown.status, 200, shown.text);
    for (const key of ["timeout", "concurrency", "subscriptions", "controls_json"]) {
      assert.ok(!(key in shown.json.config), key);
    }
    for (const key of ["timeout", "retries"]) assert.ok(!(key in shown.json.config.tasks.build), key);
  });

  it("refuses bad controls with 400 and the validator's messages", async () => {
    const config = {
      ...pipelineConfig("refused", [{ ...shTask("build", "true"), timeout: "ten minutes" }]),
      concurrency: { group: "deploy-${BRANCH" },
      subscriptions: [
        { extension_id: "interval", subscription_id: "nightly" },
        { extension_id: "interval", subscription_id: "nightly" },
      ],
    };
    const refused = await server.api("POST", configsUrl("refused"), { config });
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.json.error_code, "INVALID_PIPELINE_CONFIG");
    const message: string = refused.json.message;
    assert.match(
      message,
      /task `build`: timeout must be a duration such as "90s", "10m" or "1h30m", got `ten minutes`/,
    );
    assert.match(message, /concurrency\.group `deploy-\$\{BRANCH` has an unclosed `\$\{`/);
    assert.match(message, /duplicate subscription `nightly` of extension `interval`/);
  });
});

describe("pipeline controls in storage", () => {
  it("keeps the pipeline-level extensions in controls_json, null for v0, and the live config carries them", async () => {
    const db = await openDatabase(":memory:");
    try {
      await insertNamespace(db, { id: "ns", name: "ns", description: "", created: 1, modified: 1 });
      await upsertPipeline(db, "ns", "stored", 1);
      const store = async (version: number, input: unknown) => {
        const config = normalised(input);
        const { tasks, order } = toStoredTasks(config);
        const base = {
          namespace_id: "ns",
          pipeline_id: "stored",
          version,
          parallelism: 0,
          name: config.name,
        };
        await insertConfig(
          db,
          {
            ...base,
            description: "",
            tasks,
            state: "unreleased",
            registered: 1,
            deprecated: 0,
            ...pipelineControls(config),
          },
          order,
        );
      };
      await store(1, pipelineConfig("stored", [shTask("build", "true")]));
      await store(2, controlledConfig("stored"));
      const rows = await db
        .selectFrom("pipeline_configs")
        .select(["version", "controls_json"])
        .orderBy("version")
        .execute();
      assert.equal(rows[0]?.controls_json, null);
      assert.deepEqual(Object.keys(JSON.parse(rows[1]?.controls_json ?? "{}")), [
        "timeout",
        "concurrency",
        "subscriptions",
      ]);

      await setConfigState(db, "ns", "stored", 2, "live");
      const live = await getLiveConfig(db, "ns", "stored");
      assert.equal(live?.timeout, "1h30m");
      assert.deepEqual(live?.concurrency, { group: "deploy-${BRANCH}", cancel_in_progress: false });
      assert.equal(live?.subscriptions?.length, 2);
      assert.deepEqual(live?.tasks.build?.retries?.limit, 2);
      await setConfigState(db, "ns", "stored", 1, "live");
      await setConfigState(db, "ns", "stored", 2, "deprecated");
      const v0 = await getLiveConfig(db, "ns", "stored");
      assert.ok(v0 && !("timeout" in v0) && !("subscriptions" in v0) && !("controls_json" in v0));
    } finally {
      await db.destroy();
    }
  });
});

describe("pipeline controls in the `gofer up` diff", () => {
  const live = normalised(controlledConfig("web"));
  const lines = (next: PipelineConfig) => formatConfigDiff(diffPipelineConfigs(live, next), { color: false });

  it("finds nothing to do when the controls are equal", () => {
    assert.deepEqual(lines(structuredClone(live)), ["no changes against the live version"]);
  });

  it("shows timeout, concurrency, subscription and task control changes", () => {
    const next = normalised({
      ...controlledConfig("web"),
      timeout: null,
      concurrency: { group: "deploy-${ENV}", cancel_in_progress: true },
      subscriptions: [
        { extension_id: "interval", subscription_id: "nightly", settings: { every: "12h", jitter: "1m" } },
        { extension_id: "github", subscription_id: "pushes", settings: { repository: "o/r" } },
      ],
      tasks: [
        { ...shTask("build", "true"), timeout: "20m", retries: { limit: 4 } },
        { ...shTask("upload", "true", { depends_on: { build: "Success" } }) },
      ],
    });
    assert.deepEqual(lines(next), [
      "~ timeout: 1h30m → none",
      '~ concurrency: group "deploy-${BRANCH}" → group "deploy-${ENV}" (cancel in progress)',
      "+ subscription github/pushes (settings: repository)",
      "- subscription cron/weekdays",
      "~ subscription interval/nightly: settings: +jitter ~every",
      "~ task build: timeout 10m → 20m, retries.limit 2 → 4",
      "~ task upload: retries limit 3, delay 2s, factor 1.5, max_delay 1m, on failure|timeout → none",
    ]);
    assert.ok(!lines(next).join("\n").includes("12h"), "setting values never appear");
  });

  it("lists declared subscriptions as added on a first version", () => {
    const first = formatConfigDiff(diffPipelineConfigs(undefined, live), { color: false });
    assert.ok(first.includes("+ subscription interval/nightly (settings: every)"), first.join("\n"));
    assert.ok(first.includes("+ subscription cron/weekdays"), first.join("\n"));
  });
});
