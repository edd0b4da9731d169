// biome-ignore-all lint/suspicious/noTemplateCurlyInString: concurrency groups are written with ${NAME} placeholders
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type PipelineConfig,
  PipelineConfigError,
  pipeline,
  RETRY_CAUSES,
  task,
  validatePipelineConfig,
} from "../src/index.ts";

/** A one-task config: `pipelineExtra` on the pipeline, `taskExtra` on its task `build`. */
function config(pipelineExtra: Record<string, unknown> = {}, taskExtra: Record<string, unknown> = {}) {
  return {
    id: "controls",
    name: "Controls",
    parallelism: 0,
    tasks: [
      {
        id: "build",
        image: "busybox",
        depends_on: {},
        variables: {},
        inject_api_token: false,
        always_pull_newest_image: false,
        ...taskExtra,
      },
    ],
    ...pipelineExtra,
  };
}

function valid(input: unknown): PipelineConfig {
  const result = validatePipelineConfig(input);
  assert.ok(result.ok, result.ok ? "" : JSON.stringify(result.problems, null, 2));
  return result.config;
}

/** The problems' messages, in order. */
function messages(input: unknown): string[] {
  const result = validatePipelineConfig(input);
  assert.equal(result.ok, false, "expected the config to be refused");
  return result.ok ? [] : result.problems.map((problem) => problem.message);
}

describe("pipeline controls: normalisation", () => {
  test("a v0 config gains none of the extensions' keys", () => {
    const checked = valid(config());
    assert.deepEqual(Object.keys(checked), ["id", "name", "description", "parallelism", "tasks"]);
    assert.ok(!("timeout" in (checked.tasks[0] ?? {})));
    assert.ok(!("retries" in (checked.tasks[0] ?? {})));
  });

  test("null (and empty subscriptions) count as absent", () => {
    const checked = valid(
      config({ timeout: null, concurrency: null, subscriptions: [] }, { timeout: null, retries: null }),
    );
    assert.deepEqual(checked, valid(config()));
  });

  test("defaults are filled in when an extension is given", () => {
    const checked = valid(
      config(
        {
          timeout: "1h",
          concurrency: { group: "deploy-${BRANCH}" },
          subscriptions: [{ extension_id: "interval", subscription_id: "nightly" }],
        },
        { timeout: "10m", retries: { limit: 2 } },
      ),
    );
    assert.equal(checked.timeout, "1h");
    assert.deepEqual(checked.concurrency, { group: "deploy-${BRANCH}", cancel_in_progress: false });
    assert.deepEqual(checked.subscriptions, [
      { extension_id: "interval", subscription_id: "nightly", settings: {} },
    ]);
    assert.equal(checked.tasks[0]?.timeout, "10m");
    assert.deepEqual(checked.tasks[0]?.retries, {
      limit: 2,
      delay: "1s",
      factor: 2,
      max_delay: "5m",
      on: [...RETRY_CAUSES],
    });
  });

  test("a complete config comes back as given, and validating it again changes nothing", () => {
    const input = config(
      {
        timeout: "1h30m",
        concurrency: { group: "deploy-${BRANCH}-${ENV_2}", cancel_in_progress: true },
        subscriptions: [
          { extension_id: "interval", subscription_id: "nightly", settings: { every: "24h" } },
          { extension_id: "cron", subscription_id: "nightly", settings: { expression: "0 2 * * *" } },
        ],
      },
      {
        timeout: "90s",
        retries: { limit: 10, delay: "250ms", factor: 1.5, max_delay: "1m", on: ["timeout", "failure"] },
      },
    );
    const checked = valid(input);
    const given = input as unknown as PipelineConfig;
    assert.deepEqual(checked.tasks[0]?.retries, given.tasks[0]?.retries);
    assert.deepEqual(checked.subscriptions, given.subscriptions);
    assert.deepEqual(valid(checked), checked);
  });

  test("retry causes listed twice are kept once, in the order given", () => {
    const checked = valid(config({}, { retries: { limit: 1, on: ["orphaned", "failure", "orphaned"] } }));
    assert.deepEqual(checked.tasks[0]?.retries?.on, ["orphaned", "failure"]);
  });
});

