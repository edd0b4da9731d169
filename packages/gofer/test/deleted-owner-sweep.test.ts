/**
 * A crash never skips the clean-up that follows a delete: a pipeline or namespace delete commits before its
 * log and object files go, so a server stopped in between leaves them behind, and the next boot removes them.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import {
  deployPipeline,
  pipelineConfig,
  shTask,
  startRun,
  taskLogLines,
  waitForRun,
} from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const pipelineUrl = (pipelineId: string) => `/api/namespaces/default/pipelines/${pipelineId}`;

async function storeObject(server: TestServer, pipelineId: string, key: string, content: string) {
  const response = await server.api("POST", `${pipelineUrl(pipelineId)}/objects/${key}`, content, {
    "content-type": "application/octet-stream",
  });
  assert.equal(response.status, 201, response.text);
}

describe("boot sweep of deleted pipelines' and namespaces' files", () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.stop();
  });

  it("removes the folders of pipelines and namespaces that no longer exist, and keeps the others", async () => {
    for (const pipelineId of ["kept", "vanished"]) {
      await deployPipeline(server, pipelineConfig(pipelineId, [shTask("say", "echo hello")]));
      await waitForRun(server, pipelineId, await startRun(server, pipelineId));
      await storeObject(server, pipelineId, "note", `from ${pipelineId}`);
    }
    const logs = join(server.dataDir, "logs");
    const objects = join(server.dataDir, "objects", "namespaces");
    for (const root of [logs, objects]) {
      assert.ok(existsSync(join(root, "default", "vanished")), `${root} holds the pipeline's folder`);
    }

    await server.restart(async () => {
      // What a crash right after the delete's commit leaves: rows gone, files still there.
      const database = new DatabaseSync(join(server.dataDir, "gofer.db"));
      try {
        database.exec("PRAGMA foreign_keys = ON");
        database
          .prepare("DELETE FROM pipelines WHERE namespace_id = 'default' AND pipeline_id = 'vanished'")
          .run();
      } finally {
        database.close();
      }
      for (const root of [logs, objects]) {
        await mkdir(join(root, "ghost", "pipeline", "1"), { recursive: true });
        await writeFile(join(root, "ghost", "pipeline", "1", "left.log"), "left behind\n");
      }
    });

    for (const root of [logs, objects]) {
      assert.equal(
        existsSync(join(root, "default", "vanished")),
        false,
        `${root}: deleted pipeline's folder`,
      );
      assert.equal(existsSync(join(root, "ghost")), false, `${root}: deleted namespace's folder`);
      assert.ok(existsSync(join(root, "default", "kept")), `${root}: existing pipeline's folder`);
    }
    assert.deepEqual(await taskLogLines(server, "kept", 1, "say"), ["hello"]);
    const kept = await server.api("GET", `${pipelineUrl("kept")}/objects/note`);
    assert.equal(kept.status, 200, kept.text);
    assert.equal(kept.text, "from kept");
  });
});
