/** `gofer run list` and `gofer run get` say who started each run: the user of the token it was started with. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertOk, type Gofer, parseJson, useCliServer } from "./support/cli.ts";
import { deployPipeline, pipelineConfig, shTask } from "./support/pipelines.ts";
import type { TestServer } from "./support/test-server.ts";

describe("CLI: who started a run", () => {
  let server: TestServer;
  let gofer: Gofer;
  useCliServer((started, cli) => {
    server = started;
    gofer = cli;
  });

  it("shows the initiator in the run table and in a run's details", async () => {
    await deployPipeline(server, pipelineConfig("started-by", [shTask("hello", "true")]));
    assertOk(
      await gofer(["role", "create", "runner", "-p", "namespaces:default,pipelines:.*,runs=read,write"]),
    );
    const token = parseJson(await gofer(["token", "create", "nightly-bot", "-r", "runner", "--json"])) as {
      secret: string;
      token_details: { id: string };
    };
    assertOk(await gofer(["run", "start", "started-by"]));
    assertOk(await gofer(["run", "start", "started-by"], { env: { GOFER_TOKEN: token.secret } }));

    const table = assertOk(await gofer(["run", "list", "started-by"]));
    const [header, ...rows] = table.stdout.trimEnd().split("\n");
    assert.match(header ?? "", /\bSTARTED BY\b/, table.stdout);
    const byRun = new Map(rows.map((row) => [row.trim().split(/\s+/)[0], row]));
    assert.match(byRun.get("2") ?? "", /\bnightly-bot\b/, table.stdout);
    assert.match(byRun.get("1") ?? "", /\bbootstrap\b/, table.stdout);

    const detail = assertOk(await gofer(["run", "get", "started-by", "2"]));
    assert.match(detail.stdout, /^started by:\s+nightly-bot$/m, detail.stdout);
    assert.match(detail.stdout, new RegExp(`^token:\\s+${token.token_details.id}$`, "m"), detail.stdout);

    const json = parseJson(await gofer(["run", "get", "started-by", "2", "--json"])) as {
      run: { initiator: { id: string; user: string } };
    };
    assert.deepEqual(json.run.initiator, { id: token.token_details.id, user: "nightly-bot" });
  });
});
