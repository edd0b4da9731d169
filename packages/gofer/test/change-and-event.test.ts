/**
 * A task's state change and its event are one commit: when storing the event fails, the change is not kept
 * either, so no reader ever finds a task complete whose `completed_task_execution` was never stored. After a
 * restart the server finishes the task again, with its event, once. The failure is real: the server's own
 * database refuses the event's INSERT, once, through a Kysely plugin on its connection.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from "kysely";
import { deployPipeline, pipelineConfig, shTask, startRun, waitForRun } from "./support/pipelines.ts";
import { storedEvents } from "./support/stored-events.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";
import { waitFor } from "./support/wait-for.ts";

/** Fails the next INSERT of an event of `kind`, once. */
class RefuseEventOnce implements KyselyPlugin {
  refused = false;
  readonly kind: string;
  constructor(kind: string) {
    this.kind = kind;
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (
      !this.refused &&
      args.node.kind === "InsertQueryNode" &&
      args.node.into?.table.identifier.name === "events" &&
      JSON.stringify(args.node).includes(`"${this.kind}"`)
    ) {
      this.refused = true;
      throw new Error(`refusing to store ${this.kind} (test)`);
    }
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

describe("a task's state change and its event", () => {
  const refuse = new RefuseEventOnce("completed_task_execution");
  let server: TestServer;
  before(async () => {
    server = await startTestServer({}, { wrapDatabase: (db) => db.withPlugin(refuse) });
  });
  after(async () => server?.stop());

  it("are stored together or not at all, and a restart completes the task with its event once", async () => {
    await deployPipeline(server, pipelineConfig("atomic", [shTask("work", "sleep 0.5")]));
    const runId = await startRun(server, "atomic");
    await waitFor("the refused event", 30_000, async () => (refuse.refused ? true : undefined));

    // Whatever the server does next, a reader never sees the task complete without its event.
    for (let look = 0; look < 10; look++) {
      const task = await server.api(
        "GET",
        `/api/namespaces/default/pipelines/atomic/runs/${runId}/tasks/work`,
      );
      const completed = (await storedEvents(server)).filter(
        (event) => event.kind.completed_task_execution?.run_id === runId,
      );
      if (task.json.task_execution.state === "complete")
        assert.equal(completed.length, 1, "a complete task has its completed_task_execution event");
      else assert.equal(completed.length, 0, "no completed_task_execution event for a task not complete");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    await server.restart();
    const { run, tasks } = await waitForRun(server, "atomic", runId);
    assert.equal(run.status, "successful");
    assert.equal(tasks.work?.status, "successful");
    const completed = (await storedEvents(server)).filter(
      (event) => event.kind.completed_task_execution?.run_id === runId,
    );
    assert.equal(completed.length, 1, JSON.stringify(completed));
  });
});
