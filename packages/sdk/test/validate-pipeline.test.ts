import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  MAX_REPORTED_PROBLEMS,
  PIPELINE_CONFIG_LIMITS,
  type PipelineConfig,
  type ValidationProblem,
  validatePipelineConfig,
} from "../src/index.ts";

// The request body of reference §4.2, already in canonical form.
function dagExample(): PipelineConfig {
  return {
    id: "dag",
    name: "DAG Test Pipeline",
    description: "Chains containers depending on other containers' end states.",
    parallelism: 0,
    tasks: [
      {
        id: "first-task",
        description: "No dependencies; runs immediately",
        image: "ghcr.io/clintjedwards/gofer/debug/wait:latest",
        registry_auth: null,
        depends_on: {},
        variables: { WAIT_DURATION: "20s" },
        entrypoint: null,
        command: null,
        inject_api_token: false,
        always_pull_newest_image: true,
      },
      {
        id: "depends-on-first",
        description: "Runs only if first-task succeeded",
        image: "ghcr.io/clintjedwards/gofer/debug/log:latest",
        registry_auth: null,
        depends_on: { "first-task": "Success" },
        variables: {
          LOGS_HEADER: "pipeline_secret{{logs_header}}",
          SHARED_KEY: "global_secret{{test_secret_global}}",
        },
        entrypoint: null,
        command: null,
        inject_api_token: true,
        always_pull_newest_image: true,
      },
      {
        id: "always-after",
        description: "Runs after depends-on-first whatever its result",
        image: "ubuntu:latest",
        registry_auth: null,
        depends_on: { "depends-on-first": "Any" },
        variables: {},
        entrypoint: null,
        command: ["bash", "-c", "echo done; printenv GOFER_RUN_ID"],
        inject_api_token: false,
        always_pull_newest_image: false,
      },
    ],
  };
}

type Json = Record<string, unknown>;

/** A minimal task as hand-written JSON, leaving out every optional field. */
function task(id: string, dependsOn: Record<string, string> = {}, extra: Json = {}): Json {
  return {
    id,
    image: "busybox:latest",
    depends_on: dependsOn,
    variables: {},
    inject_api_token: false,
    always_pull_newest_image: false,
    ...extra,
  };
}

function pipeline(tasks: unknown, extra: Json = {}): Json {
  return { id: "simple", name: "Simple", parallelism: 0, tasks, ...extra };
}

function problemsOf(input: unknown): ValidationProblem[] {
  const result = validatePipelineConfig(input);
  assert.equal(result.ok, false, "expected the config to be refused");
  return result.ok ? [] : result.problems;
}

/** Asserts that exactly one problem is reported, at `path`, and returns it. */
function onlyProblem(input: unknown, path: string): ValidationProblem {
  const problems = problemsOf(input);
  assert.deepEqual(
    problems.map((problem) => problem.path),
    [path],
    JSON.stringify(problems, null, 2),
  );
  return problems[0] as ValidationProblem;
}

