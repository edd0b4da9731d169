/**
 * The run loop's cost per task must not grow with the DAG. A task's completion reads the rows of that task and
 * its dependents, and asks an index whether anything is unfinished; it must never re-read the whole run. So the
 * rows of `task_executions` read per task, and the statements per task, are counted on a real engine and a real
 * SQLite file for a small and a six times larger DAG of the same shape: a per-completion rescan would make the
 * larger DAG's figure per task about six times the smaller's.
 *
 * Admission likewise: accepting a run behind a queue of 30 must read no more than behind a queue of 3.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { deployPipeline, pipelineConfig, shTask, startRun, waitForRun } from "./support/pipelines.ts";
import { StatementCounter } from "./support/statement-counter.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const SMALL = 6;
const LARGE = 36;
/** Headroom for what is shared by the run, which the smaller DAG spreads over fewer tasks. */
const GROWTH_ALLOWED = 1.5;

type Shape = "fan-out" | "chain" | "skipped fan-out";

/** `fan-out`: t0, then every other task depending on it; `chain`: each on the one before; `skipped fan-out`: t0 fails, so every dependent is skipped. */
function dag(id: string, shape: Shape, tasks: number) {
  return pipelineConfig(
    id,
    Array.from({ length: tasks }, (_, index) => {
      if (index === 0) return shTask("t0", shape === "skipped fan-out" ? "exit 1" : "true");
      const parent = shape === "chain" ? `t${index - 1}` : "t0";
      return shTask(`t${index}`, "true", { depends_on: { [parent]: "success" } });
    }),
    // Every dependent of a fan-out at once: the widest completion storm the DAG allows.
    0,
  );
}

describe("run loop cost per task as the DAG grows", () => {
  const counter = new StatementCounter();
  let server: TestServer;

  before(async () => {
    server = await startTestServer({}, { wrapDatabase: counter.wrap });
  });
  after(async () => {
    await server?.stop();
  });

  /** Runs the DAG once and returns task_executions rows read and statements, each per task. */
  async function costPerTask(shape: Shape, tasks: number) {
    const id = `${shape.replaceAll(" ", "-")}-${tasks}`;
    await deployPipeline(server, dag(id, shape, tasks));
    counter.start();
    const runId = await startRun(server, id);
    const { run, tasks: finished } = await waitForRun(server, id, runId, 120_000);
    counter.stop();
    assert.equal(Object.keys(finished).length, tasks);
    assert.equal(run.status, shape === "skipped fan-out" ? "failed" : "successful");
    return { rows: counter.rowsOf("task_executions") / tasks, statements: counter.statements / tasks };
  }

  for (const shape of ["fan-out", "chain", "skipped fan-out"] as const) {
    it(`a ${shape} of ${LARGE} tasks costs per task what one of ${SMALL} does`, async () => {
      const small = await costPerTask(shape, SMALL);
      const large = await costPerTask(shape, LARGE);
      const described = `per task, ${SMALL} tasks: ${small.rows.toFixed(1)} rows, ${small.statements.toFixed(1)} statements; ${LARGE} tasks: ${large.rows.toFixed(1)} rows, ${large.statements.toFixed(1)} statements`;
      assert.ok(
        large.rows <= small.rows * GROWTH_ALLOWED,
        `task_executions rows read grew with the DAG: ${described}`,
      );
      assert.ok(
        large.statements <= small.statements * GROWTH_ALLOWED,
        `statements grew with the DAG: ${described}`,
      );
    });
  }

  it("admitting behind a queue of 30 runs reads what it does behind a queue of 3", async () => {
    await deployPipeline(server, pipelineConfig("queue-depth", [shTask("hold", "sleep 60")], 1));
    /** Runs-table rows read while accepting one more run, with the admission it sets off. */
    const rowsToAccept = async () => {
      counter.start();
      await startRun(server, "queue-depth");
      // Admission follows the POST's answer; it is over when no statement has come for a while.
      for (let last = -1; last !== counter.statements; ) {
        last = counter.statements;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      counter.stop();
      return counter.rowsOf("runs");
    };
    const first = await startRun(server, "queue-depth");
    for (let queued = 0; queued < 3; queued += 1) await startRun(server, "queue-depth");
    const shallow = await rowsToAccept();
    for (let queued = 4; queued < 30; queued += 1) await startRun(server, "queue-depth");
    const deep = await rowsToAccept();
    assert.ok(deep <= shallow + 1, `runs rows read: ${shallow} behind 3 queued runs, ${deep} behind 30`);
    // Queued runs close at once when cancelled; the running one after its container stops.
    for (let runId = 31; runId > first; runId -= 1) {
      const cancelled = await server.api(
        "DELETE",
        `/api/namespaces/default/pipelines/queue-depth/runs/${runId}`,
      );
      assert.equal(cancelled.status, 204, cancelled.text);
    }
    await server.api("DELETE", `/api/namespaces/default/pipelines/queue-depth/runs/${first}`);
    assert.equal((await waitForRun(server, "queue-depth", first, 60_000)).run.status, "cancelled");
  });
});
