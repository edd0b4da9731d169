import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  ANSI,
  assertOk,
  type CliResult,
  goferAgainst,
  parseJson,
  scratchDir,
  showResult,
} from "./support/cli.ts";
import { waitForRun, waitForTask } from "./support/pipelines.ts";
import { BUSYBOX, startTestServer, type TestServer } from "./support/test-server.ts";

/** Every folder this file makes, removed when it ends. */

/**
 * A pipeline file in a folder outside the repository, importing the SDK as a user's file would. `tasks` is the
 * body of `.tasks(…)`, written with `task(id, image)` where `image` is the busybox image.
 */
function pipelineFile(id: string, tasks: string): string {
  const dir = scratchDir("gofer-cli-resources-");
  const path = join(dir, "pipeline.ts");
  writeFileSync(
    path,
    `import { pipeline, task } from "@gofer/sdk";\nconst image = ${JSON.stringify(BUSYBOX)};\n` +
      `export default pipeline(${JSON.stringify(id)}, "Pipeline ${id}").tasks(\n${tasks}\n);\n`,
  );
  return path;
}

/** A failure: exit 1, nothing on stdout, and `error` on stderr. */
function assertFails(result: CliResult, error: RegExp): void {
  assert.equal(result.code, 1, showResult(result));
  assert.equal(result.stdout, "", showResult(result));
  assert.match(result.stderr, /^error: /m, showResult(result));
  assert.match(result.stderr, error, showResult(result));
}

/** `--json` output of a command that succeeded. */
// biome-ignore lint/suspicious/noExplicitAny: tests read the CLI's JSON as served
const json = (result: CliResult): any => parseJson(assertOk(result));

/** Event commands stream JSON lines: each line one event. */
// biome-ignore lint/suspicious/noExplicitAny: events as served
function jsonLines(result: CliResult): any[] {
  assertOk(result);
  assert.ok(result.stdout.endsWith("\n"), showResult(result));
  return result.stdout
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line));
}

