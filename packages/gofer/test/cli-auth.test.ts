import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type CliResult, type Gofer, parseJson, useCliServer } from "./support/cli.ts";
import type { TestServer } from "./support/test-server.ts";

function assertOk(result: CliResult): void {
  assert.equal(result.code, 0, `exit ${result.code}\n${result.stdout}\n${result.stderr}`);
}

describe("CLI: tokens and roles", () => {
  let _server: TestServer;
  let gofer: Gofer;
  useCliServer((started, cli) => {
    _server = started;
    gofer = cli;
  });

  it("creates a devops role and a token for it that works only in its namespaces", async () => {
    assertOk(await gofer(["namespace", "create", "devops-a", "DevOps A"]));
    const created = await gofer([
      "role",
      "create",
      "devops",
      "-d",
      "DevOps team",
      "--permission",
      "namespaces:^devops.*,pipelines:.*,configs,runs=read,write",
      "-p",
      "namespaces:^a{1,3}$,pipelines:.*=read",
    ]);
    assertOk(created);
    assert.match(created.stdout, /Created role devops/);

    const role = parseJson(await gofer(["role", "get", "devops", "--json"])) as {
      permissions: { resources: string[]; actions: string[] }[];
    };
    assert.deepEqual(role.permissions, [
      { resources: ["namespaces:^devops.*", "pipelines:.*", "configs", "runs"], actions: ["read", "write"] },
      { resources: ["namespaces:^a{1,3}$", "pipelines:.*"], actions: ["read"] },
    ]);
    const listed = await gofer(["role", "list"]);
    assertOk(listed);
    assert.match(listed.stdout, /devops/);
    assert.match(listed.stdout, /anonymous/);

    const token = parseJson(
      await gofer(["token", "create", "alice", "-r", "devops", "-e", "3600", "-m", "team=devops", "--json"]),
    ) as { secret: string; token_details: { id: string; roles: string[]; metadata: Record<string, string> } };
    assert.deepEqual(token.token_details.roles, ["devops"]);
    assert.deepEqual(token.token_details.metadata, { team: "devops" });

    const asAlice = (args: string[]) => gofer(args, { env: { GOFER_TOKEN: token.secret } });
    assertOk(await asAlice(["pipeline", "list", "--namespace", "devops-a"]));
    const refused = await asAlice(["pipeline", "list"]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /HTTP 403/);

    const shown = await gofer(["token", "get", token.token_details.id]);
    assertOk(shown);
    assert.match(shown.stdout, /alice/);
    assertOk(await gofer(["token", "disable", token.token_details.id]));
    assert.match((await asAlice(["token", "whoami"])).stderr, /Token disabled/);
    assertOk(await gofer(["token", "enable", token.token_details.id]));
    assertOk(await asAlice(["token", "whoami"]));
    const tokens = await gofer(["token", "list"]);
    assertOk(tokens);
    assert.match(tokens.stdout, /alice/);
    assertOk(await gofer(["token", "delete", token.token_details.id]));
    assert.match((await asAlice(["token", "whoami"])).stderr, /HTTP 401/);

    assertOk(await gofer(["role", "update", "devops", "-d", "changed"]));
    assertOk(await gofer(["role", "delete", "devops"]));
  });

  it("explains a malformed --permission and server refusals", async () => {
    const malformed = await gofer(["role", "create", "x", "--permission", "runs"]);
    assert.notEqual(malformed.code, 0, malformed.stderr);
    assert.match(malformed.stderr, /<resources>=<actions>/);
    const badAction = await gofer(["role", "create", "x", "--permission", "runs=execute"]);
    assert.notEqual(badAction.code, 0, badAction.stderr);
    assert.match(badAction.stderr, /read, write and\/or delete/);
    const unknown = await gofer(["role", "create", "typo-role", "--permission", "pipelinez:.*=read"]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /pipelinez/);
    const system = await gofer(["role", "delete", "admin"]);
    assert.match(system.stderr, /system role/);
    const help = await gofer(["role", "create", "--help"]);
    assert.match(help.stdout, /namespaces:<regex>/);
  });
});
