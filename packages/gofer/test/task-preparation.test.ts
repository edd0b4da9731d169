import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import { deployPipeline, pipelineConfig, shTask, startRun, waitForRun } from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

describe("a task whose variables cannot be prepared", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  it("fails with scheduler_error and lets the run finish, instead of staying in processing", async () => {
    await deployPipeline(
      server,
      pipelineConfig("unreadable", [
        shTask("uses-secret", "echo never", { variables: { TOKEN: "pipeline_secret{{deploy}}" } }),
        shTask("after", "echo after", { depends_on: { "uses-secret": "Any" } }),
      ]),
    );
    const put = await server.api("POST", "/api/namespaces/default/pipelines/unreadable/secrets", {
      key: "deploy",
      content: "value",
      force: false,
    });
    assert.equal(put.status, 201, put.text);
    // A ciphertext that no longer decrypts stands for any store failure the resolver cannot turn into "missing".
    await sql`update pipeline_secrets set value = randomblob(40)`.execute(server.service.db);

    const runId = await startRun(server, "unreadable");
    const { run, tasks } = await waitForRun(server, "unreadable", runId, 15_000);
    assert.equal(tasks["uses-secret"].status, "failed");
    assert.equal(tasks["uses-secret"].status_reason.reason, "scheduler_error");
    assert.match(tasks["uses-secret"].status_reason.description, /could not be prepared/);
    assert.doesNotMatch(tasks["uses-secret"].status_reason.description, /value/);
    assert.equal(tasks.after.status, "successful", "a dependent that accepts any outcome still runs");
    assert.equal(run.status, "failed");
  });
});
