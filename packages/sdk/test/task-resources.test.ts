import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type PipelineConfig,
  PipelineConfigError,
  pipeline,
  type TaskConfig,
  task,
  validatePipelineConfig,
} from "../src/index.ts";

/** A canonical one-task config whose task has `extra` fields. */
function withTask(extra: Record<string, unknown>, id = "build"): Record<string, unknown> {
  return {
    id: "limits",
    name: "Limits",
    description: null,
    parallelism: 0,
    tasks: [
      {
        id,
        description: null,
        image: "busybox",
        registry_auth: null,
        depends_on: {},
        variables: {},
        entrypoint: null,
        command: null,
        inject_api_token: false,
        always_pull_newest_image: false,
        ...extra,
      },
    ],
  };
}

function validTask(input: unknown): TaskConfig {
  const result = validatePipelineConfig(input);
  assert.ok(result.ok, result.ok ? "" : JSON.stringify(result.problems));
  return result.config.tasks[0] as TaskConfig;
}

function problems(input: unknown): Array<{ path: string; message: string; taskId?: string }> {
  const result = validatePipelineConfig(input);
  assert.ok(!result.ok, "expected the config to be refused");
  return result.problems;
}

describe("task resources: validation", () => {
  test("limits are kept as written", () => {
    const declared = validTask(withTask({ resources: { cpu: "500m", memory: "256Mi" } }));
    assert.deepEqual(declared.resources, { cpu: "500m", memory: "256Mi" });
    assert.deepEqual(validTask(withTask({ resources: { memory: "1G" } })).resources, { memory: "1G" });
    assert.deepEqual(validTask(withTask({ resources: { cpu: "2", memory: null } })).resources, { cpu: "2" });
  });

  test("none declared (absent, null or empty) leaves the field out, so the config is exactly v0", () => {
    for (const resources of [undefined, null, {}, { cpu: null, memory: null }]) {
      const declared = validTask(withTask(resources === undefined ? {} : { resources }));
      assert.equal(Object.hasOwn(declared, "resources"), false, JSON.stringify(resources));
    }
  });

  test("a bad quantity is refused with a message naming the task and the field", () => {
    assert.deepEqual(problems(withTask({ resources: { memory: "12XB" } })), [
      {
        path: "tasks[0].resources.memory",
        message: "task `build`: memory `12XB` is not a quantity; use bytes or a suffix like 256Mi or 1G",
        taskId: "build",
      },
    ]);
    assert.deepEqual(problems(withTask({ resources: { cpu: "0", memory: "256m" } })), [
      {
        path: "tasks[0].resources.cpu",
        message: "task `build`: cpu `0` must be more than 0",
        taskId: "build",
      },
      {
        path: "tasks[0].resources.memory",
        message:
          "task `build`: memory `256m` is 256 thousandths of a byte (m means milli); use 256Mi or 256M",
        taskId: "build",
      },
    ]);
  });

  test("the wrong shapes are refused", () => {
    assert.deepEqual(
      problems(withTask({ resources: "1 core" })).map((problem) => problem.message),
      ["task `build`: resources must be an object with cpu and/or memory, or null, got a string"],
    );
    assert.deepEqual(
      problems(withTask({ resources: { cpu: 0.5, memory: 268435456 } })).map((problem) => problem.message),
      [
        'task `build`: cpu must be a string such as "0.5" or "500m", got a number',
        'task `build`: memory must be a string such as "256Mi" or "1G", got a number',
      ],
    );
    assert.deepEqual(problems(withTask({ resources: { cpu: "1", gpu: "1" } })), [
      {
        path: "tasks[0].resources.gpu",
        message: "task `build`: unknown field `gpu` in resources; the fields are cpu, memory",
        taskId: "build",
      },
    ]);
  });

  test("a task without a usable id is named by its position", () => {
    const found = problems(withTask({ resources: { cpu: "lots" } }, ""));
    assert.ok(
      found.some(
        (problem) =>
          problem.path === "tasks[0].resources.cpu" &&
          problem.message ===
            "tasks[0]: cpu `lots` is not a quantity; use cores such as 0.5 or 2, or millicores such as 500m",
      ),
      JSON.stringify(found),
    );
  });
});

describe("task resources: the builder", () => {
  const finish = (...tasks: ReturnType<typeof task>[]): PipelineConfig =>
    pipeline("limits", "Limits")
      .tasks(...tasks)
      .finish();

  test("resources() sets the limits", () => {
    const config = finish(task("build", "node:24").resources({ cpu: "0.5", memory: "256Mi" }));
    assert.deepEqual(config.tasks[0]?.resources, { cpu: "0.5", memory: "256Mi" });
  });

  test("without a call the field is left out", () => {
    const config = finish(task("build", "node:24"));
    assert.equal(Object.hasOwn(config.tasks[0] ?? {}, "resources"), false);
  });

  test("calls merge; a field given again takes the new value and an undefined one changes nothing", () => {
    const builder = task("build", "node:24")
      .resources({ cpu: "1" })
      .resources({ memory: "1Gi" })
      .resources({ cpu: "2", memory: undefined });
    assert.deepEqual(finish(builder).tasks[0]?.resources, { cpu: "2", memory: "1Gi" });
  });

  test("a task's limits are copied when it is added", () => {
    const builder = task("build", "node:24").resources({ cpu: "1" });
    const first = pipeline("limits", "Limits").tasks(builder);
    builder.resources({ cpu: "3" });
    assert.deepEqual(first.finish().tasks[0]?.resources, { cpu: "1" });
    const config = first.finish();
    if (config.tasks[0]?.resources) config.tasks[0].resources.cpu = "4";
    assert.deepEqual(first.finish().tasks[0]?.resources, { cpu: "1" });
  });

  test("finish() refuses a bad quantity, naming the task once", () => {
    let error: unknown;
    try {
      finish(task("build", "node:24").resources({ memory: "12XB" }));
    } catch (caught) {
      error = caught;
    }
    assert.ok(error instanceof PipelineConfigError);
    assert.equal(
      error.message,
      "Invalid pipeline `limits`:\n  - task `build`: memory `12XB` is not a quantity; use bytes or a suffix like 256Mi or 1G",
    );
  });
});