describe("validatePipelineConfig: valid configs", () => {
  test("the reference example is accepted unchanged", () => {
    const result = validatePipelineConfig(dagExample());
    assert.deepEqual(result, { ok: true, config: dagExample() });
  });

  test("the reference example survives a JSON round trip", () => {
    const result = validatePipelineConfig(JSON.parse(JSON.stringify(dagExample())));
    assert.equal(result.ok, true);
  });

  test("lowercase conditions become PascalCase and absent optional fields become null", () => {
    const input = pipeline([
      task("build"),
      task("test", { build: "success" }),
      task("notify", { build: "any", test: "failure" }),
      task("never", { test: "unknown" }),
    ]);
    const result = validatePipelineConfig(input);
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.config.description, null);
    assert.deepEqual(result.config.tasks[1], {
      id: "test",
      description: null,
      image: "busybox:latest",
      registry_auth: null,
      depends_on: { build: "Success" },
      variables: {},
      entrypoint: null,
      command: null,
      inject_api_token: false,
      always_pull_newest_image: false,
    });
    assert.deepEqual(result.config.tasks[2]?.depends_on, { build: "Any", test: "Failure" });
    assert.deepEqual(result.config.tasks[3]?.depends_on, { test: "Unknown" });
  });

  test("canonical field order matches the wire format", () => {
    const result = validatePipelineConfig(pipeline([task("build")]));
    assert.ok(result.ok);
    assert.deepEqual(Object.keys(result.config), ["id", "name", "description", "parallelism", "tasks"]);
    assert.deepEqual(Object.keys(result.config.tasks[0] ?? {}), [
      "id",
      "description",
      "image",
      "registry_auth",
      "depends_on",
      "variables",
      "entrypoint",
      "command",
      "inject_api_token",
      "always_pull_newest_image",
    ]);
  });

  test("explicit nulls, registry auth, underscored task ids and argument arrays are kept", () => {
    const input = pipeline(
      [
        task(
          "task_one",
          {},
          {
            description: null,
            registry_auth: { user: "robot", pass: "" },
            entrypoint: ["/bin/sh"],
            command: ["-c", "echo hi"],
            variables: { FOO: "", bar: "x=y" },
          },
        ),
      ],
      { description: null, parallelism: 5 },
    );
    const result = validatePipelineConfig(input);
    assert.ok(result.ok, JSON.stringify(result));
    const [only] = result.config.tasks;
    assert.deepEqual(only?.registry_auth, { user: "robot", pass: "" });
    assert.deepEqual(only?.entrypoint, ["/bin/sh"]);
    assert.deepEqual(only?.command, ["-c", "echo hi"]);
    assert.deepEqual(only?.variables, { FOO: "", bar: "x=y" });
    assert.equal(result.config.parallelism, 5);
  });

  test("the result is a copy: changing it does not touch the input", () => {
    const input = dagExample();
    const result = validatePipelineConfig(input);
    assert.ok(result.ok);
    const [first, , third] = result.config.tasks;
    assert.ok(first && third?.command);
    first.variables.EXTRA = "1";
    third.command.push("extra");
    assert.deepEqual(input, dagExample());
  });

  test("a variable named __proto__ stays an ordinary variable", () => {
    const input = JSON.parse(
      '{"id":"x","image":"i","depends_on":{},"variables":{"__proto__":"v"},' +
        '"inject_api_token":false,"always_pull_newest_image":false}',
    );
    const result = validatePipelineConfig(pipeline([input]));
    assert.ok(result.ok);
    const variables = result.config.tasks[0]?.variables ?? {};
    assert.deepEqual(Object.keys(variables), ["__proto__"]);
    assert.equal(Object.getPrototypeOf(variables), Object.prototype);
  });

  test("a chain of the maximum number of tasks validates", () => {
    const tasks = Array.from({ length: PIPELINE_CONFIG_LIMITS.maxTasks }, (_, i) =>
      task(`t${i}`, i === 0 ? {} : { [`t${i - 1}`]: "Success" }),
    );
    assert.equal(validatePipelineConfig(pipeline(tasks)).ok, true);
  });
});

