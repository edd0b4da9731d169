import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { goferAgainst, parseJson } from "./support/cli.ts";
import { deployPipeline, pipelineConfig, shTask } from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

describe("gofer secret", () => {
  let server: TestServer;
  let gofer: ReturnType<typeof goferAgainst>;
  let home: string;

  before(async () => {
    server = await startTestServer();
    gofer = goferAgainst(server);
    home = await mkdtemp(join(tmpdir(), "gofer-cli-secrets-"));
    await deployPipeline(server, pipelineConfig("app", [shTask("t", "true")]));
  });
  after(async () => {
    await server.stop();
    await rm(home, { recursive: true, force: true });
  });

  it("puts a pipeline secret from stdin, lists it without the value, and gets it with --include-secret", async () => {
    const put = await gofer(["secret", "pipeline", "put", "app", "api_key", "-"], {
      input: "from-stdin-42\n",
      env: { HOME: home },
    });
    assert.equal(put.code, 0, put.stderr);
    assert.match(put.stdout, /Stored secret api_key for pipeline app/);

    const again = await gofer(["secret", "pipeline", "put", "app", "api_key", "-"], {
      input: "x",
      env: { HOME: home },
    });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists.*HTTP 409/);

    const list = await gofer(["secret", "pipeline", "list", "app"]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /api_key/);
    assert.equal(list.stdout.includes("from-stdin-42"), false);

    const hidden = parseJson(await gofer(["secret", "pipeline", "get", "app", "api_key", "--json"])) as {
      secret: string | null;
    };
    assert.equal(hidden.secret, null);
    const shown = parseJson(
      await gofer(["secret", "pipeline", "get", "app", "api_key", "--include-secret", "--json"]),
    ) as { metadata: { key: string }; secret: string };
    assert.equal(shown.metadata.key, "api_key");
    assert.equal(shown.secret, "from-stdin-42");

    const deleted = await gofer(["secret", "pipeline", "delete", "app", "api_key"]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal((await gofer(["secret", "pipeline", "get", "app", "api_key"])).code, 1);
  });

  it("puts a global secret from a file with namespace regexes, lists and gets it as JSON", async () => {
    const file = join(home, "value.txt");
    await writeFile(file, "file-value-7\n");
    const put = await gofer([
      "secret",
      "global",
      "put",
      "deploy_key",
      `@${file}`,
      "-n",
      "default",
      "-n",
      "prod-.*",
    ]);
    assert.equal(put.code, 0, put.stderr);
    const list = parseJson(await gofer(["secret", "global", "list", "--json"])) as {
      key: string;
      namespaces: string[];
    }[];
    assert.deepEqual(
      list.map((item) => [item.key, item.namespaces]),
      [["deploy_key", ["default", "prod-.*"]]],
    );
    const got = parseJson(await gofer(["secret", "global", "get", "deploy_key", "-i", "--json"])) as {
      secret: string;
    };
    assert.equal(got.secret, "file-value-7");
    const table = await gofer(["secret", "global", "list"]);
    assert.match(table.stdout, /deploy_key\s+.*default, prod-\.\*/);
    assert.equal((await gofer(["secret", "global", "delete", "deploy_key"])).code, 0);
  });
});
