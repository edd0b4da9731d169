/** `gofer run list --status` narrows the list on the server (`status` on the runs list) and refuses other words. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertOk, type Gofer, parseJson, useCliServer } from "./support/cli.ts";
import { deployPipeline, pipelineConfig, shTask, waitForRun } from "./support/pipelines.ts";
import type { TestServer } from "./support/test-server.ts";

describe("CLI: runs narrowed by status", () => {
  let server: TestServer;
  let gofer: Gofer;
  useCliServer((started, cli) => {
    server = started;
    gofer = cli;
  });

  it("lists only the runs that ended so, and names the words it takes", async () => {
    await deployPipeline(server, pipelineConfig("outcomes", [shTask("check", 'test "$OUTCOME" = pass')]));
    for (const outcome of ["pass", "fail", "pass"]) {
      assertOk(await gofer(["run", "start", "outcomes", "-v", `OUTCOME=${outcome}`]));
    }
    for (const runId of [1, 2, 3]) await waitForRun(server, "outcomes", runId);

    const failed = parseJson(await gofer(["run", "list", "outcomes", "--status", "failed", "--json"])) as {
      run_id: number;
    }[];
    assert.deepEqual(
      failed.map((run) => run.run_id),
      [2],
    );
    const table = assertOk(await gofer(["run", "list", "outcomes", "-s", "successful"]));
    const ids = table.stdout
      .trimEnd()
      .split("\n")
      .slice(1)
      .map((row) => row.trim().split(/\s+/)[0]);
    assert.deepEqual(ids, ["3", "1"], table.stdout);

    const refused = await gofer(["run", "list", "outcomes", "--status", "complete"]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /pending, running, successful, failed, cancelled/, refused.stderr);
  });
});