describe("validatePipelineConfig: shape", () => {
  for (const input of [null, undefined, [], "dag", 42, true]) {
    test(`refuses ${JSON.stringify(input) ?? "undefined"} as a whole`, () => {
      const problem = onlyProblem(input, "");
      assert.match(problem.message, /^a pipeline config must be an object, got /);
    });
  }

  test("refuses an object that is not plain data", () => {
    onlyProblem(new Date(), "");
  });

  test("names unknown top-level fields", () => {
    const problem = onlyProblem(pipeline([task("build")], { paralellism: 2 }), "paralellism");
    assert.match(problem.message, /unknown field `paralellism` in the pipeline config/);
    assert.equal(problem.taskId, undefined);
  });

  test("names unknown task fields with the task's id", () => {
    const problem = onlyProblem(
      pipeline([task("build"), task("test", {}, { dependsOn: {} })]),
      "tasks[1].dependsOn",
    );
    assert.match(problem.message, /unknown field `dependsOn` in tasks\[1\]/);
    assert.equal(problem.taskId, "test");
  });

  test("names unknown registry_auth fields", () => {
    const input = pipeline([task("build", {}, { registry_auth: { user: "u", pass: "p", token: "t" } })]);
    onlyProblem(input, "tasks[0].registry_auth.token");
  });

  test("names a variable value of the wrong type by its full path", () => {
    const input = pipeline([task("a"), task("b"), task("c", {}, { variables: { OK: "1", FOO: 3 } })]);
    const problem = onlyProblem(input, "tasks[2].variables.FOO");
    assert.equal(problem.message, "tasks[2].variables.FOO must be a string, got a number");
    assert.equal(problem.taskId, "c");
  });

  test("brackets and quotes keys that are not plain words", () => {
    const input = pipeline([task("a", {}, { variables: { "my key": null } })]);
    onlyProblem(input, 'tasks[0].variables["my key"]');
  });

  test("reports each missing required field", () => {
    const problems = problemsOf({ tasks: [{}] });
    assert.deepEqual(
      problems.map((problem) => problem.path),
      [
        "id",
        "name",
        "parallelism",
        "tasks[0].id",
        "tasks[0].image",
        "tasks[0].depends_on",
        "tasks[0].variables",
        "tasks[0].inject_api_token",
        "tasks[0].always_pull_newest_image",
      ],
    );
    assert.ok(problems.every((problem) => /is required/.test(problem.message)));
  });

  test("reports wrong types for every task field", () => {
    const bad = {
      id: 7,
      description: 1,
      image: ["ubuntu"],
      registry_auth: "user:pass",
      depends_on: [],
      variables: "FOO=1",
      entrypoint: "/bin/sh",
      command: ["echo", 1],
      inject_api_token: "true",
      always_pull_newest_image: 0,
    };
    const problems = problemsOf(pipeline([bad]));
    assert.deepEqual(
      problems.map((problem) => problem.path),
      [
        "tasks[0].id",
        "tasks[0].description",
        "tasks[0].image",
        "tasks[0].registry_auth",
        "tasks[0].depends_on",
        "tasks[0].variables",
        "tasks[0].entrypoint",
        "tasks[0].command[1]",
        "tasks[0].inject_api_token",
        "tasks[0].always_pull_newest_image",
      ],
    );
    assert.equal(problems[8]?.message, "tasks[0].inject_api_token must be true or false, got a string");
  });

  test("reports a task that is not an object by its index", () => {
    const problem = onlyProblem(pipeline([task("a"), "b"]), "tasks[1]");
    assert.equal(problem.message, "tasks[1] must be an object, got a string");
  });

  test("refuses conditions other than the four, in PascalCase or lowercase", () => {
    for (const condition of ["SUCCESS", "succeeded", "", 1]) {
      const input = pipeline([task("a"), task("b", { a: condition as string })]);
      const problem = onlyProblem(input, "tasks[1].depends_on.a");
      assert.match(problem.message, /must be "Any", "Success", "Failure" or "Unknown"/);
      assert.equal(problem.taskId, "b");
    }
  });
});

describe("validatePipelineConfig: pipeline rules", () => {
  for (const id of ["my_pipeline", "ab", "x".repeat(33), "", "has space"]) {
    test(`refuses pipeline id ${JSON.stringify(id)}`, () => {
      const problem = onlyProblem(pipeline([task("a")], { id }), "id");
      assert.match(problem.message, /^pipeline id .* is not valid: use 3–32 characters/);
    });
  }

  test("refuses a blank name", () => {
    const problem = onlyProblem(pipeline([task("a")], { name: "  " }), "name");
    assert.equal(problem.message, "name must not be blank");
  });

  for (const parallelism of [-1, 1.5, "2", null, Number.POSITIVE_INFINITY]) {
    test(`refuses parallelism ${String(parallelism)}`, () => {
      const problem = onlyProblem(pipeline([task("a")], { parallelism }), "parallelism");
      assert.match(problem.message, /^parallelism must be a whole number, 0 or more, got /);
    });
  }

  test("requires at least one task", () => {
    const problem = onlyProblem(pipeline([]), "tasks");
    assert.equal(problem.message, "tasks must list at least one task");
  });

  test("requires tasks to be an array", () => {
    onlyProblem(pipeline({ a: task("a") }), "tasks");
  });
});

