import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import {
  globalSecret,
  isPipelineBuilder,
  type PipelineConfig,
  PipelineConfigError,
  pipeline,
  pipelineSecret,
  runObject,
  type TaskConfig,
  task,
  validatePipelineConfig,
} from "../src/index.ts";

/** Calls `finish`, expecting it to refuse the pipeline, and returns the error. */
function refusal(finish: () => unknown): PipelineConfigError {
  try {
    finish();
  } catch (error) {
    assert.ok(error instanceof PipelineConfigError, `expected a PipelineConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail("expected finish() to throw");
}

function onlyTask(config: PipelineConfig): TaskConfig {
  assert.equal(config.tasks.length, 1);
  return config.tasks[0] as TaskConfig;
}

/** The config of a pipeline holding just `builder`. */
function taskConfig(builder: ReturnType<typeof task>): TaskConfig {
  return onlyTask(pipeline("single", "Single").tasks(builder).finish());
}

/** Runs a task's entrypoint and command the way a container would, with the host's /bin/sh. */
function runLocally(config: TaskConfig): { status: number | null; stdout: string } {
  const [program, ...args] = [...(config.entrypoint ?? []), ...(config.command ?? [])];
  assert.ok(program !== undefined);
  const result = spawnSync(program, args, { encoding: "utf8" });
  return { status: result.status, stdout: result.stdout };
}

describe("pipeline builder: the emitted config", () => {
  test("every method lands in the v0 wire format, field for field and in wire order", () => {
    const build = task("build", "node:24")
      .description("Compile")
      .variables({ NODE_ENV: "production" })
      .variables({ NPM_TOKEN: pipelineSecret("npm_token"), CI: "true" })
      .entrypoint("npm")
      .command("run", "build")
      .registryAuth("robot", "s3cret")
      .injectApiToken()
      .alwaysPullNewestImage();
    const unitTests = task("test", "node:24")
      .dependsOn(build)
      .script(`
      npm test
    `);
    const notify = task("notify", "alpine:3")
      .dependsOn("build", "failure")
      .dependsOn(unitTests, "any")
      .variables({ WEBHOOK: globalSecret("hook"), VERSION: runObject("version") });

    const config = pipeline("web-app", "Web app")
      .description("Builds and tests the site")
      .parallelism(2)
      .tasks(build, unitTests)
      .tasks(notify)
      .finish();

    const expected = {
      id: "web-app",
      name: "Web app",
      description: "Builds and tests the site",
      parallelism: 2,
      tasks: [
        {
          id: "build",
          description: "Compile",
          image: "node:24",
          registry_auth: { user: "robot", pass: "s3cret" },
          depends_on: {},
          variables: { NODE_ENV: "production", NPM_TOKEN: "pipeline_secret{{npm_token}}", CI: "true" },
          entrypoint: ["npm"],
          command: ["run", "build"],
          inject_api_token: true,
          always_pull_newest_image: true,
        },
        {
          id: "test",
          description: null,
          image: "node:24",
          registry_auth: null,
          depends_on: { build: "Success" },
          variables: {},
          entrypoint: ["/bin/sh", "-ec"],
          command: ["npm test"],
          inject_api_token: false,
          always_pull_newest_image: false,
        },
        {
          id: "notify",
          description: null,
          image: "alpine:3",
          registry_auth: null,
          depends_on: { build: "Failure", test: "Any" },
          variables: { WEBHOOK: "global_secret{{hook}}", VERSION: "run_object{{version}}" },
          entrypoint: null,
          command: null,
          inject_api_token: false,
          always_pull_newest_image: false,
        },
      ],
    };
    assert.equal(JSON.stringify(config), JSON.stringify(expected));
    assert.deepEqual(validatePipelineConfig(JSON.parse(JSON.stringify(config))), { ok: true, config });
  });

  test("a bare pipeline gets the defaults: server parallelism, image entrypoint and CMD, no extras", () => {
    const config = pipeline("bare", "Bare").tasks(task("only", "busybox:latest")).finish();
    assert.deepEqual(config, {
      id: "bare",
      name: "Bare",
      description: null,
      parallelism: 0,
      tasks: [
        {
          id: "only",
          description: null,
          image: "busybox:latest",
          registry_auth: null,
          depends_on: {},
          variables: {},
          entrypoint: null,
          command: null,
          inject_api_token: false,
          always_pull_newest_image: false,
        },
      ],
    });
  });

  test("later calls replace single values and merge variables key by key", () => {
    const config = taskConfig(
      task("t", "busybox:latest")
        .description("first")
        .description("second")
        .variables({ A: "1", B: "1" })
        .variables({ B: "2", C: "2" })
        .entrypoint("a")
        .entrypoint("b", "c")
        .command("x")
        .command()
        .registryAuth("u1", "p1")
        .registryAuth("u2", "p2")
        .injectApiToken()
        .injectApiToken(false)
        .alwaysPullNewestImage(true)
        .alwaysPullNewestImage(false),
    );
    assert.equal(config.description, "second");
    assert.deepEqual(config.variables, { A: "1", B: "2", C: "2" });
    assert.deepEqual(config.entrypoint, ["b", "c"]);
    assert.deepEqual(config.command, []);
    assert.deepEqual(config.registry_auth, { user: "u2", pass: "p2" });
    assert.equal(config.inject_api_token, false);
    assert.equal(config.always_pull_newest_image, false);
  });

  test("tasks() appends, keeping the order of calls and arguments", () => {
    const config = pipeline("order", "Order")
      .tasks(task("c", "i"), task("a", "i"))
      .tasks(task("b", "i"))
      .finish();
    assert.deepEqual(
      config.tasks.map((t) => t.id),
      ["c", "a", "b"],
    );
  });
});

describe("pipeline builder: script()", () => {
  test("strips the indentation shared by its lines and the blank lines around it", () => {
    const config = taskConfig(
      task("t", "alpine:3").script(`
        apk add --no-cache git

        if [ -n "$TAG" ]; then
          git tag "$TAG"
        fi
      `),
    );
    assert.deepEqual(config.entrypoint, ["/bin/sh", "-ec"]);
    assert.deepEqual(config.command, [
      'apk add --no-cache git\n\nif [ -n "$TAG" ]; then\n  git tag "$TAG"\nfi',
    ]);
  });

  test("keeps deeper indentation, trailing spaces and heredoc bodies", () => {
    const text = "\n\n    cat <<EOF\n      indented\n    EOF  \n  \n    echo done\n   \n";
    const config = taskConfig(task("t", "i").script(text));
    assert.deepEqual(config.command, ["cat <<EOF\n  indented\nEOF  \n\necho done"]);
  });

  test("a line with less indentation limits what is stripped", () => {
    const config = taskConfig(task("t", "i").script("    a\n  b\n      c"));
    assert.deepEqual(config.command, ["  a\nb\n    c"]);
  });

  test("tabs and spaces only match themselves", () => {
    const config = taskConfig(task("t", "i").script("\t\techo a\n\t  echo b\n\t\techo c"));
    assert.deepEqual(config.command, ["\techo a\n  echo b\n\techo c"]);
  });

  test("an unindented one-line script is kept as it is", () => {
    const config = taskConfig(task("t", "i").script('echo "$GOFER_RUN_ID"'));
    assert.deepEqual(config.command, ['echo "$GOFER_RUN_ID"']);
  });

  test("a blank script becomes an empty command argument", () => {
    const config = taskConfig(task("t", "i").script("  \n\t\n"));
    assert.deepEqual(config.command, [""]);
  });

  test("replaces an earlier entrypoint and command, and later calls replace the part they set", () => {
    const scripted = taskConfig(task("t", "i").entrypoint("node").command("x.js").script("echo hi"));
    assert.deepEqual([scripted.entrypoint, scripted.command], [["/bin/sh", "-ec"], ["echo hi"]]);

    const overridden = taskConfig(task("t", "i").script("echo hi").command("echo bye"));
    assert.deepEqual([overridden.entrypoint, overridden.command], [["/bin/sh", "-ec"], ["echo bye"]]);
  });

  test("the emitted argv runs the script and stops at the first failing command", () => {
    const config = taskConfig(
      task("t", "i").script(`
        echo one
        (exit 3)
        echo two
      `),
    );
    assert.deepEqual(runLocally(config), { status: 3, stdout: "one\n" });
  });

  test("the emitted argv succeeds when every command does", () => {
    const config = taskConfig(
      task("t", "i").script(`
        for word in a b; do
          echo "$word"
        done
      `),
    );
    assert.deepEqual(runLocally(config), { status: 0, stdout: "a\nb\n" });
  });
});

describe("pipeline builder: dependsOn()", () => {
  test("waits for success unless told otherwise, and emits each condition in PascalCase", () => {
    const config = pipeline("deps", "Deps")
      .tasks(
        task("a", "i"),
        task("b", "i"),
        task("c", "i"),
        task("default", "i").dependsOn("a"),
        task("all", "i").dependsOn("a", "success").dependsOn("b", "failure").dependsOn("c", "any"),
      )
      .finish();
    assert.deepEqual(config.tasks[3]?.depends_on, { a: "Success" });
    assert.deepEqual(config.tasks[4]?.depends_on, { a: "Success", b: "Failure", c: "Any" });
  });

  test("takes a task builder as the parent, by its id", () => {
    const build = task("build", "i");
    assert.equal(build.id, "build");
    const config = pipeline("deps", "Deps").tasks(build, task("test", "i").dependsOn(build, "any")).finish();
    assert.deepEqual(config.tasks[1]?.depends_on, { build: "Any" });
  });

  test("naming a parent again replaces its condition", () => {
    const config = pipeline("deps", "Deps")
      .tasks(task("a", "i"), task("b", "i").dependsOn("a", "failure").dependsOn("a"))
      .finish();
    assert.deepEqual(config.tasks[1]?.depends_on, { a: "Success" });
  });
});

describe("pipeline builder: finish() refuses what the validator refuses", () => {
  test("a duplicate task id, named in the message", () => {
    const error = refusal(() =>
      pipeline("dup", "Dup").tasks(task("build", "i"), task("test", "i"), task("build", "j")).finish(),
    );
    assert.equal(
      error.message,
      "Invalid pipeline `dup`:\n  - duplicate task id `build` (tasks[0] and tasks[2])",
    );
    assert.deepEqual(error.problems, [
      { path: "tasks[2].id", message: "duplicate task id `build` (tasks[0] and tasks[2])", taskId: "build" },
    ]);
  });

  test("a parent that does not exist", () => {
    const error = refusal(() =>
      pipeline("deps", "Deps").tasks(task("build", "i"), task("deploy", "i").dependsOn("biuld")).finish(),
    );
    assert.equal(
      error.message,
      "Invalid pipeline `deps`:\n  - task `deploy` depends on `biuld`, which does not exist",
    );
    assert.equal(error.problems[0]?.taskId, "deploy");
  });

  test("a dependency cycle, including a task waiting on itself", () => {
    const a = task("a", "i").dependsOn("c");
    const b = task("b", "i").dependsOn(a);
    const c = task("c", "i").dependsOn(b);
    const self = task("self", "i").dependsOn("self", "any");
    const error = refusal(() => pipeline("loops", "Loops").tasks(a, b, c, self).finish());
    assert.equal(
      error.message,
      [
        "Invalid pipeline `loops` (2 problems):",
        "  - task `a`: dependency cycle: a → c → b → a (each task depends on the next)",
        "  - task `self` depends on itself (dependency cycle: self → self)",
      ].join("\n"),
    );
  });

  test("invalid task ids: named by id when it has one, by position when it is empty", () => {
    const error = refusal(() =>
      pipeline("ids", "Ids").tasks(task("ok", "i"), task("build step", "i"), task("", "i")).finish(),
    );
    const lines = error.message.split("\n");
    assert.equal(lines[0], "Invalid pipeline `ids` (2 problems):");
    assert.match(lines[1] ?? "", /^ {2}- task id `build step` is not valid: use 1–64 characters/);
    assert.match(lines[2] ?? "", /^ {2}- tasks\[2\]: task id `` is not valid: use 1–64 characters/);
    assert.equal(lines.length, 3);
  });

  test("pipeline-level problems are listed without a task", () => {
    const error = refusal(() => pipeline("x", " ").parallelism(-1).tasks(task("t", "")).finish());
    assert.deepEqual(error.message.split("\n"), [
      "Invalid pipeline `x` (4 problems):",
      "  - pipeline id `x` is not valid: use 3–32 characters, each a letter, a digit or `-`",
      "  - name must not be blank",
      "  - parallelism must be a whole number, 0 or more, got -1",
      "  - task `t`: tasks[0].image must not be blank",
    ]);
  });

  test("a pipeline without tasks", () => {
    const error = refusal(() => pipeline("empty", "Empty").finish());
    assert.equal(error.message, "Invalid pipeline `empty`:\n  - tasks must list at least one task");
  });

  test("the error carries the validator's problems, a name and the server's code", () => {
    const builder = pipeline("many", "Many").tasks(
      task("a", "i").dependsOn("missing"),
      task("a", "i"),
      task("b", "i").variables({ "BAD=NAME": "x" }),
    );
    const error = refusal(() => builder.finish());
    assert.equal(error.name, "PipelineConfigError");
    assert.equal(error.code, "INVALID_PIPELINE_CONFIG");
    assert.ok(error instanceof Error);
    const direct = validatePipelineConfig({
      id: "many",
      name: "Many",
      parallelism: 0,
      tasks: [
        { ...bareTask("a"), depends_on: { missing: "success" } },
        bareTask("a"),
        { ...bareTask("b"), variables: { "BAD=NAME": "x" } },
      ],
    });
    assert.ok(!direct.ok);
    assert.deepEqual(error.problems, direct.problems);
    assert.equal(error.message.split("\n").length, 1 + direct.problems.length);
  });

  test("PipelineConfigError can be made without a pipeline id", () => {
    const error = new PipelineConfigError([{ path: "name", message: "name must not be blank" }]);
    assert.equal(error.message, "Invalid pipeline config:\n  - name must not be blank");
  });
});

function bareTask(id: string): Record<string, unknown> {
  return {
    id,
    image: "i",
    depends_on: {},
    variables: {},
    inject_api_token: false,
    always_pull_newest_image: false,
  };
}

describe("pipeline builder: no shared mutable state", () => {
  test("finish() twice gives equal but separate configs", () => {
    const builder = pipeline("twice", "Twice").tasks(
      task("t", "i").variables({ A: "1" }).command("echo", "hi").registryAuth("u", "p"),
    );
    const first = builder.finish();
    const second = builder.finish();
    assert.deepEqual(first, second);
    const task0 = onlyTask(first);
    task0.variables.A = "changed";
    task0.command?.push("extra");
    if (task0.registry_auth) task0.registry_auth.pass = "changed";
    first.tasks.push({ ...task0, id: "added" });
    assert.deepEqual(builder.finish(), second);
  });

  test("records and arrays passed in are copied", () => {
    const variables: Record<string, string> = { A: "1" };
    const args = ["echo", "hi"];
    const builder = task("t", "i")
      .variables(variables)
      .command(...args)
      .entrypoint(...args);
    variables.A = "changed";
    variables.B = "added";
    args.push("extra");
    const config = taskConfig(builder);
    assert.deepEqual(config.variables, { A: "1" });
    assert.deepEqual(config.command, ["echo", "hi"]);
    assert.deepEqual(config.entrypoint, ["echo", "hi"]);
  });

  test("a task is copied when added: later changes to its builder do not reach the pipeline", () => {
    const shared = task("shared", "i").variables({ A: "1" });
    const first = pipeline("first", "First").tasks(shared);
    shared.variables({ B: "2" }).dependsOn("elsewhere").description("changed").script("echo");
    const second = pipeline("second", "Second").tasks(shared);

    const early = onlyTask(first.finish());
    assert.deepEqual(early.variables, { A: "1" });
    assert.deepEqual(early.depends_on, {});
    assert.equal(early.description, null);
    assert.equal(early.command, null);
    assert.deepEqual(refusal(() => second.finish()).problems[0]?.taskId, "shared");
  });

  test("a variable named __proto__ stays an ordinary variable", () => {
    const variables = JSON.parse('{"__proto__":"v"}') as Record<string, string>;
    const config = taskConfig(task("t", "i").variables(variables));
    assert.deepEqual(Object.keys(config.variables), ["__proto__"]);
    assert.equal(Object.getPrototypeOf(config.variables), Object.prototype);
  });
});

describe("isPipelineBuilder and tasks() arguments", () => {
  test("tells a builder from a finished config and other values", () => {
    const builder = pipeline("guard", "Guard").tasks(task("t", "i"));
    assert.equal(isPipelineBuilder(builder), true);
    assert.equal(isPipelineBuilder(builder.finish()), false);
    assert.equal(isPipelineBuilder(task("t", "i")), false);
    assert.equal(isPipelineBuilder(null), false);
    assert.equal(isPipelineBuilder(undefined), false);
    assert.equal(isPipelineBuilder("pipeline"), false);
    assert.equal(isPipelineBuilder({ finish: "no" }), false);
  });

  test("accepts a builder from another copy of the SDK by its finish method", () => {
    const foreign = { finish: () => ({ id: "x" }) };
    assert.equal(isPipelineBuilder(foreign), true);
  });

  test("tasks() refuses something that is not a task builder, saying which argument", () => {
    const builder = pipeline("args", "Args");
    const plain = { id: "t", image: "i" } as unknown as ReturnType<typeof task>;
    assert.throws(() => builder.tasks(task("ok", "i"), plain), {
      name: "TypeError",
      message: "tasks(): argument 2 is not a task; make tasks with task(id, image)",
    });
    assert.equal(refusal(() => builder.finish()).problems[0]?.message, "tasks must list at least one task");
  });
});