describe("pipeline controls: refusals", () => {
  test("durations that are not Go-style, zero, negative or too long", () => {
    assert.deepEqual(messages(config({}, { timeout: "ten minutes" })), [
      'task `build`: timeout must be a duration such as "90s", "10m" or "1h30m", got `ten minutes`',
    ]);
    assert.deepEqual(messages(config({}, { timeout: 600 })), [
      'task `build`: timeout must be a duration such as "90s", "10m" or "1h30m", got a number',
    ]);
    assert.deepEqual(messages(config({}, { timeout: "0s" })), [
      "task `build`: timeout must be longer than zero, got `0s`",
    ]);
    assert.deepEqual(messages(config({}, { timeout: "-5m" })), [
      "task `build`: timeout must be longer than zero, got `-5m`",
    ]);
    assert.deepEqual(messages(config({ timeout: "10" })), [
      'pipeline timeout must be a duration such as "90s", "10m" or "1h30m", got `10`',
    ]);
    assert.deepEqual(messages(config({ timeout: "200h" })), [
      "pipeline timeout must be at most 168h, got `200h`",
    ]);
  });

  test("retries: limit, factor, delays, causes and unknown fields", () => {
    assert.deepEqual(messages(config({}, { retries: 2 })), [
      'task `build`: retries must be an object such as {"limit": 2}, or null, got a number',
    ]);
    assert.deepEqual(messages(config({}, { retries: {} })), [
      "task `build`: retries.limit is required (how many more attempts, 1 to 10)",
    ]);
    for (const limit of [0, 11, 1.5, "2"]) {
      const got = typeof limit === "number" ? String(limit) : "a string";
      assert.deepEqual(messages(config({}, { retries: { limit } })), [
        `task \`build\`: retries.limit must be a whole number from 1 to 10, got ${got}`,
      ]);
    }
    assert.deepEqual(messages(config({}, { retries: { limit: 1, factor: 0.5 } })), [
      "task `build`: retries.factor must be a number from 1 to 100, got 0.5",
    ]);
    assert.deepEqual(messages(config({}, { retries: { limit: 1, delay: "10m" } })), [
      "task `build`: retries.delay `10m` must not be longer than retries.max_delay `5m`, the default",
    ]);
    assert.deepEqual(messages(config({}, { retries: { limit: 1, delay: "2m", max_delay: "1m" } })), [
      "task `build`: retries.delay `2m` must not be longer than retries.max_delay `1m`",
    ]);
    assert.deepEqual(messages(config({}, { retries: { limit: 1, delay: "soon" } })), [
      'task `build`: retries.delay must be a duration such as "90s", "10m" or "1h30m", got `soon`',
    ]);
    assert.deepEqual(messages(config({}, { retries: { limit: 1, on: ["failure", "oom", "crash"] } })), [
      "task `build`: retries.on lists unknown causes `oom`, `crash`; the causes are failure, timeout, scheduler_error, orphaned",
    ]);
    assert.deepEqual(messages(config({}, { retries: { limit: 1, on: [] } })), [
      "task `build`: retries.on must list at least one of failure, timeout, scheduler_error, orphaned",
    ]);
    assert.deepEqual(messages(config({}, { retries: { limit: 1, backoff: "2s" } })), [
      "task `build`: unknown field `backoff` in retries; the fields are limit, delay, factor, max_delay, on",
    ]);
  });

  test("a task without a usable id is named by its path", () => {
    assert.deepEqual(messages(config({}, { id: "", timeout: "soon" })).slice(-1), [
      'tasks[0]: timeout must be a duration such as "90s", "10m" or "1h30m", got `soon`',
    ]);
  });

  test("concurrency: group syntax, blank groups, unknown fields", () => {
    assert.deepEqual(messages(config({ concurrency: "deploy" })), [
      'concurrency must be an object such as {"group": "deploy-${BRANCH}"}, or null, got a string',
    ]);
    assert.deepEqual(messages(config({ concurrency: { group: " " } })), [
      "concurrency.group must not be blank",
    ]);
    assert.deepEqual(messages(config({ concurrency: {} })), ["concurrency.group is required"]);
    assert.deepEqual(messages(config({ concurrency: { group: "deploy-${BRANCH-NAME}-${}" } })), [
      "concurrency.group `deploy-${BRANCH-NAME}-${}`: `${BRANCH-NAME}` does not name a run variable; a name is letters, digits and _",
      "concurrency.group `deploy-${BRANCH-NAME}-${}`: `${}` does not name a run variable; a name is letters, digits and _",
    ]);
    assert.deepEqual(messages(config({ concurrency: { group: "deploy-${BRANCH" } })), [
      "concurrency.group `deploy-${BRANCH` has an unclosed `${` at character 8; write ${NAME}",
    ]);
    assert.deepEqual(messages(config({ concurrency: { group: "g", cancel_in_progress: "yes", queue: 1 } })), [
      "unknown field `queue` in concurrency; the fields are group, cancel_in_progress",
      "concurrency.cancel_in_progress must be true or false, got a string",
    ]);
    assert.equal(valid(config({ concurrency: { group: "$HOME-{x}-$" } })).concurrency?.group, "$HOME-{x}-$");
  });

  test("subscriptions: identifiers, duplicates, settings", () => {
    assert.deepEqual(messages(config({ subscriptions: { interval: "nightly" } })), [
      "subscriptions must be an array, or null, got an object",
    ]);
    assert.deepEqual(
      messages(
        config({
          subscriptions: [
            { extension_id: "in", subscription_id: "nightly" },
            { extension_id: "interval", subscription_id: "night ly", settings: { every: 5 } },
            { extension_id: "interval", subscription_id: "nightly", extra: true },
            { extension_id: "interval", subscription_id: "nightly" },
            "cron",
          ],
        }),
      ),
      [
        "subscriptions[0].extension_id `in` is not valid: use 3–32 characters, each a letter, a digit or `-`",
        "subscriptions[1].subscription_id `night ly` is not valid: use 3–32 characters, each a letter, a digit or `-`",
        "subscriptions[1].settings.every must be a string, got a number",
        "unknown field `extra` in subscriptions[2]; the fields are extension_id, subscription_id, settings",
        "duplicate subscription `nightly` of extension `interval` (subscriptions[2] and subscriptions[3])",
        "subscriptions[4] must be an object with extension_id, subscription_id and settings, got a string",
      ],
    );
    assert.deepEqual(messages(config({ subscriptions: [{ extension_id: "interval" }] })), [
      "subscriptions[0].subscription_id is required",
    ]);
  });

  test("unknown pipeline fields name the new fields too", () => {
    assert.deepEqual(messages(config({ timeouts: "1h" })), [
      "unknown field `timeouts` in the pipeline config; the fields are id, name, description, parallelism, tasks, timeout, concurrency, subscriptions",
    ]);
  });
});