describe("validatePipelineConfig: task rules", () => {
  for (const id of ["", "-lint", "_x", "has space", "dots.not.allowed", "x".repeat(65)]) {
    test(`refuses task id ${JSON.stringify(id)}`, () => {
      const problem = onlyProblem(pipeline([task(id)]), "tasks[0].id");
      assert.match(problem.message, /^task id .* is not valid: use 1–64 characters/);
    });
  }

  test("accepts task ids of one and 64 characters", () => {
    assert.equal(validatePipelineConfig(pipeline([task("a"), task("b".repeat(64))])).ok, true);
  });

  test("names both places of a duplicate task id", () => {
    const input = pipeline([task("build"), task("test"), task("lint"), task("build")]);
    const problem = onlyProblem(input, "tasks[3].id");
    assert.equal(problem.message, "duplicate task id `build` (tasks[0] and tasks[3])");
    assert.equal(problem.taskId, "build");
  });

  test("refuses a blank image", () => {
    const problem = onlyProblem(pipeline([task("a", {}, { image: "" })]), "tasks[0].image");
    assert.equal(problem.message, "tasks[0].image must not be blank");
    assert.equal(problem.taskId, "a");
  });

  test("refuses a registry_auth without a user", () => {
    const input = pipeline([task("a", {}, { registry_auth: { user: "", pass: "p" } })]);
    onlyProblem(input, "tasks[0].registry_auth.user");
  });

  test("names a parent that does not exist", () => {
    const input = pipeline([
      task("build"),
      task("test", { build: "Success" }),
      task("deploy", { tset: "Success" }),
    ]);
    const problem = onlyProblem(input, "tasks[2].depends_on.tset");
    assert.equal(problem.message, "task `deploy` depends on `tset`, which does not exist");
    assert.equal(problem.taskId, "deploy");
  });

  test("catches a task that depends on itself", () => {
    const input = pipeline([task("build"), task("loop", { build: "Any", loop: "Success" })]);
    const problem = onlyProblem(input, "tasks[1].depends_on.loop");
    assert.equal(problem.message, "task `loop` depends on itself (dependency cycle: loop → loop)");
    assert.equal(problem.taskId, "loop");
  });

  test("catches a three-task cycle and shows its path from the first task listed", () => {
    const input = pipeline([
      task("start"),
      task("b", { c: "Success" }),
      task("a", { b: "Success", start: "Any" }),
      task("c", { a: "Success" }),
      task("after", { c: "Any" }),
    ]);
    const problem = onlyProblem(input, "tasks[1].depends_on.c");
    assert.equal(problem.message, "dependency cycle: b → c → a → b (each task depends on the next)");
    assert.equal(problem.taskId, "b");
  });

  test("reports each separate cycle once, in task order", () => {
    const input = pipeline([
      task("x", { y: "Any" }),
      task("y", { x: "Any" }),
      task("p", { q: "Any" }),
      task("q", { r: "Any" }),
      task("r", { p: "Any", q: "Any" }),
    ]);
    const messages = problemsOf(input).map((problem) => problem.message);
    assert.deepEqual(messages, [
      "dependency cycle: x → y → x (each task depends on the next)",
      "dependency cycle: p → q → r → p (each task depends on the next)",
    ]);
  });

  test("catches a cycle through every task of the largest pipeline", () => {
    const count = PIPELINE_CONFIG_LIMITS.maxTasks;
    const tasks = Array.from({ length: count }, (_, i) => task(`t${i}`, { [`t${(i + 1) % count}`]: "Any" }));
    const [problem] = problemsOf(pipeline(tasks));
    assert.match(problem?.message ?? "", /^dependency cycle: t0 → t1 → .* → t999 → t0 /);
  });

  test("refuses variable names that are empty or hold `=`", () => {
    const problems = problemsOf(pipeline([task("a", {}, { variables: { "": "x", "A=B": "y" } })]));
    assert.deepEqual(
      problems.map((problem) => [problem.path, problem.message]),
      [
        ['tasks[0].variables[""]', "tasks[0].variables has an empty variable name"],
        [
          'tasks[0].variables["A=B"]',
          "variable name `A=B` in tasks[0].variables must not contain `=` or a NUL character",
        ],
      ],
    );
  });
});

