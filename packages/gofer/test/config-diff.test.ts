import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { stripVTControlCharacters } from "node:util";
import type { PipelineConfig, TaskConfig } from "@gofer/sdk";
import type { PipelineConfigVersion } from "@gofer/sdk/client";
import { diffPipelineConfigs, formatConfigDiff } from "../src/cli/pipeline-file/config-diff.ts";
import { liveConfigFromVersion } from "../src/cli/pipeline-file/live-config.ts";

function task(id: string, overrides: Partial<TaskConfig> = {}): TaskConfig {
  return {
    id,
    description: null,
    image: "gofer/busybox:latest",
    registry_auth: null,
    depends_on: {},
    variables: {},
    entrypoint: null,
    command: null,
    inject_api_token: false,
    always_pull_newest_image: false,
    ...overrides,
  };
}

function config(tasks: TaskConfig[], overrides: Partial<PipelineConfig> = {}): PipelineConfig {
  return { id: "web", name: "Web", description: null, parallelism: 0, tasks, ...overrides };
}

const LIVE = config(
  [
    task("build", { command: ["make"], variables: { CI: "true", TOKEN: "live-secret" } }),
    task("test", { depends_on: { build: "Success" }, command: ["make", "test"] }),
    task("deploy", { depends_on: { test: "Success" }, registry_auth: { user: "ci", pass: "live-pass" } }),
  ],
  { description: "the web site", parallelism: 2 },
);

/** `LIVE` with the task `id` changed by `change`. */
function withTask(id: string, change: Partial<TaskConfig>): PipelineConfig {
  return { ...LIVE, tasks: LIVE.tasks.map((item) => (item.id === id ? { ...item, ...change } : item)) };
}

function lines(live: PipelineConfig | undefined, next: PipelineConfig): string[] {
  return formatConfigDiff(diffPipelineConfigs(live, next), { color: false });
}

