import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { cliConfigOrigins } from "../src/cli/cli-config-origins.ts";
import {
  ANSI,
  assertOk,
  type CliResult,
  type Gofer,
  parseJson,
  scratchDir,
  showResult,
  useCliServer,
} from "./support/cli.ts";
import { freePort } from "./support/free-port.ts";
import { deployPipeline, pipelineConfig, shTask, startRun, waitForRun } from "./support/pipelines.ts";
import type { TestServer } from "./support/test-server.ts";

/** `--json` output of a command that succeeded. */
// biome-ignore lint/suspicious/noExplicitAny: tests read the CLI's JSON as served
const json = (result: CliResult): any => parseJson(assertOk(result));

/** A failure as the CLI promises it: the exit code, nothing on stdout, `error:` and `hint:` lines on stderr. */
function assertFails(result: CliResult, expected: { code: number; error: RegExp; hint: RegExp }): void {
  assert.equal(result.code, expected.code, showResult(result));
  assert.equal(result.stdout, "", `a failure prints nothing on stdout\n${showResult(result)}`);
  assert.match(result.stderr, /^error: /m, showResult(result));
  assert.match(result.stderr, expected.error, showResult(result));
  const hints = result.stderr.split("\n").filter((line) => line.startsWith("hint: "));
  assert.match(hints.join("\n"), expected.hint, showResult(result));
  assert.doesNotMatch(result.stderr, /^\s+at /m, `no stack trace\n${showResult(result)}`);
}