/** Whether the ids are in strictly increasing order. */
const increasing = (ids: bigint[]): boolean => ids.every((id, i) => i === 0 || (ids[i - 1] ?? id) < id);
/** `text` as a regular expression matching exactly it. */
const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("gofer CLI: resource commands, as tables and as JSON", () => {
  let server: TestServer;
  let gofer: ReturnType<typeof goferAgainst>;
  before(async () => {
    server = await startTestServer();
    const against = goferAgainst(server);
    // Without NO_COLOR, every human output below also shows that a pipe gets no colour codes (see assertOk).
    gofer = (args, options = {}) =>
      against(args, { ...options, env: { NO_COLOR: undefined, ...options.env } });
  });
  after(async () => {
    await server.stop();
  });

  it("namespace create, get, update, list and delete", async () => {
    // Independent commands run side by side to keep the file quick.
    const [createdJson, createdTable] = await Promise.all([
      gofer(["namespace", "create", "team-a", "Team A", "the first team", "--json"]),
      gofer(["namespace", "create", "team-b", "Team B"]),
    ]);
    const created = json(createdJson);
    assert.equal(created.id, "team-a");
    assert.equal(created.name, "Team A");
    assert.equal(created.description, "the first team");
    assert.equal((await server.api("GET", "/api/namespaces/team-a")).json.namespace.name, "Team A");

    assert.equal(assertOk(createdTable).stdout, "Created namespace team-b\n");

    const [gotJson, gotText] = await Promise.all([
      gofer(["namespace", "get", "team-a", "--json"]),
      gofer(["namespace", "get", "team-a"]),
    ]);
    assert.deepEqual(json(gotJson), created);
    const gotTable = assertOk(gotText).stdout;
    assert.match(gotTable, /^id:\s+team-a$/m);
    assert.match(gotTable, /^name:\s+Team A$/m);
    assert.match(gotTable, /^description:\s+the first team$/m);
    assert.match(gotTable, /^created:\s+(just now|\d+s ago)$/m);

    const [updatedJson, updatedTable] = await Promise.all([
      gofer(["namespace", "update", "team-a", "--name", "Team Alpha", "-d", "renamed", "--json"]),
      gofer(["namespace", "update", "team-b", "-d", "second"]),
    ]);
    const updated = json(updatedJson);
    assert.equal(updated.name, "Team Alpha");
    assert.equal(updated.description, "renamed");
    const stored = (await server.api("GET", "/api/namespaces/team-a")).json.namespace;
    assert.equal(stored.name, "Team Alpha");
    assert.equal(stored.description, "renamed");
    assert.equal(assertOk(updatedTable).stdout, "Updated namespace team-b\n");

    const [listedJson, listedTable] = await Promise.all([
      gofer(["namespace", "list", "--json"]),
      gofer(["namespace", "list"]),
    ]);
    const listed = json(listedJson);
    assert.deepEqual(listed.map((item: { id: string }) => item.id).sort(), ["default", "team-a", "team-b"]);
    const table = assertOk(listedTable).stdout;
    assert.match(table, /^ID\s+NAME\s+DESCRIPTION\s+CREATED$/m);
    assert.match(table, /^team-a\s+Team Alpha\s+renamed\s+(just now|\d+s ago)$/m);
    assert.match(table, /^team-b\s+Team B\s+second\s+/m);

    const [deletedJson, deletedTable] = await Promise.all([
      gofer(["namespace", "delete", "team-a", "--json"]),
      gofer(["namespace", "delete", "team-b"]),
    ]);
    assert.deepEqual(json(deletedJson), { deleted: "team-a" });
    assert.equal(assertOk(deletedTable).stdout, "Deleted namespace team-b\n");
    assert.equal((await server.api("GET", "/api/namespaces/team-a")).status, 404);
    assertFails(await gofer(["namespace", "get", "team-a"]), /Namespace "team-a" not found \(HTTP 404/);
  });

  it("pipeline list, get, disable, enable and delete", async () => {
    const file = pipelineFile(
      "alpha",
      `  task("first", image).command("echo", "one"),\n  task("second", image).dependsOn("first", "any"),`,
    );
    assertOk(await gofer(["up", file]));

    const [listedJson, listedTable, gotJson, gotText] = await Promise.all([
      gofer(["pipeline", "list", "--json"]),
      gofer(["pipeline", "list"]),
      gofer(["pipeline", "get", "alpha", "--json"]),
      gofer(["pipeline", "get", "alpha"]),
    ]);
    const listed = json(listedJson);
    assert.deepEqual(
      listed.map((item: { pipeline_id: string; state: string }) => [item.pipeline_id, item.state]),
      [["alpha", "active"]],
    );
    const table = assertOk(listedTable).stdout;
    assert.match(table, /^ID\s+STATE\s+CREATED\s+MODIFIED$/m);
    assert.match(table, /^alpha\s+active\s+/m);

    const got = json(gotJson);
    assert.equal(got.pipeline.pipeline_id, "alpha");
    assert.equal(got.live_config.version, 1);
    assert.deepEqual(Object.keys(got.live_config.tasks).sort(), ["first", "second"]);
    const gotTable = assertOk(gotText).stdout;
    assert.match(gotTable, /^name:\s+Pipeline alpha$/m);
    assert.match(gotTable, /^live version:\s+1$/m);
    assert.match(gotTable, /^TASK\s+IMAGE\s+DEPENDS ON$/m);
    assert.match(gotTable, new RegExp(`^second\\s+${literal(BUSYBOX)}\\s+first \\(any\\)$`, "m"));

    const disabled = json(await gofer(["pipeline", "disable", "alpha", "--json"]));
    assert.equal(disabled.state, "disabled");
    const refused = await server.api("POST", "/api/namespaces/default/pipelines/alpha/runs", {
      variables: {},
    });
    assert.equal(refused.status, 503, refused.text);
    assertFails(
      await gofer(["run", "start", "alpha"]),
      new RegExp(`^error: ${literal(refused.json.message)} \\(HTTP 503, PIPELINE_INACTIVE\\)$`, "m"),
    );
    const noRuns = await server.api("GET", "/api/namespaces/default/pipelines/alpha/runs");
    assert.deepEqual(noRuns.json.runs, [], "a disabled pipeline starts no run");

    assert.equal(assertOk(await gofer(["pipeline", "enable", "alpha"])).stdout, "Enabled pipeline alpha\n");
    const started = assertOk(await gofer(["run", "start", "alpha"])).stdout;
    assert.match(started, /^Started run 1 of alpha \(\w+\)$/m);
    assert.match(started, /gofer run watch alpha 1/);

    // --namespace works on another namespace only (while the run above goes on).
    assertOk(await gofer(["namespace", "create", "elsewhere", "Elsewhere"]));
    assertOk(
      await gofer([
        "up",
        pipelineFile("beta", `  task("only", image).command("true"),`),
        "--namespace",
        "elsewhere",
      ]),
    );
    const [there, here, notHere, viaEnv] = await Promise.all([
      gofer(["pipeline", "list", "--namespace", "elsewhere", "--json"]),
      gofer(["pipeline", "list", "--json"]),
      gofer(["pipeline", "get", "beta"]),
      gofer(["pipeline", "get", "beta", "--json"], { env: { GOFER_NAMESPACE: "elsewhere" } }),
    ]);
    const ids = (result: CliResult) => json(result).map((item: { pipeline_id: string }) => item.pipeline_id);
    assert.deepEqual(ids(there), ["beta"]);
    assert.deepEqual(ids(here), ["alpha"]);
    assert.equal((await server.api("GET", "/api/namespaces/elsewhere/pipelines/beta")).status, 200);
    assertFails(notHere, /Pipeline "beta" in namespace "default" not found/);
    assert.equal(json(viaEnv).pipeline.namespace_id, "elsewhere");

    const deleted = await gofer(["pipeline", "delete", "beta", "--namespace", "elsewhere", "--json"]);
    assert.deepEqual(json(deleted), { deleted: "beta" });
    assert.equal((await server.api("GET", "/api/namespaces/elsewhere/pipelines/beta")).status, 404);

    const { run } = await waitForRun(server, "alpha", 1);
    assert.equal(run.status, "successful");
    assert.equal(assertOk(await gofer(["pipeline", "delete", "alpha"])).stdout, "Deleted pipeline alpha\n");
    assert.equal((await server.api("GET", "/api/namespaces/default/pipelines/alpha")).status, 404);
    assertFails(await gofer(["pipeline", "get", "alpha"]), /HTTP 404/);
  });

  it("pipeline config list, get, deploy, delete and pipeline deployment list, get", async () => {
    const version = (n: number) => pipelineFile("versions", `  task("one", image).command("echo", "v${n}"),`);
    assertOk(await gofer(["up", version(1)]));
    assert.equal(json(await gofer(["up", version(2), "--no-deploy", "--json"])).version, 2);
    const third = json(await gofer(["up", version(3), "--no-deploy", "--json"]));
    assert.equal(third.version, 3);
    assert.equal(third.deployed, false);

    const states = async () =>
      Object.fromEntries(
        json(await gofer(["pipeline", "config", "list", "versions", "--json"])).map(
          (item: { version: number; state: string }) => [item.version, item.state],
        ),
      );
    assert.deepEqual(await states(), { 1: "live", 2: "unreleased", 3: "unreleased" });

    const deployment = json(await gofer(["pipeline", "config", "deploy", "versions", "2", "--json"]));
    assert.equal(deployment.start_version, 1);
    assert.equal(deployment.end_version, 2);
    const served = await server.api("GET", "/api/namespaces/default/pipelines/versions/configs/2");
    assert.equal(served.json.config.state, "live");

    const [afterDeploy, listText, twoJson, twoText, deploymentsJson, deploymentsText, gotJson, gotText] =
      await Promise.all([
        states(),
        gofer(["pipeline", "config", "list", "versions"]),
        gofer(["pipeline", "config", "get", "versions", "2", "--json"]),
        gofer(["pipeline", "config", "get", "versions", "2"]),
        gofer(["pipeline", "deployment", "list", "versions", "--json"]),
        gofer(["pipeline", "deployment", "list", "versions"]),
        gofer(["pipeline", "deployment", "get", "versions", "2", "--json"]),
        gofer(["pipeline", "deployment", "get", "versions", "2"]),
      ]);
    assert.deepEqual(afterDeploy, { 1: "deprecated", 2: "live", 3: "unreleased" });

    const table = assertOk(listText).stdout;
    assert.match(
      table,
      /^VERSION\s+STATE\s+TASKS\s+NAME\s+REGISTERED\n3\s+unreleased\s+1\s+Pipeline versions\s+/m,
    );
    assert.match(table, /^2\s+live\s+1\s+/m);
    assert.match(table, /^1\s+deprecated\s+1\s+/m);

    const two = json(twoJson);
    assert.equal(two.version, 2);
    assert.equal(two.state, "live");
    assert.deepEqual(two.tasks.one.command, ["echo", "v2"]);
    const twoTable = assertOk(twoText).stdout;
    assert.match(twoTable, /^state:\s+live$/m);
    assert.match(twoTable, /^TASK\s+IMAGE\s+COMMAND\s+DEPENDS ON$/m);
    assert.match(twoTable, new RegExp(`^one\\s+${literal(BUSYBOX)}\\s+echo v2\\s+-$`, "m"));

    const deployments = json(deploymentsJson);
    assert.deepEqual(
      deployments
        .map(
          (item: { deployment_id: number; start_version: number; end_version: number; status: string }) => [
            item.deployment_id,
            item.start_version,
            item.end_version,
            item.status,
          ],
        )
        .sort(),
      [
        [1, 1, 1, "Successful"],
        [2, 1, 2, "Successful"],
      ],
    );
    const deploymentTable = assertOk(deploymentsText).stdout;
    assert.match(deploymentTable, /^ID\s+FROM\s+TO\s+STATE\s+STATUS\s+STARTED$/m);
    assert.match(deploymentTable, /^2\s+1\s+2\s+complete\s+successful\s+/m);
    assert.deepEqual(json(gotJson), deployment);
    assert.match(assertOk(gotText).stdout, /^versions:\s+1 → 2$/m);

    // A version that is not live can go; the live one cannot, and stays.
    assert.equal(
      assertOk(await gofer(["pipeline", "config", "delete", "versions", "1"])).stdout,
      "Deleted version 1 of versions\n",
    );
    assert.equal(
      (await server.api("GET", "/api/namespaces/default/pipelines/versions/configs/1")).status,
      404,
    );
    assertFails(
      await gofer(["pipeline", "config", "delete", "versions", "2", "--json"]),
      /^error: Cannot delete version 2: it is live; deploy another version first \(HTTP 400/m,
    );
    assert.deepEqual(await states(), { 2: "live", 3: "unreleased" });
  });

  it("run list with --limit/--offset/--oldest-first, run get, task list and task get", async () => {
    assertOk(await gofer(["up", pipelineFile("counter", `  task("hello", image).command("echo", "hi"),`)]));
    for (let expected = 1; expected <= 3; expected += 1)
      assert.equal(json(await gofer(["run", "start", "counter", "--json"])).run_id, expected);
    await Promise.all([1, 2, 3].map((runId) => waitForRun(server, "counter", runId)));

    const ids = async (...flags: string[]) =>
      json(await gofer(["run", "list", "counter", ...flags, "--json"])).map(
        (run: { run_id: number }) => run.run_id,
      );
    const [newest, firstTwo, skipOne, oldest, oldestSkipOne, none, listText, noneText] = await Promise.all([
      ids(),
      ids("--limit", "2"),
      ids("--limit", "2", "--offset", "1"),
      ids("--oldest-first"),
      ids("--oldest-first", "-l", "1", "-o", "1"),
      ids("--offset", "3"),
      gofer(["run", "list", "counter", "--limit", "2"]),
      gofer(["run", "list", "counter", "--offset", "3"]),
    ]);
    assert.deepEqual(newest, [3, 2, 1]);
    assert.deepEqual(firstTwo, [3, 2]);
    assert.deepEqual(skipOne, [2, 1]);
    assert.deepEqual(oldest, [1, 2, 3]);
    assert.deepEqual(oldestSkipOne, [2]);
    assert.deepEqual(none, []);

    const table = assertOk(listText).stdout;
    assert.match(
      table,
      /^RUN\s+STATE\s+STATUS\s+STARTED\s+DURATION\s+VERSION\s+STARTED BY\n3\s+complete\s+successful\s+.+\s+1\s+bootstrap\n2\s+/m,
    );
    assert.doesNotMatch(table, /^1\s+complete/m);
    assert.match(assertOk(noneText).stdout, /^\(none\)$/m);

    const [runJson, runText, tasksJson, tasksText, taskJson, taskText, unknownTask] = await Promise.all([
      gofer(["run", "get", "counter", "2", "--json"]),
      gofer(["run", "get", "counter", "2"]),
      gofer(["task", "list", "counter", "2", "--json"]),
      gofer(["task", "list", "counter", "2"]),
      gofer(["task", "get", "counter", "2", "hello", "--json"]),
      gofer(["task", "get", "counter", "2", "hello"]),
      gofer(["task", "get", "counter", "2", "nobody"]),
    ]);
    const got = json(runJson);
    assert.equal(got.run.run_id, 2);
    assert.equal(got.run.status, "successful");
    assert.deepEqual(
      got.task_executions.map((task: { task_id: string; exit_code: number }) => [
        task.task_id,
        task.exit_code,
      ]),
      [["hello", 0]],
    );
    const runTable = assertOk(runText).stdout;
    assert.match(runTable, /^run:\s+2 of counter \(version 1\)$/m);
    assert.match(runTable, /^status:\s+successful$/m);
    assert.match(
      runTable,
      /^TASK\s+STATE\s+STATUS\s+DURATION\s+EXIT\nhello\s+complete\s+successful\s+\S+\s+0$/m,
    );

    assert.deepEqual(json(tasksJson), got.task_executions);
    assert.match(
      assertOk(tasksText).stdout,
      /^TASK\s+STATE\s+STATUS\s+DURATION\s+EXIT\nhello\s+complete\s+successful\s+\S+\s+0$/m,
    );
    const task = json(taskJson);
    assert.equal(task.task_id, "hello");
    assert.equal(task.task.image, BUSYBOX);
    assert.equal(task.exit_code, 0);
    const taskTable = assertOk(taskText).stdout;
    assert.match(taskTable, /^exit code:\s+0$/m);
    assert.match(taskTable, /^logs:\s+kept$/m);
    assertFails(unknownTask, /HTTP 404/);
  });

  it("task cancel stops a sleeping task", async () => {
    // A shell as PID 1 ignores SIGTERM unless it traps it; trapping it lets the stop finish without the kill
    // timeout, which keeps the test quick. Sleeping in the background keeps the shell able to take the signal.
    const nap = `  task("nap", image).command("sh", "-c", "trap 'exit 143' TERM; sleep 30 & wait"),`;
    assertOk(await gofer(["up", pipelineFile("sleepy", nap)]));
    const { run_id: runId } = json(await gofer(["run", "start", "sleepy", "--json"]));
    await waitForTask(server, "sleepy", runId, "nap", (task) => task.state === "running");
    assert.deepEqual(json(await gofer(["task", "cancel", "sleepy", String(runId), "nap", "--json"])), {
      cancelled: "nap",
    });
    const { run, tasks } = await waitForRun(server, "sleepy", runId, 20_000);
    assert.equal(tasks.nap.status, "cancelled");
    assert.equal(run.status, "cancelled");
    const shown = assertOk(await gofer(["task", "get", "sleepy", String(runId), "nap"])).stdout;
    assert.match(shown, /^status:\s+cancelled$/m);
  });

  it("event list ends by itself, in either order; event get shows one event", async () => {
    assertOk(await gofer(["up", pipelineFile("evented", `  task("ping", image).command("true"),`)]));
    const { run_id: runId } = json(await gofer(["run", "start", "evented", "--json"]));
    await waitForRun(server, "evented", runId);

    const forward = jsonLines(await gofer(["event", "list", "--json"], { timeoutMs: 20_000 }));
    const forwardIds = forward.map((event) => BigInt(event.id));
    assert.ok(increasing(forwardIds), `history is oldest first: ${forwardIds}`);
    const isOurs = (kind: string) => (event: { kind: Record<string, Record<string, unknown>> }) =>
      event.kind[kind]?.pipeline_id === "evented" && event.kind[kind]?.run_id === runId;
    const startedRun = forward.find(isOurs("started_run"));
    assert.ok(startedRun, "the run's started_run event is listed");
    assert.ok(forward.find(isOurs("completed_run")), "the run's completed_run event is listed");

    const backward = jsonLines(await gofer(["event", "list", "--reverse", "--json"], { timeoutMs: 20_000 }));
    const backwardIds = backward.map((event) => BigInt(event.id));
    assert.ok(increasing(backwardIds.toReversed()), `--reverse is newest first: ${backwardIds}`);
    assert.ok(backwardIds[0] !== undefined && backwardIds[0] >= (forwardIds.at(-1) ?? 0n));
    assert.deepEqual(backward.find(isOurs("started_run")), startedRun);
    assert.equal(backwardIds.at(-1), forwardIds[0], "--reverse goes back to the oldest event");

    const table = assertOk(await gofer(["event", "list"], { timeoutMs: 20_000 })).stdout;
    assert.match(
      table,
      new RegExp(
        `^\\s*${startedRun.id}\\s+\\S.*\\s+started_run\\s+namespace_id=default pipeline_id=evented run_id=${runId}$`,
        "m",
      ),
    );

    assert.deepEqual(json(await gofer(["event", "get", startedRun.id, "--json"])), startedRun);
    assert.match(
      assertOk(await gofer(["event", "get", startedRun.id])).stdout,
      new RegExp(`started_run\\s+namespace_id=default pipeline_id=evented run_id=${runId}\\n$`),
    );
    assertFails(await gofer(["event", "get", "999999"]), /Event 999999 not found \(HTTP 404/);
  });

  it("token whoami and token bootstrap on a server that already has its first token", async () => {
    const served = (await server.api("GET", "/api/tokens/whoami")).json.token;
    const [whoamiJson, whoamiText, bootstrapText, bootstrapJson] = await Promise.all([
      gofer(["token", "whoami", "--json"]),
      gofer(["token", "whoami"]),
      gofer(["token", "bootstrap"]),
      gofer(["token", "bootstrap", "--json"]),
    ]);
    const whoami = json(whoamiJson);
    assert.equal(whoami.id, served.id);
    assert.equal(whoami.user, "bootstrap");
    assert.deepEqual(whoami.roles, ["bootstrap"]);
    const table = assertOk(whoamiText).stdout;
    assert.match(table, new RegExp(`^token:\\s+${served.id}$`, "m"));
    assert.match(table, /^user:\s+bootstrap$/m);
    assert.match(table, /^expires:\s+never$/m);
    assert.match(table, new RegExp(`^server:\\s+${literal(server.url)}$`, "m"));

    assertFails(bootstrapText, /already created.*\(HTTP 409, ALREADY_EXISTS\)/);
    assertFails(bootstrapJson, /HTTP 409/);
  });

  it("human output has no colour codes when stdout is not a terminal, with or without NO_COLOR", async () => {
    // Every command above ran without NO_COLOR and was checked by assertOk; these add NO_COLOR=1 and a control.
    const commands = [
      ["namespace", "list"],
      ["pipeline", "list"],
      ["token", "whoami"],
    ];
    const cases = [{ NO_COLOR: undefined }, { NO_COLOR: "1" }].flatMap((env) =>
      commands.map((command) => ({ command, env })),
    );
    const results = await Promise.all(cases.map(({ command, env }) => gofer(command, { env })));
    for (const result of results) {
      assertOk(result);
      assert.ok(result.stdout.length > 0, showResult(result));
    }
    // The same output does carry colour when it is forced, so the checks above would notice escapes.
    const forced = await gofer(["pipeline", "list"], { env: { FORCE_COLOR: "1" } });
    assert.equal(forced.code, 0, showResult(forced));
    assert.ok(forced.stdout.includes(ANSI), showResult(forced));
  });
});