describe("diffPipelineConfigs", () => {
  it("lists every task as added when nothing is live", () => {
    const diff = diffPipelineConfigs(undefined, LIVE);
    assert.equal(diff.firstVersion, true);
    assert.equal(diff.identical, false);
    assert.deepEqual(
      diff.addedTasks.map((item) => item.id),
      ["build", "test", "deploy"],
    );
    assert.deepEqual(lines(undefined, LIVE), [
      "+ pipeline web (no version is live yet)",
      "+ task build (image gofer/busybox:latest)",
      "+ task test (image gofer/busybox:latest)",
      "+ task deploy (image gofer/busybox:latest)",
    ]);
  });

  it("says so when nothing changed, whatever the order of tasks", () => {
    const next = structuredClone({ ...LIVE, tasks: [...LIVE.tasks].reverse() });
    const diff = diffPipelineConfigs(LIVE, next);
    assert.equal(diff.identical, true);
    assert.equal(diff.unchangedTasks, 3);
    assert.deepEqual(lines(LIVE, next), ["no changes against the live version"]);
  });

  it("ignores the differences the server's stored copy introduces", () => {
    const stored = config(
      [
        task("build", {
          description: "",
          command: ["make"],
          variables: { CI: "true", TOKEN: "live-secret" },
        }),
        task("test", { depends_on: { build: "success" as never }, command: ["make", "test"] }),
        task("deploy", {
          depends_on: { test: "Success" },
          registry_auth: { user: "ci", pass: "[redacted]" },
        }),
      ],
      { description: "the web site", parallelism: 2 },
    );
    assert.equal(diffPipelineConfigs(stored, LIVE).identical, true);
    assert.equal(
      diffPipelineConfigs({ ...LIVE, description: "" }, { ...LIVE, description: null }).identical,
      true,
    );
  });

  it("reports the pipeline's own fields", () => {
    const next = { ...LIVE, name: "Web site", description: "new words", parallelism: 0 };
    const diff = diffPipelineConfigs(LIVE, next);
    assert.deepEqual(diff.pipeline, [
      { field: "name", from: "Web", to: "Web site" },
      { field: "description", from: "the web site", to: "new words" },
      { field: "parallelism", from: 2, to: 0 },
    ]);
    assert.equal(diff.unchangedTasks, 3);
    assert.deepEqual(lines(LIVE, next), [
      '~ name: "Web" → "Web site"',
      "~ description changed",
      "~ parallelism: 2 → 0 (server default)",
      "  3 tasks unchanged",
    ]);
  });

  it("reports added and removed tasks", () => {
    const next = config(
      [...LIVE.tasks.filter((item) => item.id !== "test"), task("lint", { image: "node:24" })],
      {
        description: "the web site",
        parallelism: 2,
      },
    );
    const diff = diffPipelineConfigs(LIVE, next);
    assert.deepEqual(diff.addedTasks, [{ id: "lint", image: "node:24" }]);
    assert.deepEqual(diff.removedTasks, ["test"]);
    assert.deepEqual(diff.changedTasks, []);
    assert.equal(diff.unchangedTasks, 2);
    assert.deepEqual(lines(LIVE, next), [
      "+ task lint (image node:24)",
      "- task test",
      "  2 tasks unchanged",
    ]);
  });

  it("reports each task field that changed, one line per task", () => {
    const cases: Array<[Partial<TaskConfig>, string, string]> = [
      [{ image: "gofer/busybox:1.36" }, "build", "image gofer/busybox:latest → gofer/busybox:1.36"],
      [{ command: ["make", "all"] }, "build", "command changed"],
      [{ command: null }, "build", "command changed"],
      [{ entrypoint: ["/bin/sh", "-c"] }, "build", "entrypoint changed"],
      [{ description: "compiles" }, "build", "description changed"],
      [{ inject_api_token: true }, "build", "inject_api_token false → true"],
      [{ always_pull_newest_image: true }, "build", "always_pull_newest_image false → true"],
      [{ registry_auth: { user: "ci", pass: "rotated" } }, "deploy", "registry auth changed"],
      [{ registry_auth: { user: "robot", pass: "live-pass" } }, "deploy", "registry auth changed"],
      [{ registry_auth: null }, "deploy", "registry auth changed"],
      [{ registry_auth: { user: "ci", pass: "new" } }, "build", "registry auth changed"],
    ];
    for (const [change, id, expected] of cases) {
      const diff = diffPipelineConfigs(LIVE, withTask(id, change));
      assert.equal(diff.changedTasks.length, 1, JSON.stringify(change));
      assert.equal(diff.unchangedTasks, 2);
      assert.deepEqual(lines(LIVE, withTask(id, change)), [
        `~ task ${id}: ${expected}`,
        "  2 tasks unchanged",
      ]);
    }
  });

  it("names the variable keys that were added, removed or changed, never their values", () => {
    const next = withTask("build", { variables: { CI: "false", FOO: "new-secret" } });
    const diff = diffPipelineConfigs(LIVE, next);
    assert.deepEqual(diff.changedTasks, [
      {
        id: "build",
        fields: ["variables"],
        variables: { added: ["FOO"], removed: ["TOKEN"], changed: ["CI"] },
      },
    ]);
    const output = lines(LIVE, next).join("\n");
    assert.match(output, /^~ task build: variables: \+FOO -TOKEN ~CI$/m);
    for (const secret of ["live-secret", "new-secret", "false", "true"]) {
      assert.ok(!output.includes(secret), `${secret} must not be shown`);
    }
  });

  it("never shows registry credentials", () => {
    const output = lines(
      LIVE,
      withTask("deploy", { registry_auth: { user: "robot", pass: "next-pass" } }),
    ).join("\n");
    assert.doesNotMatch(output, /robot|next-pass|live-pass|\bci\b/);
  });

  it("reports parents added, removed and given another condition", () => {
    const next = withTask("deploy", { depends_on: { build: "Any", test: "Failure" } });
    const moreNext = withTask("test", { depends_on: {} });
    assert.deepEqual(diffPipelineConfigs(LIVE, next).changedTasks[0]?.dependsOn, {
      added: [{ parent: "build", condition: "Any" }],
      removed: [],
      changed: [{ parent: "test", from: "Success", to: "Failure" }],
    });
    assert.deepEqual(
      lines(LIVE, next)[0],
      "~ task deploy: depends on: +build (any) ~test (success → failure)",
    );
    assert.deepEqual(lines(LIVE, moreNext)[0], "~ task test: depends on: -build");
  });

  it("lists several changed fields of one task in a fixed order", () => {
    const next = withTask("build", {
      description: "compiles",
      always_pull_newest_image: true,
      variables: { CI: "true", TOKEN: "live-secret", EXTRA: "1" },
      command: ["make", "-j4"],
      image: "gofer/busybox:1.36",
    });
    const diff = diffPipelineConfigs(LIVE, next);
    assert.deepEqual(diff.changedTasks[0]?.fields, [
      "image",
      "command",
      "variables",
      "always_pull_newest_image",
      "description",
    ]);
    assert.equal(
      lines(LIVE, next)[0],
      "~ task build: image gofer/busybox:latest → gofer/busybox:1.36, command changed, variables: +EXTRA, " +
        "always_pull_newest_image false → true, description changed",
    );
  });

  it("quotes ids and keys that could confuse a terminal", () => {
    const next = withTask("build", {
      variables: { CI: "true", TOKEN: "live-secret", "BAD\u001b[31mKEY": "x" },
    });
    assert.equal(lines(LIVE, next)[0], '~ task build: variables: +"BAD\\u001b[31mKEY"');
  });

  it("reports each resource limit added, removed or changed, as written", () => {
    const limited = withTask("build", { resources: { cpu: "0.5", memory: "256Mi" } });
    assert.deepEqual(lines(LIVE, limited), [
      "~ task build: cpu unlimited → 0.5, memory unlimited → 256Mi",
      "  2 tasks unchanged",
    ]);
    const diff = diffPipelineConfigs(limited, withTask("build", { resources: { cpu: "500m" } }));
    assert.deepEqual(diff.changedTasks[0]?.fields, ["resources"]);
    assert.deepEqual(diff.changedTasks[0]?.resources, [
      { field: "cpu", from: "0.5", to: "500m" },
      { field: "memory", from: "256Mi", to: null },
    ]);
    assert.equal(lines(limited, LIVE)[0], "~ task build: cpu 0.5 → unlimited, memory 256Mi → unlimited");
    assert.equal(diffPipelineConfigs(limited, structuredClone(limited)).identical, true);
    assert.equal(diffPipelineConfigs(LIVE, withTask("build", { resources: {} })).identical, true);
  });
});

