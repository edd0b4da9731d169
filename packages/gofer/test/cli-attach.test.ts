import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { before, describe, it } from "node:test";
import { assertExit, GOFER_BIN, type Gofer, parseJson, useCliServer } from "./support/cli.ts";
import { deployPipeline, pipelineConfig, shTask, startRun, waitForTask } from "./support/pipelines.ts";
import type { TestServer } from "./support/test-server.ts";

describe("gofer task attach and gofer system", () => {
  let server: TestServer;
  let gofer: Gofer;
  let runId: number;
  useCliServer((started, cli) => {
    server = started;
    gofer = cli;
  });
  before(async () => {
    await deployPipeline(
      server,
      pipelineConfig("shell", [
        shTask("sleeper", "trap 'exit 0' TERM; while true; do sleep 0.1; done"),
        shTask("quick", "true"),
      ]),
    );
    runId = await startRun(server, "shell");
    await waitForTask(server, "shell", runId, "sleeper", (task) => task.state === "running");
    await waitForTask(server, "shell", runId, "quick", (task) => task.state === "complete");
  });

  it("sends piped input to the command, prints its output and exits with its exit code", async () => {
    const result = await gofer(
      [
        "task",
        "attach",
        "shell",
        String(runId),
        "sleeper",
        "-c",
        "sh -c 'read name; echo hello-$name; exit 4'",
      ],
      { input: "gofer\n" },
    );
    assertExit(result, 4);
    assert.equal(result.stdout.trim(), "hello-gofer");
  });

  it("runs the default shell on piped input and ends it at end of input", async () => {
    const result = await gofer(["task", "attach", "shell", String(runId), "sleeper"], {
      input: "echo task=$GOFER_TASK_ID\n",
    });
    assertExit(result, 0);
    assert.equal(result.stdout.trim(), "task=sleeper");
  });

  it("on a terminal, connects the keyboard raw to a shell in the task and exits with the shell's code", async () => {
    // `script` gives the CLI a real pseudo-terminal, as a person's terminal would.
    const cli = `${shellQuote(process.execPath)} ${shellQuote(GOFER_BIN)} task attach shell ${runId} sleeper`;
    const child = spawn("script", ["-qefc", `stty rows 24 cols 100; ${cli}`, "/dev/null"], {
      env: { ...process.env, HOME: tmpdir(), GOFER_API_BASE_URL: server.url, GOFER_TOKEN: server.token },
      stdio: "pipe",
    });
    let screen = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      screen += text;
      // Busybox's shell asks where the cursor is before each prompt and waits for a terminal's answer.
      if (text.includes("\u001b[6n")) child.stdin.write("\u001b[1;1R");
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const waitFor = async (pattern: RegExp) => {
      const deadline = Date.now() + 15_000;
      while (!pattern.test(screen)) {
        if (Date.now() > deadline) {
          child.kill();
          throw new Error(`the terminal never showed ${pattern}:\n${JSON.stringify(screen)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    };
    try {
      await waitFor(/# /);
      child.stdin.write("stty size; echo tty-$GOFER_TASK_ID\r");
      await waitFor(/24 100[\s\S]*tty-sleeper/);
      child.stdin.write("exit 6\r");
      assert.equal(await exited, 6);
    } finally {
      child.kill();
    }
  });

  it("says why it cannot attach to a finished task, with a non-zero exit", async () => {
    const result = await gofer(["task", "attach", "shell", String(runId), "quick"], { input: "" });
    assertExit(result, 1);
    assert.match(result.stderr, /only a running task can be attached to/);
    assert.equal(result.stdout, "");
  });

  it("pauses and resumes new runs, for people and for scripts", async () => {
    const paused = await gofer(["system", "pause"]);
    assertExit(paused, 0);
    assert.match(paused.stdout, /new runs:\s+paused/);
    const refused = await gofer(["run", "start", "shell"]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /paused/);

    const shown = await gofer(["system", "get", "--json"]);
    assertExit(shown, 0);
    assert.deepEqual(parseJson(shown), { bootstrap_token_created: true, ignore_pipeline_run_events: true });

    const resumed = await gofer(["system", "resume", "--json"]);
    assertExit(resumed, 0);
    assert.equal(
      (parseJson(resumed) as { ignore_pipeline_run_events: boolean }).ignore_pipeline_run_events,
      false,
    );
  });

  it("refuses system changes to a token that is not an admin's, saying so", async () => {
    const created = await server.api("POST", "/api/tokens", { user: "dev", roles: ["user"], expires: 0 });
    const result = await gofer(["system", "pause"], { env: { GOFER_TOKEN: created.json.secret } });
    assertExit(result, 1);
    assert.match(result.stderr, /admin/);
    assert.equal((await server.api("GET", "/api/system")).json.ignore_pipeline_run_events, false);
  });
});

const shellQuote = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`;