describe("validatePipelineConfig: limits", () => {
  test("refuses more tasks than the limit without looking at them", () => {
    const tasks = Array.from({ length: PIPELINE_CONFIG_LIMITS.maxTasks + 1 }, () => "not a task");
    const problem = onlyProblem(pipeline(tasks), "tasks");
    assert.equal(problem.message, "tasks lists 1001 tasks; the limit is 1000");
  });

  test("refuses more variables than the limit", () => {
    const variables = Object.fromEntries(
      Array.from({ length: PIPELINE_CONFIG_LIMITS.maxVariablesPerTask + 1 }, (_, i) => [`V${i}`, 1]),
    );
    const problem = onlyProblem(pipeline([task("a", {}, { variables })]), "tasks[0].variables");
    assert.equal(problem.message, "tasks[0].variables has 1001 entries; the limit is 1000");
    assert.equal(problem.taskId, "a");
  });

  test("measures variable values in UTF-8 bytes", () => {
    const limit = PIPELINE_CONFIG_LIMITS.maxVariableValueBytes;
    const atLimit = pipeline([task("a", {}, { variables: { BIG: "x".repeat(limit) } })]);
    assert.equal(validatePipelineConfig(atLimit).ok, true);
    const overLimit = pipeline([task("a", {}, { variables: { BIG: "é".repeat(limit / 2 + 1) } })]);
    const problem = onlyProblem(overLimit, "tasks[0].variables.BIG");
    assert.equal(problem.message, "tasks[0].variables.BIG is 65538 bytes long (UTF-8); the limit is 65536");
  });

  test("refuses too many or too large arguments", () => {
    const many = Array.from({ length: PIPELINE_CONFIG_LIMITS.maxArguments + 1 }, () => "x");
    onlyProblem(pipeline([task("a", {}, { command: many })]), "tasks[0].command");
    const huge = ["x".repeat(PIPELINE_CONFIG_LIMITS.maxArgumentBytes + 1)];
    onlyProblem(pipeline([task("a", {}, { entrypoint: huge })]), "tasks[0].entrypoint[0]");
  });

  test("refuses over-long names, descriptions, images and variable names", () => {
    const long = (length: number) => "x".repeat(length + 1);
    const input = pipeline(
      [
        task(
          "a",
          {},
          {
            description: long(PIPELINE_CONFIG_LIMITS.maxDescriptionLength),
            image: long(PIPELINE_CONFIG_LIMITS.maxImageLength),
            variables: { [long(PIPELINE_CONFIG_LIMITS.maxVariableKeyLength)]: "v" },
          },
        ),
      ],
      { name: long(PIPELINE_CONFIG_LIMITS.maxNameLength) },
    );
    const problems = problemsOf(input);
    assert.deepEqual(
      problems.map((problem) => problem.path),
      ["name", "tasks[0].description", "tasks[0].image", `tasks[0].variables["${"x".repeat(64)}…"]`],
    );
    assert.equal(problems[0]?.message, "name is 257 characters long; the limit is 256");
  });

  test("shortens huge ids in messages and leaves them out of taskId", () => {
    const id = "y".repeat(100_000);
    const problem = onlyProblem(pipeline([task(id)]), "tasks[0].id");
    assert.ok(problem.message.length < 300, problem.message);
    assert.equal(problem.taskId, undefined);
  });

  test("lists at most the cap of problems and counts the rest", () => {
    const extra = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`unknown${i}`, true]));
    const problems = problemsOf(pipeline([task("a")], extra));
    assert.equal(problems.length, MAX_REPORTED_PROBLEMS + 1);
    assert.deepEqual(problems.at(-1), { path: "", message: "50 more problems not listed" });
  });
});

describe("validatePipelineConfig: problem order", () => {
  test("is the same on every call: shape, then ids and parents, then cycles", () => {
    const input = pipeline(
      [
        task("a", { b: "Any" }),
        task("b", { a: "Any", zzz: "Any" }, { image: "" }),
        task("a"),
        task("c", {}, { extra: 1 }),
      ],
      { id: "x" },
    );
    const expected = [
      "id",
      "tasks[1].image",
      "tasks[3].extra",
      "tasks[2].id",
      "tasks[1].depends_on.zzz",
      "tasks[0].depends_on.b",
    ];
    for (let attempt = 0; attempt < 3; attempt++) {
      assert.deepEqual(
        problemsOf(input).map((problem) => problem.path),
        expected,
      );
    }
  });
});