/** `text` as a regular expression matching exactly it. */
const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("gofer fetch and gofer context", () => {
  let server: TestServer;
  let gofer: Gofer;
  useCliServer((started, cli) => {
    server = started;
    // Without NO_COLOR, every human output below also shows that a pipe gets no colour codes (see assertOk).
    gofer = (args, options = {}) => cli(args, { ...options, env: { NO_COLOR: undefined, ...options.env } });
  });

  /** Three finished runs of `walk`, whose `after` task runs once `greet` succeeded. */
  let ready: Promise<void> | undefined;
  const walkPipeline = () => {
    ready ??= (async () => {
      await deployPipeline(
        server,
        pipelineConfig("walk", [
          shTask("greet", "echo hello"),
          shTask("after", "echo bye", { depends_on: { greet: "success" } }),
        ]),
      );
      for (let run = 1; run <= 3; run += 1) await waitForRun(server, "walk", await startRun(server, "walk"));
    })();
    return ready;
  };

  describe("fetch: each form is the command it abbreviates", () => {
    it("no words and `+` list the pipelines; a pipeline's name shows it", async () => {
      await walkPipeline();
      const [bare, plus, listed, bareText, one, got, oneText] = await Promise.all([
        gofer(["fetch", "--json"]),
        gofer(["fetch", "+", "--json"]),
        gofer(["pipeline", "list", "--json"]),
        gofer(["fetch"]),
        gofer(["fetch", "walk", "--json"]),
        gofer(["pipeline", "get", "walk", "--json"]),
        gofer(["fetch", "walk"]),
      ]);
      const pipelines = json(bare);
      assert.deepEqual(
        pipelines.map((item: { pipeline_id: string }) => item.pipeline_id),
        ["walk"],
      );
      assert.deepEqual(json(plus), pipelines);
      assert.deepEqual(json(listed), pipelines);
      assert.match(assertOk(bareText).stdout, /^ID\s+STATE\s+CREATED\s+MODIFIED\nwalk\s+active\s+/m);

      const pipeline = json(one);
      assert.deepEqual(Object.keys(pipeline).sort(), ["live_config", "pipeline"]);
      assert.equal(pipeline.pipeline.pipeline_id, "walk");
      assert.equal(pipeline.live_config.version, 1);
      assert.deepEqual(pipeline, json(got));
      const text = assertOk(oneText).stdout;
      assert.match(text, /^pipeline:\s+walk$/m);
      assert.match(text, /^live version:\s+1$/m);
      assert.match(text, /^after\s+\S+\s+greet \(success\)$/m);
    });

    it("`<pipeline> +` lists runs newest first, paged like `run list`", async () => {
      await walkPipeline();
      const ids = async (...words: string[]) =>
        json(await gofer(["fetch", "walk", "+", ...words, "--json"])).map(
          (run: { run_id: number }) => run.run_id,
        );
      const [newest, two, skipOne, oldest, oldestLong, runsText, listed] = await Promise.all([
        ids(),
        ids("--limit", "2"),
        ids("-l", "1", "-o", "1"),
        ids("-n"),
        ids("--oldest-first", "--offset", "2"),
        gofer(["fetch", "walk", "+"]),
        gofer(["run", "list", "walk", "--json"]),
      ]);
      assert.deepEqual(newest, [3, 2, 1]);
      assert.deepEqual(two, [3, 2]);
      assert.deepEqual(skipOne, [2]);
      assert.deepEqual(oldest, [1, 2, 3]);
      assert.deepEqual(oldestLong, [3]);
      assert.deepEqual(json(await gofer(["fetch", "walk", "+", "--json"])), json(listed));
      assert.match(
        assertOk(runsText).stdout,
        /^RUN\s+STATE\s+STATUS\s+STARTED\s+DURATION\s+VERSION\s+STARTED BY\n3\s+complete\s+successful\s+/m,
      );
    });

    it("`<pipeline> <run>` shows a run with its tasks; `+` after it lists the tasks; a task's name shows it", async () => {
      await walkPipeline();
      const [run, runText, tasks, tasksText, task, taskText, runGet, taskList, taskGet] = await Promise.all([
        gofer(["fetch", "walk", "2", "--json"]),
        gofer(["fetch", "walk", "2"]),
        gofer(["fetch", "walk", "2", "+", "--json"]),
        gofer(["fetch", "walk", "2", "+"]),
        gofer(["fetch", "walk", "2", "greet", "--json"]),
        gofer(["fetch", "walk", "2", "greet"]),
        gofer(["run", "get", "walk", "2", "--json"]),
        gofer(["task", "list", "walk", "2", "--json"]),
        gofer(["task", "get", "walk", "2", "greet", "--json"]),
      ]);
      const shown = json(run);
      assert.deepEqual(Object.keys(shown).sort(), ["run", "task_executions"]);
      assert.equal(shown.run.run_id, 2);
      assert.equal(shown.run.status, "successful");
      assert.deepEqual(shown, json(runGet));
      assert.match(assertOk(runText).stdout, /^run:\s+2 of walk \(version 1\)$/m);

      const listed = json(tasks);
      assert.ok(Array.isArray(listed));
      assert.deepEqual(listed.map((item: { task_id: string }) => item.task_id).sort(), ["after", "greet"]);
      assert.deepEqual(listed, json(taskList));
      // Parents first, as `task list` prints them.
      assert.match(
        assertOk(tasksText).stdout,
        /^TASK\s+STATE\s+STATUS\s+DURATION\s+EXIT\ngreet\s+complete\s+successful\s+\S+\s+0\nafter\s+complete/m,
      );

      const one = json(task);
      assert.equal(one.task_id, "greet");
      assert.equal(one.run_id, 2);
      assert.equal(one.exit_code, 0);
      assert.deepEqual(one, json(taskGet));
      const text = assertOk(taskText).stdout;
      assert.match(text, /^task:\s+greet$/m);
      assert.match(text, /^exit code:\s+0$/m);
    });
  });

  describe("fetch: what is missing, and how to list what exists", () => {
    it("names the missing pipeline, run, task or namespace and the fetch line that lists its tier", async () => {
      await walkPipeline();
      const cases: { words: string[]; error: RegExp; hint: RegExp }[] = [
        {
          words: ["nope"],
          error: /^error: Pipeline "nope" in namespace "default" not found \(HTTP 404, NOT_FOUND\)$/m,
          hint: /`gofer fetch` lists the pipelines of namespace "default"/,
        },
        {
          words: ["nope", "+"],
          error: /Pipeline "nope" .*not found/,
          hint: /`gofer fetch` lists the pipelines/,
        },
        {
          // The pipeline is the first thing missing, whatever the line goes on to name.
          words: ["nope", "1", "greet"],
          error: /Pipeline "nope" .*not found/,
          hint: /`gofer fetch` lists the pipelines/,
        },
        {
          words: ["walk", "9"],
          error: /^error: Run 9 of pipeline "walk" not found \(HTTP 404, NOT_FOUND\)$/m,
          hint: /`gofer fetch walk \+` lists the runs of walk/,
        },
        { words: ["walk", "9", "+"], error: /Run 9 .*not found/, hint: /`gofer fetch walk \+`/ },
        { words: ["walk", "9", "greet"], error: /Run 9 .*not found/, hint: /`gofer fetch walk \+`/ },
        {
          words: ["walk", "2", "nobody"],
          error: /^error: Task "nobody" of run 2 not found \(HTTP 404, NOT_FOUND\)$/m,
          hint: /`gofer fetch walk 2 \+` lists the tasks of run 2/,
        },
        {
          words: ["walk", "--namespace", "elsewhere"],
          error: /Namespace "elsewhere" not found/,
          hint: /`gofer namespace list`.*--namespace/,
        },
        { words: ["--namespace", "elsewhere"], error: /Namespace "elsewhere"/, hint: /gofer namespace list/ },
      ];
      const results = await Promise.all(cases.map(({ words }) => gofer(["fetch", ...words])));
      cases.forEach(({ error, hint }, i) => {
        const result = results[i];
        assert.ok(result);
        assertFails(result, { code: 1, error, hint });
      });
      // `--json` changes nothing about a failure: stdout stays empty.
      assertFails(await gofer(["fetch", "walk", "2", "nobody", "--json"]), {
        code: 1,
        error: /Task "nobody"/,
        hint: /`gofer fetch walk 2 \+`/,
      });
    });

    it("refuses a line Gofer could not read, before asking any server", async () => {
      // Nothing listens here: a request would fail as a connection error instead of a usage error.
      const nowhere = { env: { GOFER_API_BASE_URL: `http://127.0.0.1:${await freePort()}` } };
      const cases: { words: string[]; error: RegExp; hint: RegExp }[] = [
        {
          words: ["walk", "latest"],
          error: /a run is its number \(1, 2, …\) or `\+`, got "latest"/,
          hint: /`gofer fetch walk \+` lists the runs/,
        },
        { words: ["walk", "0"], error: /got "0"/, hint: /`gofer fetch walk \+`/ },
        {
          words: ["walk", "+", "greet"],
          error: /`\+` in place of a run lists the runs of walk; nothing can follow it/,
          hint: /name a run/,
        },
        {
          words: ["+", "walk"],
          error: /`\+` in place of a pipeline lists the pipelines; nothing can follow it/,
          hint: /name a pipeline/,
        },
        {
          words: ["walk", "2", "--limit", "5", "-n"],
          error: /--limit, --oldest-first can only be used with a list of runs/,
          hint: /`gofer fetch <pipeline> \+`/,
        },
      ];
      const results = await Promise.all(cases.map(({ words }) => gofer(["fetch", ...words], nowhere)));
      cases.forEach(({ error, hint }, i) => {
        const result = results[i];
        assert.ok(result);
        assertFails(result, { code: 2, error, hint });
      });
    });

    it("says which address did not answer", async () => {
      const url = `http://127.0.0.1:${await freePort()}`;
      for (const words of [[], ["walk", "+"], ["walk", "1", "greet", "--json"]]) {
        assertFails(await gofer(["fetch", ...words], { env: { GOFER_API_BASE_URL: url } }), {
          code: 1,
          error: new RegExp(`Could not reach the Gofer server at ${literal(url)}`),
          hint: /`gofer service start`/,
        });
      }
    });
  });

  describe("context", () => {
    it("for an admin: the settings and their sources, who the token is, the server's version and switches", async () => {
      const [report, text] = await Promise.all([gofer(["context", "--json"]), gofer(["context"])]);
      const got = json(report);
      assert.deepEqual(Object.keys(got).sort(), ["cli", "server", "whoami", "whoami_error"]);
      assert.deepEqual(got.cli.api_base_url, {
        value: server.url,
        source: "env",
        name: "GOFER_API_BASE_URL",
      });
      assert.deepEqual(got.cli.namespace, { value: "default", source: "default" });
      assert.deepEqual(got.cli.token, { set: true, source: "env", name: "GOFER_TOKEN" });
      assert.deepEqual(got.cli.output_format, { value: "json", source: "flag", name: "--json" });
      assert.deepEqual(got.cli.detail, { value: false, source: "default" });
      assert.equal(got.cli.config_file.found, false);
      assert.equal(got.cli.config_file.source, "default");
      assert.match(got.cli.config_file.path, /\.gofer\.toml$/);
      assert.equal(got.whoami.user, "bootstrap");
      assert.deepEqual(got.whoami.roles, ["bootstrap"]);
      assert.equal(got.whoami_error, null);
      const metadata = await server.api("GET", "/api/system/metadata");
      assert.deepEqual(got.server.metadata, metadata.json);
      assert.deepEqual(got.server.system, {
        bootstrap_token_created: true,
        ignore_pipeline_run_events: false,
      });

      const human = assertOk(text).stdout;
      assert.match(human, new RegExp(`^server\\s+${literal(server.url)}\\s+GOFER_API_BASE_URL$`, "m"));
      assert.match(human, /^namespace\s+default\s+built-in default$/m);
      assert.match(human, /^token\s+set \(secret not shown\)\s+GOFER_TOKEN$/m);
      assert.match(human, /^config file\s+\S+\.gofer\.toml \(not found\)\s+default location$/m);
      assert.match(human, /^user:\s+bootstrap$/m);
      assert.match(human, new RegExp(`^version:\\s+${literal(metadata.json.semver)} \\(commit `, "m"));
      assert.match(human, /^new runs:\s+accepted$/m);
      for (const output of [report.stdout, human])
        assert.ok(!output.includes(server.token), "secret printed");
    });

    it("for a limited token: its identity, and no admin switches", async () => {
      const created = json(
        await gofer(["token", "create", "carol", "-r", "user", "-m", "team=qa", "--json"]),
      );
      const asCarol = { env: { GOFER_TOKEN: created.secret } };
      const [report, text] = await Promise.all([
        gofer(["context", "--json"], asCarol),
        gofer(["context"], asCarol),
      ]);
      const got = json(report);
      assert.equal(got.whoami.id, created.token_details.id);
      assert.equal(got.whoami.user, "carol");
      assert.deepEqual(got.whoami.roles, ["user"]);
      assert.deepEqual(got.whoami.metadata, { team: "qa" });
      assert.equal(got.whoami_error, null);
      assert.equal(got.server.system, null);
      assert.equal(typeof got.server.metadata.semver, "string");
      const human = assertOk(text).stdout;
      assert.match(human, /^user:\s+carol$/m);
      assert.match(human, /^roles:\s+user$/m);
      assert.match(human, /^switches:\s+shown to admin tokens only$/m);
      assert.doesNotMatch(human, /new runs:/);
      for (const output of [report.stdout, human])
        assert.ok(!output.includes(created.secret), "secret printed");
    });

    it("reports a refused token or a missing one instead of failing", async () => {
      const [refused, refusedText, none, noneText] = await Promise.all([
        gofer(["context", "--json", "--token", "not-a-real-token"]),
        gofer(["context", "--token", "not-a-real-token"]),
        gofer(["context", "--json"], { env: { GOFER_TOKEN: undefined } }),
        gofer(["context"], { env: { GOFER_TOKEN: undefined } }),
      ]);
      const bad = json(refused);
      assert.equal(bad.whoami, null);
      assert.match(bad.whoami_error, /unknown, disabled or expired/);
      assert.deepEqual(bad.cli.token, { set: true, source: "flag", name: "--token" });
      assert.equal(bad.server.system, null);
      assert.match(
        assertOk(refusedText).stdout,
        /^refused: .*unknown, disabled or expired\n.*came from --token/m,
      );
      assert.ok(!refusedText.stdout.includes("not-a-real-token"), "secret printed");

      const anonymous = json(none);
      assert.deepEqual(anonymous.cli.token, { set: false });
      assert.equal(anonymous.whoami, null);
      assert.equal(anonymous.whoami_error, null);
      assert.equal(anonymous.server.system, null);
      assert.match(assertOk(noneText).stdout, /^token\s+none\s+-$/m);
      assert.match(noneText.stdout, /^no token: /m);
    });

    it("names the configuration file, and which settings it and the flags decided", async () => {
      const dir = scratchDir("gofer-cli-context-");
      const path = join(dir, "gofer.toml");
      writeFileSync(
        path,
        `api_base_url = "${server.url}"\ntoken = "${server.token}"\nnamespace = "default"\ndetail = true\n`,
      );
      const fileOnly = { env: { GOFER_API_BASE_URL: undefined, GOFER_TOKEN: undefined, GOFER_CONFIG: path } };
      const [fromFile, fromFileText, mixed] = await Promise.all([
        gofer(["context", "--json"], fileOnly),
        gofer(["context"], fileOnly),
        gofer(["context", "--config", path, "--namespace", "other", "--output", "json"], {
          env: { GOFER_TOKEN: undefined },
        }),
      ]);
      const file = { source: "file", name: path };
      const got = json(fromFile);
      assert.deepEqual(got.cli.api_base_url, { value: server.url, ...file });
      assert.deepEqual(got.cli.token, { set: true, ...file });
      assert.deepEqual(got.cli.namespace, { value: "default", ...file });
      assert.deepEqual(got.cli.detail, { value: true, ...file });
      assert.deepEqual(got.cli.config_file, { path, found: true, source: "env", name: "GOFER_CONFIG" });
      assert.equal(got.whoami.user, "bootstrap");
      const human = assertOk(fromFileText).stdout;
      assert.match(human, new RegExp(`^config file\\s+${literal(path)}\\s+GOFER_CONFIG$`, "m"));
      assert.match(human, new RegExp(`^token\\s+set \\(secret not shown\\)\\s+${literal(path)}$`, "m"));
      assert.ok(!human.includes(server.token), "secret printed");

      const flags = json(mixed);
      assert.deepEqual(flags.cli.api_base_url, {
        value: server.url,
        source: "env",
        name: "GOFER_API_BASE_URL",
      });
      assert.deepEqual(flags.cli.namespace, { value: "other", source: "flag", name: "--namespace" });
      assert.deepEqual(flags.cli.output_format, { value: "json", source: "flag", name: "--output" });
      assert.deepEqual(flags.cli.token, { set: true, ...file });
      assert.deepEqual(flags.cli.config_file, { path, found: true, source: "flag", name: "--config" });
    });

    it("says which address did not answer and which setting chose it", async () => {
      const url = `http://127.0.0.1:${await freePort()}`;
      for (const json of [[], ["--json"]]) {
        assertFails(await gofer(["context", ...json, "--api-base-url", url]), {
          code: 1,
          error: new RegExp(`Could not reach the Gofer server at ${literal(url)}`),
          hint: /the address came from the flag --api-base-url; start a server with `gofer service start`/,
        });
      }
    });

    it("is coloured only when colour is asked for", async () => {
      const forced = await gofer(["context"], { env: { FORCE_COLOR: "1" } });
      assert.equal(forced.code, 0, showResult(forced));
      assert.ok(forced.stdout.includes(ANSI), showResult(forced));
    });
  });
});

