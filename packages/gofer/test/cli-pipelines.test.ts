import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { assertExit, type Gofer, parseJson, scratchDir, useCliServer } from "./support/cli.ts";
import { BUSYBOX, type TestServer } from "./support/test-server.ts";

/** A pipeline file in a folder outside the repository, importing the SDK as a user's file would. */
function pipelineFile(source: string, name = "pipeline.ts"): string {
  const dir = scratchDir("gofer-cli-pipeline-");
  const path = join(dir, name);
  writeFileSync(path, source);
  return path;
}

const greeter = (greeting: string) => `
import { pipeline, task } from "@gofer/sdk";
const image: string = ${JSON.stringify(BUSYBOX)};
export default pipeline("greeter", "Greeter")
  .description("says hello")
  .tasks(
    task("hello", image).command("echo", ${JSON.stringify(greeting)}),
    task("bye", image).dependsOn("hello", "success").script(\`
      echo "line one"
      echo "line two"
    \`),
  );
`;

const failing = `
import { pipeline, task } from "@gofer/sdk";
const image = ${JSON.stringify(BUSYBOX)};
export default pipeline("breaks", "Breaks")
  .tasks(
    task("ok", image).command("echo", "fine"),
    task("broken", image).dependsOn("ok").script(\`
      i=1
      while [ $i -le 30 ]; do echo "output $i"; i=$((i + 1)); done
      # stdout and stderr are separate pipes that the engine reads independently: let stdout drain first.
      sleep 0.3
      echo "it went wrong" >&2
      exit 7
    \`),
  );
`;

