/**
 * Finished runs stored straight into a test server's database, as the orchestrator stores them when they end,
 * one a minute apart and ending in the past: many runs for list and paging tests without running a container
 * for each.
 */
import type { RunStatus } from "../../src/domain/states.ts";
import { insertRun, nextRunId } from "../../src/storage/runs-store.ts";
import type { TestServer } from "./test-server.ts";

export async function storeFinishedRuns(
  server: TestServer,
  pipelineId: string,
  count: number,
  statusOf: (runId: number) => RunStatus = () => "successful",
): Promise<void> {
  const db = server.service.db;
  for (let index = 0; index < count; index++) {
    await db.transaction().execute(async (tx) => {
      const runId = await nextRunId(tx, "default", pipelineId);
      const at = Date.now() - (count - index) * 60_000;
      await insertRun(
        tx,
        {
          namespace_id: "default",
          pipeline_id: pipelineId,
          pipeline_config_version: 1,
          run_id: runId,
          started: at,
          ended: at + 1500,
          state: "complete",
          status: statusOf(runId),
          status_reason: null,
          initiator: { id: "t", user: "ci" },
          variables: [],
          token_id: null,
          store_objects_expired: false,
          event_id: null,
        },
        at,
      );
    });
  }
}