describe("pipeline controls: the builder", () => {
  test("every control round-trips through finish() and the validator", () => {
    const built = pipeline("deploy", "Deploy")
      .timeout("1h")
      .concurrency("deploy-${BRANCH}", { cancelInProgress: true })
      .subscribe("interval", "nightly", { every: "24h" })
      .subscribe("cron", "weekdays", { expression: "0 6 * * 1-5" })
      .tasks(
        task("build", "busybox").timeout("10m").retries(2),
        task("upload", "busybox")
          .dependsOn("build")
          .retries({ limit: 3, delay: "2s", factor: 3, maxDelay: "1m", on: ["failure", "timeout"] }),
      )
      .finish();
    assert.equal(built.timeout, "1h");
    assert.deepEqual(built.concurrency, { group: "deploy-${BRANCH}", cancel_in_progress: true });
    assert.deepEqual(built.subscriptions, [
      { extension_id: "interval", subscription_id: "nightly", settings: { every: "24h" } },
      { extension_id: "cron", subscription_id: "weekdays", settings: { expression: "0 6 * * 1-5" } },
    ]);
    assert.equal(built.tasks[0]?.timeout, "10m");
    assert.deepEqual(built.tasks[0]?.retries, {
      limit: 2,
      delay: "1s",
      factor: 2,
      max_delay: "5m",
      on: [...RETRY_CAUSES],
    });
    assert.deepEqual(built.tasks[1]?.retries, {
      limit: 3,
      delay: "2s",
      factor: 3,
      max_delay: "1m",
      on: ["failure", "timeout"],
    });
    assert.deepEqual(validatePipelineConfig(JSON.parse(JSON.stringify(built))), { ok: true, config: built });
  });

  test("the config's own concurrency shape, and null removing a control", () => {
    const built = pipeline("deploy", "Deploy")
      .concurrency({ group: "release" })
      .timeout("1h")
      .timeout(null)
      .tasks(task("build", "busybox").retries(2).retries(null).timeout("1m").timeout(null))
      .finish();
    assert.deepEqual(built.concurrency, { group: "release", cancel_in_progress: false });
    assert.deepEqual(Object.keys(built), [
      "id",
      "name",
      "description",
      "parallelism",
      "tasks",
      "concurrency",
    ]);
    assert.ok(!("retries" in (built.tasks[0] ?? {})) && !("timeout" in (built.tasks[0] ?? {})));
  });

  test("an undefined option is left to its default", () => {
    const built = pipeline("deploy", "Deploy")
      .tasks(task("build", "busybox").retries({ limit: 1, delay: undefined }))
      .finish();
    assert.equal(built.tasks[0]?.retries?.delay, "1s");
  });

  test("finish() refuses bad controls with the validator's messages, naming the task", () => {
    assert.throws(
      () =>
        pipeline("deploy", "Deploy")
          .timeout("forever")
          .subscribe("interval", "nightly")
          .subscribe("interval", "nightly")
          .tasks(task("build", "busybox").retries(11))
          .finish(),
      (error: unknown) => {
        assert.ok(error instanceof PipelineConfigError);
        assert.match(
          error.message,
          /task `build`: retries\.limit must be a whole number from 1 to 10, got 11/,
        );
        assert.match(
          error.message,
          /pipeline timeout must be a duration such as "90s", "10m" or "1h30m", got `forever`/,
        );
        assert.match(error.message, /duplicate subscription `nightly` of extension `interval`/);
        return true;
      },
    );
  });
});
