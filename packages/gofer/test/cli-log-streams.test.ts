/**
 * `gofer task logs` with each line's stream and time: `--timestamps`, stderr in red where colour is on, and
 * `--output json` as line objects; piped without them, the log's text exactly as stored.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { ANSI, assertExit, assertOk, type Gofer, showResult, useCliServer } from "./support/cli.ts";
import { deployPipeline, pipelineConfig, shTask, startRun, waitForRun } from "./support/pipelines.ts";
import type { TestServer } from "./support/test-server.ts";

const INTERLEAVED =
  'echo "out 1"; sleep 0.3; echo "err 1" >&2; sleep 0.3; echo "out 2"; sleep 0.3; echo "err 2" >&2';
const RED = `${ANSI}31m`;
const ISO_TIME = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) /;

describe("gofer task logs: streams and times", { timeout: 120_000 }, () => {
  let server: TestServer;
  let gofer: Gofer;
  useCliServer((started, cli) => {
    server = started;
    gofer = cli;
  });
  let run = "";
  let startedAt = 0;
  let endedAt = 0;

  before(async () => {
    await deployPipeline(server, pipelineConfig("mixed", [shTask("both", INTERLEAVED)]));
    startedAt = Date.now();
    const runId = await startRun(server, "mixed");
    const { tasks } = await waitForRun(server, "mixed", runId);
    endedAt = Date.now();
    assert.equal(tasks.both.status, "successful");
    run = String(runId);
  });

  it("prints the stored text unchanged when piped without --timestamps", async () => {
    const plain = assertOk(await gofer(["task", "logs", "mixed", run, "both"]));
    assert.equal(plain.stdout, "out 1\nerr 1\nout 2\nerr 2\n");
  });

  it("--timestamps puts each line's arrival time (UTC) before it, in order", async () => {
    const stamped = assertOk(await gofer(["task", "logs", "mixed", run, "both", "--timestamps"]));
    const lines = stamped.stdout.replace(/\n$/, "").split("\n");
    assert.deepEqual(
      lines.map((line) => line.replace(ISO_TIME, "")),
      ["out 1", "err 1", "out 2", "err 2"],
      showResult(stamped),
    );
    const times = lines.map((line) => Date.parse(ISO_TIME.exec(line)?.[1] ?? ""));
    for (const [index, time] of times.entries()) {
      assert.ok(time >= startedAt - 1000 && time <= endedAt, `time of line ${index + 1}`);
      if (index > 0) assert.ok(time >= (times[index - 1] as number));
    }
    assert.equal(stamped.stdout.includes(ANSI), false, "no colour in a pipe");
  });

  it("marks stderr lines in red when colour is on, and only them", async () => {
    const coloured = await gofer(["task", "logs", "mixed", run, "both"], { env: { FORCE_COLOR: "1" } });
    assertExit(coloured, 0);
    const lines = coloured.stdout.replace(/\n$/, "").split("\n");
    assert.equal(lines.length, 4, showResult(coloured));
    assert.deepEqual(
      lines.map((line) => line.startsWith(RED)),
      [false, true, false, true],
    );
    assert.equal(lines[0], "out 1");
  });

  it("--output json prints one line object per line", async () => {
    const json = assertOk(await gofer(["task", "logs", "mixed", run, "both", "--output", "json"]));
    const objects = json.stdout
      .replace(/\n$/, "")
      .split("\n")
      .map((line) => JSON.parse(line) as { line: string; stream: string; time: number });
    assert.deepEqual(
      objects.map(({ line, stream }) => ({ line, stream })),
      [
        { line: "out 1", stream: "stdout" },
        { line: "err 1", stream: "stderr" },
        { line: "out 2", stream: "stdout" },
        { line: "err 2", stream: "stderr" },
      ],
    );
    assert.ok(objects.every(({ time }) => time >= startedAt && time <= endedAt));
  });
});
