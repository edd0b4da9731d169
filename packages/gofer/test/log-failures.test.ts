/**
 * A task's outcome is its exit code, whatever happens to its log. On the real engine, with the backend's log
 * reads made to fail the way a corrupt stream does (an error that says nothing about the engine's state): a
 * capture cut off part-way resumes from the stored position and loses or repeats nothing, and one that keeps
 * failing is given up with a note in the log, while the task still ends as its exit code says.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { LiveOutput, LogChunk, Scheduler } from "../src/scheduler/scheduler.ts";
import {
  deployPipeline,
  pipelineConfig,
  shTask,
  startRun,
  taskLogLines,
  waitForRun,
} from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

interface Faults {
  /** Pieces of live output delivered before its stream breaks. */
  livePieces: number;
  /** How many of the next reads of the engine's log break before their first piece. */
  brokenReads: number;
}

/** The real Docker scheduler, except that its log streams break when `faults` says so. */
function breakingLogs(docker: Scheduler, faults: Faults): Scheduler {
  const broken = () => new Error("corrupt log stream: injected by the test");
  return {
    start: async (spec) => {
      const started = await docker.start(spec);
      return started.output ? { ...started, output: breakAfter(started.output, faults, broken) } : started;
    },
    wait: (id, options) => docker.wait(id, options),
    logs: (id, options) => {
      if (faults.brokenReads <= 0) return docker.logs(id, options);
      faults.brokenReads--;
      return (async function* (): AsyncGenerator<LogChunk> {
        yield* [];
        throw broken();
      })();
    },
    stop: (id, timeout) => docker.stop(id, timeout),
    remove: (id) => docker.remove(id),
    listManaged: (labels) => docker.listManaged(labels),
    serviceBindHost: () => docker.serviceBindHost(),
  };
}

function breakAfter(output: LiveOutput, faults: Faults, broken: () => Error): LiveOutput {
  return {
    chunks: (async function* () {
      let delivered = 0;
      for await (const chunk of output.chunks) {
        if (delivered++ >= faults.livePieces) throw broken();
        yield chunk;
      }
    })(),
    close: () => output.close(),
  };
}

/** Five bursts of a thousand numbered lines, so the live stream delivers several pieces before it breaks. */
const BURSTS =
  'for b in 1 2 3 4 5; do seq $((b * 1000 - 999)) $((b * 1000)); sleep 0.3; done; printf "last, unterminated"';
const expectedLines = [
  ...Array.from({ length: 5000 }, (_, index) => String(index + 1)),
  "last, unterminated",
];

describe("a log that fails on its own", { timeout: 120_000 }, () => {
  let server: TestServer;
  const faults: Faults = { livePieces: Number.POSITIVE_INFINITY, brokenReads: 0 };

  before(async () => {
    server = await startTestServer({}, { wrapScheduler: (docker) => breakingLogs(docker, faults) });
  });
  after(async () => {
    await server?.stop();
  });

  it("is resumed from its stored position when the live stream breaks, and holds every line once", async () => {
    faults.livePieces = 2;
    faults.brokenReads = 1;
    await deployPipeline(server, pipelineConfig("resumed", [shTask("count", BURSTS)]));
    const runId = await startRun(server, "resumed");
    const { run } = await waitForRun(server, "resumed", runId);
    assert.equal(run.status, "successful", JSON.stringify(run.status_reason));
    assert.deepEqual(await taskLogLines(server, "resumed", runId, "count"), expectedLines);
    assert.equal(faults.brokenReads, 0, "the first resume broke too, and the next one went on");
  });

  it("is given up with a note after a few resumes, and the task still ends as its exit code says", async () => {
    faults.livePieces = 1;
    faults.brokenReads = Number.POSITIVE_INFINITY;
    await deployPipeline(
      server,
      pipelineConfig("given-up", [shTask("ok", BURSTS), shTask("fails", `${BURSTS}; exit 3`)]),
    );
    const runId = await startRun(server, "given-up");
    const { run, tasks: byId } = await waitForRun(server, "given-up", runId);
    assert.equal(byId.ok?.status, "successful");
    assert.equal(byId.ok?.exit_code, 0);
    assert.equal(byId.fails?.status, "failed");
    assert.equal(byId.fails?.exit_code, 3);
    assert.equal(run.status, "failed");
    for (const taskId of ["ok", "fails"]) {
      const lines = await taskLogLines(server, "given-up", runId, taskId);
      const note = lines.at(-1) ?? "";
      assert.match(
        note,
        /^\[gofer\] this log is incomplete: .*corrupt log stream/,
        `task ${taskId}: ${note}`,
      );
      const stored = lines.slice(0, -1);
      assert.deepEqual(stored, expectedLines.slice(0, stored.length), "what was stored is whole and once");
    }
  });
});