describe("formatConfigDiff colours", () => {
  it("colours additions, removals and changes only when asked", () => {
    const next = config([task("build", { image: "other" }), task("lint")], { description: "the web site" });
    const diff = diffPipelineConfigs(LIVE, next);
    const coloured = formatConfigDiff(diff, { color: true });
    const plain = formatConfigDiff(diff, { color: false });
    assert.deepEqual(coloured.map(stripVTControlCharacters), plain);
    assert.ok(plain.every((line) => !line.includes("\u001b")));
    const colourOf = (prefix: string) =>
      coloured.find((line) => stripVTControlCharacters(line).startsWith(prefix));
    assert.ok(colourOf("+ task lint")?.startsWith("\u001b[32m"));
    assert.ok(colourOf("- task test")?.startsWith("\u001b[31m"));
    assert.ok(colourOf("~ task build")?.startsWith("\u001b[33m"));
  });
});

describe("liveConfigFromVersion", () => {
  it("turns the server's stored version into a config that diffs as equal to what was registered", () => {
    const stored: PipelineConfigVersion = {
      namespace_id: "default",
      pipeline_id: "web",
      version: 4,
      parallelism: 2,
      name: "Web",
      description: "the web site",
      state: "live",
      registered: 1,
      deprecated: 0,
      tasks: Object.fromEntries(
        LIVE.tasks.map((item) => [
          item.id,
          {
            ...item,
            description: item.description ?? "",
            registry_auth: item.registry_auth && { user: item.registry_auth.user, pass: "[redacted]" },
            depends_on: Object.fromEntries(
              Object.entries(item.depends_on).map(([parent, condition]) => [
                parent,
                condition.toLowerCase() as "success",
              ]),
            ),
            variables: Object.entries(item.variables).map(([key, value]) => ({
              key,
              value,
              source: "pipeline_config" as const,
            })),
          },
        ]),
      ),
    };
    const live = liveConfigFromVersion(stored);
    assert.deepEqual(live.tasks[1]?.depends_on, { build: "Success" });
    assert.deepEqual(live.tasks[0]?.variables, { CI: "true", TOKEN: "live-secret" });
    assert.equal(live.tasks[0]?.description, null);
    assert.equal(diffPipelineConfigs(live, LIVE).identical, true);
    assert.deepEqual(lines(live, withTask("build", { variables: { CI: "true" } })), [
      "~ task build: variables: -TOKEN",
      "  2 tasks unchanged",
    ]);
  });

  it("keeps a task's resources, and leaves them out when it has none", () => {
    const version = (resources?: { cpu?: string; memory?: string }): PipelineConfigVersion => ({
      namespace_id: "default",
      pipeline_id: "web",
      version: 1,
      parallelism: 0,
      name: "Web",
      description: "",
      state: "live",
      registered: 1,
      deprecated: 0,
      tasks: {
        build: {
          id: "build",
          description: "",
          image: "gofer/busybox:latest",
          registry_auth: null,
          depends_on: {},
          variables: [],
          entrypoint: null,
          command: null,
          inject_api_token: false,
          always_pull_newest_image: false,
          ...(resources && { resources }),
        },
      },
    });
    const limited = liveConfigFromVersion(version({ cpu: "2", memory: "1Gi" }));
    assert.deepEqual(limited.tasks[0]?.resources, { cpu: "2", memory: "1Gi" });
    assert.equal(Object.hasOwn(liveConfigFromVersion(version()).tasks[0] ?? {}, "resources"), false);
  });
});