describe("where CLI settings come from", () => {
  it("a flag beats the environment, which beats the file, which beats the default", () => {
    const dir = scratchDir("gofer-cli-origins-");
    const path = join(dir, "gofer.toml");
    writeFileSync(path, 'namespace = "from-file"\ntoken = "secret"\noutput_format = "json"\n');
    const env = { GOFER_CONFIG: path, GOFER_NAMESPACE: "from-env", GOFER_API_BASE_URL: "" };
    const origins = cliConfigOrigins({ detail: true }, env);
    assert.deepEqual(origins.namespace, { source: "env", name: "GOFER_NAMESPACE" });
    // An empty variable counts as unset, as it does when the configuration is loaded.
    assert.deepEqual(origins.apiBaseUrl, { source: "default" });
    assert.deepEqual(origins.token, { source: "file", name: path });
    assert.deepEqual(origins.output, { source: "file", name: path });
    assert.deepEqual(origins.detail, { source: "flag", name: "--detail" });
    assert.deepEqual(origins.file, { path, found: true, chosenBy: { source: "env", name: "GOFER_CONFIG" } });

    const flagged = cliConfigOrigins(
      { namespace: "x", json: true, output: "table", config: join(dir, "no") },
      env,
    );
    assert.deepEqual(flagged.namespace, { source: "flag", name: "--namespace" });
    assert.deepEqual(flagged.output, { source: "flag", name: "--json" });
    assert.equal(flagged.token, undefined);
    assert.deepEqual(flagged.file, {
      path: join(dir, "no"),
      found: false,
      chosenBy: { source: "flag", name: "--config" },
    });
  });
});
