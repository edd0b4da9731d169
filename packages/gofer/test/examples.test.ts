import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { describe, it } from "node:test";
import { assertExit, type Gofer, parseJson, useCliServer } from "./support/cli.ts";
import type { TestServer } from "./support/test-server.ts";

const EXAMPLES = new URL("../../../examples/", import.meta.url).pathname;

interface WatchedRun {
  run: { status: string };
  tasks: { task_id: string; status: string; exit_code: number | null }[];
}

const statuses = (view: WatchedRun) =>
  Object.fromEntries(view.tasks.map((task) => [task.task_id, task.status]));

describe("examples/", () => {
  let _server: TestServer;
  let gofer: Gofer;
  useCliServer((started, cli) => {
    _server = started;
    gofer = cli;
  });

  it("every example registers and deploys with `gofer up`", async () => {
    const names = readdirSync(EXAMPLES).sort();
    assert.deepEqual(names, ["dag", "objects", "script", "secrets", "simple"]);
    for (const name of names) {
      const result = await gofer(["up", `${EXAMPLES}${name}`, "--json"]);
      assertExit(result, 0);
      const up = parseJson(result) as { pipeline_id: string; version: number; deployed: boolean };
      assert.deepEqual(up, { ...up, pipeline_id: name, deployed: true });
    }
  });

  it("simple and script run to success with the output they promise", async () => {
    const simple = await gofer(["run", "start", "simple", "--watch", "--json"]);
    assertExit(simple, 0);
    const simpleRun = parseJson(simple) as WatchedRun;
    assert.deepEqual(statuses(simpleRun), { hello: "successful" });
    assert.equal((await gofer(["task", "logs", "simple", "1", "hello"])).stdout, "Hello from Gofer\n");

    const script = await gofer(["run", "start", "script", "--watch", "--json"]);
    assertExit(script, 0);
    const logs = await gofer(["task", "logs", "script", "1", "count"]);
    assert.equal(
      logs.stdout,
      ["counting to 5 in script run 1", "step 1", "step 2", "step 3", "step 4", "step 5", "done", ""].join(
        "\n",
      ),
    );
  });

  it("dag succeeds with the failure branch skipped, and with FAIL_TESTS=1 takes the failure branch", async () => {
    const passing = await gofer(["run", "start", "dag", "--watch", "--json"]);
    assertExit(passing, 0);
    assert.deepEqual(statuses(parseJson(passing) as WatchedRun), {
      checkout: "successful",
      build: "successful",
      test: "successful",
      "notify-failure": "skipped",
      publish: "successful",
      report: "successful",
    });

    const failing = await gofer(["run", "start", "dag", "-v", "FAIL_TESTS=1", "--watch", "--json"]);
    assertExit(failing, 1);
    const view = parseJson(failing) as WatchedRun;
    assert.equal(view.run.status, "failed");
    assert.deepEqual(statuses(view), {
      checkout: "successful",
      build: "successful",
      test: "failed",
      "notify-failure": "successful",
      publish: "skipped",
      report: "successful",
    });
    assert.equal(view.tasks.find((task) => task.task_id === "test")?.exit_code, 3);
  });
});