describe("gofer CLI: pipelines from TypeScript files, runs, logs", () => {
  let server: TestServer;
  let gofer: Gofer;
  useCliServer((started, cli) => {
    server = started;
    gofer = cli;
  });

  it("`up` registers and deploys a .ts pipeline, then reports nothing to do, then shows a task-level diff", async () => {
    const file = pipelineFile(greeter("hello"));
    const first = await gofer(["up", file]);
    assertExit(first, 0);
    assert.match(first.stdout, /Pipeline greeter is new/);
    assert.match(first.stdout, /\+ task hello/);
    assert.match(first.stdout, /Registered and deployed version 1 of greeter/);

    const configs = await server.api("GET", "/api/namespaces/default/pipelines/greeter/configs");
    assert.equal(configs.json.configs.length, 1);
    assert.equal(configs.json.configs[0].state, "live");
    assert.deepEqual(configs.json.configs[0].tasks.bye.entrypoint, ["/bin/sh", "-ec"]);
    assert.deepEqual(configs.json.configs[0].tasks.bye.command, ['echo "line one"\necho "line two"']);
    assert.equal(configs.json.configs[0].tasks.bye.depends_on.hello, "success");

    const again = await gofer(["up", file]);
    assertExit(again, 0);
    assert.match(again.stdout, /Nothing to do: version 1 is live and identical/);
    const still = await server.api("GET", "/api/namespaces/default/pipelines/greeter/configs");
    assert.equal(still.json.configs.length, 1, "an unchanged pipeline registers no new version");

    writeFileSync(file, greeter("hi there"));
    const changed = await gofer(["up", file, "--no-deploy"]);
    assertExit(changed, 0);
    assert.match(changed.stdout, /~ task hello/);
    assert.doesNotMatch(changed.stdout, /task bye/, "an unchanged task is not listed as changed");
    assert.match(changed.stdout, /Registered version 2 of greeter \(not deployed\)/);
    const afterChange = await server.api("GET", "/api/namespaces/default/pipelines/greeter/configs/2");
    assert.equal(afterChange.json.config.state, "unreleased");
  });

  it("`run start --watch` follows a run to its end and exits 0 when it succeeds", async () => {
    await gofer(["up", pipelineFile(greeter("hello"))]);
    const watched = await gofer(["run", "start", "greeter", "--watch"]);
    assertExit(watched, 0);
    assert.match(watched.stdout, /hello: successful \(exit 0\)/);
    assert.match(watched.stdout, /bye: successful \(exit 0\)/);
    assert.match(watched.stdout, /Run \d+ successful in/);
    // The log of each task is stored and served through `task logs` and `run logs`.
    const runs = parseJson(await gofer(["run", "list", "greeter", "--json"])) as { run_id: number }[];
    const runId = String(runs[0]?.run_id);
    const logs = await gofer(["task", "logs", "greeter", runId, "bye"]);
    assertExit(logs, 0);
    assert.equal(logs.stdout, "line one\nline two\n");
    const all = await gofer(["run", "logs", "greeter", runId]);
    assert.match(all.stdout, /── hello \(successful\)\nhello\n── bye \(successful\)\nline one\nline two\n/);
  });

  it("`run watch` exits non-zero for a failed run and prints the tail of the failed task's log", async () => {
    assertExit(await gofer(["up", pipelineFile(failing)]), 0);
    const started = parseJson(await gofer(["run", "start", "breaks", "--json"])) as { run_id: number };
    const watched = await gofer(["run", "watch", "breaks", String(started.run_id)]);
    assertExit(watched, 1);
    assert.match(watched.stdout, /broken: failed \(exit 7\)/);
    assert.match(watched.stdout, /── broken failed/);
    assert.match(watched.stdout, /it went wrong/);
    assert.match(watched.stdout, /output 30/);
    assert.match(watched.stdout, /… 11 earlier lines/, "only the last 20 of 31 lines are shown");
    assert.doesNotMatch(watched.stdout, /output 11\n/);
    assert.match(watched.stdout, /output 12\n/);
    assert.match(watched.stdout, /Run \d+ failed/);
  });

  it("`run watch` without a run id follows the newest run; `--json` prints the final run and tasks", async () => {
    await gofer(["up", pipelineFile(greeter("hello"))]);
    const started = parseJson(await gofer(["run", "start", "greeter", "--json"])) as { run_id: number };
    const watched = await gofer(["run", "watch", "greeter", "--json"]);
    assertExit(watched, 0);
    const view = parseJson(watched) as {
      run: { run_id: number; status: string };
      tasks: { task_id: string }[];
    };
    assert.equal(view.run.run_id, started.run_id);
    assert.equal(view.run.status, "successful");
    assert.deepEqual(
      view.tasks.map((task) => task.task_id),
      ["hello", "bye"],
    );
  });

  it("`task logs --follow` streams a running task's lines until it ends", async () => {
    const slow = `
import { pipeline, task } from "@gofer/sdk";
export default pipeline("ticker", "Ticker").tasks(
  task("tick", ${JSON.stringify(BUSYBOX)}).script(\`
    for i in 1 2 3 4 5; do echo "tick $i"; sleep 0.3; done
  \`),
);
`;
    assertExit(await gofer(["up", pipelineFile(slow)]), 0);
    const started = parseJson(await gofer(["run", "start", "ticker", "--json"])) as { run_id: number };
    const followed = await gofer(["task", "logs", "ticker", String(started.run_id), "tick", "--follow"]);
    assertExit(followed, 0);
    assert.equal(followed.stdout, "tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n");
  });

  it("`run cancel` stops a running run", async () => {
    const sleeper = `
import { pipeline, task } from "@gofer/sdk";
export default pipeline("sleeper", "Sleeper").tasks(task("nap", ${JSON.stringify(BUSYBOX)}).command("sleep", "30"));
`;
    assertExit(await gofer(["up", pipelineFile(sleeper)]), 0);
    const started = parseJson(await gofer(["run", "start", "sleeper", "--json"])) as { run_id: number };
    const cancel = await gofer(["run", "cancel", "sleeper", String(started.run_id)]);
    assertExit(cancel, 0);
    const watched = await gofer(["run", "watch", "sleeper", String(started.run_id)], { timeoutMs: 30_000 });
    assertExit(watched, 1);
    assert.match(watched.stdout, /Run \d+ cancelled/);
  });
});
