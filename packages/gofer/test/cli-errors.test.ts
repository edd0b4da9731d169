import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  type CliResult,
  type Gofer,
  parseJson,
  runGofer,
  scratchDir,
  showResult,
  useCliServer,
} from "./support/cli.ts";
import { freePort } from "./support/free-port.ts";
import { BUSYBOX, type TestServer } from "./support/test-server.ts";

/** Every folder this file makes, removed when it ends. */
function freshDir(prefix = "gofer-cli-errors-"): string {
  return scratchDir(prefix);
}

/** Writes `files` (relative name → content) into a new folder and returns the folder. */
function fixture(files: Record<string, string>): string {
  const dir = freshDir();
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

/** A HOME whose ~/.gofer.toml holds `toml`. */
function homeWith(toml: string): string {
  const home = freshDir("gofer-cli-home-");
  writeFileSync(join(home, ".gofer.toml"), toml);
  return home;
}

/** A loopback URL nothing listens on: a port the OS handed out and that was given back. */
async function closedPortUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}

/**
 * A failure as the CLI promises it: a non-zero exit, nothing on stdout, an `error:` line on stderr matching
 * `error` (and a `hint:` line matching `hint` when given), and no stack trace.
 */
function assertFails(
  result: CliResult,
  expected: { code?: number; error: RegExp | RegExp[]; hint?: RegExp },
): void {
  if (expected.code === undefined) {
    assert.notEqual(result.code, 0, showResult(result));
    assert.notEqual(result.code, null, showResult(result));
  } else {
    assert.equal(result.code, expected.code, showResult(result));
  }
  assert.equal(result.stdout, "", `a failure prints nothing on stdout\n${showResult(result)}`);
  assert.match(result.stderr, /^error: /m, showResult(result));
  for (const pattern of [expected.error].flat()) assert.match(result.stderr, pattern, showResult(result));
  if (expected.hint) {
    const hints = result.stderr.split("\n").filter((line) => line.startsWith("hint: "));
    assert.match(hints.join("\n"), expected.hint, showResult(result));
  }
  // Frames in the user's own pipeline file are part of a good message; frames in Gofer or Node never are.
  assert.doesNotMatch(
    result.stderr,
    /^\s+at .*(packages\/(gofer|sdk)\/|node:internal|node_modules)/m,
    `no stack trace\n${showResult(result)}`,
  );
}

function assertSucceeds(result: CliResult): void {
  assert.equal(result.code, 0, showResult(result));
}

/** `text` as a regular expression matching exactly it. */
const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("gofer CLI: bad input fails clearly and leaves nothing behind", () => {
  let server: TestServer;
  let gofer: Gofer;
  useCliServer((started, cli) => {
    server = started;
    gofer = cli;
  });

  /** None of this file's commands may register anything, so the default namespace stays empty throughout. */
  async function assertNothingRegistered(pipelineId?: string): Promise<void> {
    const list = await server.api("GET", "/api/namespaces/default/pipelines");
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.json.pipelines, [], "no pipeline was registered");
    if (pipelineId === undefined) return;
    const configs = await server.api("GET", `/api/namespaces/default/pipelines/${pipelineId}/configs`);
    assert.equal(configs.status, 404, configs.text);
  }

  describe("`gofer up` with a broken pipeline", () => {
    const task = (id: string, more = "") => `task(${JSON.stringify(id)}, ${JSON.stringify(BUSYBOX)})${more}`;
    const header = 'import { pipeline, task } from "@gofer/sdk";\n';

    it("a missing file", async () => {
      const path = join(freshDir(), "missing.ts");
      assertFails(await gofer(["up", path]), {
        error: [new RegExp(`error: ${literal(path)} does not exist`), /path of a pipeline file/],
      });
      await assertNothingRegistered();
    });

    it("a directory without a pipeline file", async () => {
      const dir = fixture({ "README.md": "# not a pipeline\n" });
      mkdirSync(join(dir, "pipeline"));
      assertFails(await gofer(["up", dir]), {
        error: [new RegExp(`found no pipeline file in ${literal(dir)}`), /looked for pipeline\.ts, /],
      });
      await assertNothingRegistered();
    });

    it("a TypeScript file with a syntax error names the line", async () => {
      const dir = fixture({
        "pipeline.ts": `${header}\nconst image: string = ;\nexport default pipeline("syntaxy", "S").tasks(${task("a")});\n`,
      });
      const result = await gofer(["up", join(dir, "pipeline.ts")]);
      assertFails(result, {
        error: [/pipeline\.ts has a syntax error/, /pipeline\.ts:3\b/, /const image: string = ;/],
      });
      await assertNothingRegistered("syntaxy");
    });

    it("a file that throws shows the error and where in the file", async () => {
      const dir = fixture({
        "pipeline.ts": `${header}function secrets(): string {\n  throw new Error("no secrets configured");\n}\nexport default pipeline("thrower", "T").tasks(${task("a")}.variables({ S: secrets() }));\n`,
      });
      assertFails(await gofer(["up", dir]), {
        error: [/threw an error/, /Error: no secrets configured/, /pipeline\.ts:3:9/],
      });
      await assertNothingRegistered("thrower");
    });

    it("a cycle between two tasks names both tasks", async () => {
      const dir = fixture({
        "pipeline.ts": `${header}export default pipeline("cyclic", "C").tasks(\n  ${task("first", '.dependsOn("second")')},\n  ${task("second", '.dependsOn("first")')},\n);\n`,
      });
      assertFails(await gofer(["up", dir]), {
        error: [/is not valid \(1 problem\)/, /dependency cycle: first → second → first/],
      });
      await assertNothingRegistered("cyclic");
    });

    it("a dependency on an unknown task names both tasks", async () => {
      const dir = fixture({
        "pipeline.ts": `${header}export default pipeline("orphan", "O").tasks(${task("build", '.dependsOn("ghost")')});\n`,
      });
      assertFails(await gofer(["up", dir]), {
        error: /task `build` depends on `ghost`, which does not exist/,
      });
      await assertNothingRegistered("orphan");
    });

    it("an invalid task id", async () => {
      const dir = fixture({
        "pipeline.ts": `${header}export default pipeline("badid", "B").tasks(${task("Bad Task!")});\n`,
      });
      assertFails(await gofer(["up", dir]), {
        error: [/task id `Bad Task!` is not valid/, /letter, a digit/],
      });
      await assertNothingRegistered("badid");
    });

    it("a JSON file with a syntax error names the line", async () => {
      const dir = fixture({
        "pipeline.json": '{\n  "id": "jsonbad",\n  "name": "J",\n  "tasks": [,]\n}\n',
      });
      assertFails(await gofer(["up", join(dir, "pipeline.json")]), {
        error: [/pipeline\.json is not valid JSON/, /line 4/, /"tasks": \[,\]/],
      });
      await assertNothingRegistered("jsonbad");
    });

    it("`--json` keeps stdout empty: the error is only on stderr", async () => {
      const dir = fixture({
        "pipeline.ts": `${header}export default pipeline("orphan", "O").tasks(${task("build", '.dependsOn("ghost")')});\n`,
      });
      assertFails(await gofer(["up", dir, "--json"]), { error: /depends on `ghost`/ });
      await assertNothingRegistered("orphan");
    });
  });

  describe("unknown resources and bad arguments", () => {
    it("an unknown pipeline is a 404 with the server's message and a hint", async () => {
      const direct = await server.api("GET", "/api/namespaces/default/pipelines/nope");
      assert.equal(direct.status, 404);
      const result = await gofer(["pipeline", "get", "nope"]);
      assertFails(result, {
        code: 1,
        error: [new RegExp(`^error: ${literal(direct.json.message)} \\(HTTP 404, NOT_FOUND\\)$`, "m")],
        hint: /`gofer pipeline list` shows what exists/,
      });
    });

    it("`--json` on a server error keeps stdout empty", async () => {
      assertFails(await gofer(["pipeline", "get", "nope", "--json"]), { code: 1, error: /HTTP 404/ });
    });

    it("a run id that is not a number is a usage error (exit 2) before any request", async () => {
      // The server is not needed to reject it: pointing at nothing proves no request is made.
      const result = await gofer(["run", "get", "somepipeline", "notanumber"], {
        env: { GOFER_API_BASE_URL: await closedPortUrl() },
      });
      assertFails(result, {
        code: 2,
        error: /^error: expected a whole number of 1 or more, got "notanumber"$/m,
        hint: /--help/,
      });
      assertFails(await gofer(["pipeline", "config", "get", "somepipeline", "0", "--json"]), {
        code: 2,
        error: /got "0"/,
      });
    });

    it("an option value that is not a number is commander's usage error", async () => {
      assertFails(await gofer(["run", "list", "somepipeline", "--limit", "many"]), {
        error: /option '-l, --limit <n>' argument 'many' is invalid\. expected a whole number of 1 or more/,
      });
    });

    it("an unknown command or option is commander's message, with a suggestion when close, and exits 2", async () => {
      assertFails(await gofer(["frobnicate"]), { code: 2, error: /^error: unknown command 'frobnicate'$/m });
      const close = await gofer(["pipelin", "list"]);
      assertFails(close, { code: 2, error: [/unknown command 'pipelin'/, /Did you mean pipeline\?/] });
      assertFails(await gofer(["pipeline", "list", "--frob"]), {
        code: 2,
        error: /^error: unknown option '--frob'$/m,
      });
      assertFails(await gofer(["pipeline", "get"]), {
        code: 2,
        error: /missing required argument 'pipeline'/,
      });
    });
  });

  describe("authentication and reaching the server", () => {
    it("no token at all is a 401 with the hint about GOFER_TOKEN and `gofer token bootstrap`", async () => {
      // `whoami` needs a token whatever the server lets anonymous callers read.
      const result = await runGofer(["token", "whoami"], { env: { GOFER_API_BASE_URL: server.url } });
      assertFails(result, {
        code: 1,
        error: /HTTP 401, UNAUTHENTICATED/,
        hint: /GOFER_TOKEN.*`gofer token bootstrap`/,
      });
      const write = await runGofer(["namespace", "create", "sneaky", "Sneaky"], {
        env: { GOFER_API_BASE_URL: server.url },
      });
      assertFails(write, { code: 1, error: /HTTP 401/, hint: /gofer token bootstrap/ });
      assert.equal((await server.api("GET", "/api/namespaces/sneaky")).status, 404);
    });

    it("an empty GOFER_TOKEN counts as none", async () => {
      assertFails(await gofer(["token", "whoami"], { env: { GOFER_TOKEN: "" } }), {
        error: /HTTP 401/,
        hint: /GOFER_TOKEN/,
      });
    });

    it("a wrong token is a 401", async () => {
      const result = await gofer(["pipeline", "list", "--json"], {
        env: { GOFER_TOKEN: "not-a-real-token" },
      });
      assertFails(result, {
        code: 1,
        error: /unknown, disabled or expired \(HTTP 401, UNAUTHENTICATED\)/,
        hint: /GOFER_TOKEN/,
      });
    });

    it("an unreachable server is a connection error with a hint and no stack trace", async () => {
      const url = await closedPortUrl();
      for (const json of [[], ["--json"]]) {
        const result = await gofer(["pipeline", "list", ...json], { env: { GOFER_API_BASE_URL: url } });
        assertFails(result, {
          code: 1,
          error: new RegExp(`Could not reach the Gofer server at ${literal(url)}`),
          hint: /`gofer service start`.*GOFER_API_BASE_URL/,
        });
      }
    });
  });

  describe("CLI configuration", () => {
    it("an unknown key in ~/.gofer.toml is named, with a suggestion when it is close", async () => {
      const home = homeWith(`api_base_ur = "${server.url}"\n`);
      assertFails(await gofer(["pipeline", "list"], { env: { HOME: home } }), {
        error: new RegExp(
          `${literal(join(home, ".gofer.toml"))}: unknown key "api_base_ur" \\(did you mean "api_base_url"\\?\\)`,
        ),
        hint: /knows api_base_url, token, namespace/,
      });
      const far = await gofer(["pipeline", "list"], { env: { HOME: homeWith('colour = "red"\n') } });
      assertFails(far, { error: /unknown key "colour"$/m });
    });

    it("invalid TOML is reported with its line", async () => {
      const home = homeWith(`token = "abc"\nnamespace =\n`);
      assertFails(await gofer(["pipeline", "list"], { env: { HOME: home } }), {
        error: /\.gofer\.toml is not valid TOML \(line 2, column \d+\)/,
      });
    });

    it("a value of the wrong type is refused", async () => {
      assertFails(await gofer(["pipeline", "list"], { env: { HOME: homeWith("token = 42\n") } }), {
        error: /"token" must be a string/,
      });
    });

    it("--config or GOFER_CONFIG naming a missing file is an error, while a missing ~/.gofer.toml is not", async () => {
      const missing = join(freshDir(), "nope.toml");
      assertFails(await gofer(["--config", missing, "pipeline", "list"]), {
        error: new RegExp(`cannot read the CLI configuration ${literal(missing)}`),
        hint: /--config/,
      });
      assertFails(await gofer(["pipeline", "list"], { env: { GOFER_CONFIG: missing } }), {
        error: /cannot read the CLI configuration/,
      });
      // The helper's HOME is empty: no ~/.gofer.toml there is the normal case.
      assertSucceeds(await gofer(["pipeline", "list"]));
    });

    it("--config reads the file given instead of ~/.gofer.toml", async () => {
      const file = join(freshDir(), "cli.toml");
      writeFileSync(file, `token = "${server.token}"\n`);
      const result = await gofer(["--config", file, "token", "whoami", "--json"], {
        env: { GOFER_TOKEN: undefined, HOME: homeWith('token = "wrong"\n') },
      });
      assertSucceeds(result);
      assert.equal((parseJson(result) as { user: string }).user, "bootstrap");
    });

    it("precedence: the file, then the environment, then flags", async () => {
      const dead = await closedPortUrl();
      const home = homeWith(`api_base_url = "${dead}"\ntoken = "${server.token}"\n`);
      const whoami = ["token", "whoami"];

      // The file alone is used: its address is the one that cannot be reached.
      const fileOnly = await runGofer(whoami, { env: { HOME: home } });
      assertFails(fileOnly, { error: new RegExp(`Could not reach the Gofer server at ${literal(dead)}`) });

      // The environment's address beats the file's; the file's token is used when the environment has none.
      const envUrl = await runGofer(whoami, { env: { HOME: home, GOFER_API_BASE_URL: server.url } });
      assertSucceeds(envUrl);
      assert.match(envUrl.stdout, new RegExp(`^server:\\s+${literal(server.url)}$`, "m"));
      assert.match(envUrl.stdout, /^user:\s+bootstrap$/m);

      // The flag beats the environment.
      const flagUrl = await runGofer([...whoami, "--api-base-url", server.url], {
        env: { HOME: home, GOFER_API_BASE_URL: dead },
      });
      assertSucceeds(flagUrl);
      assert.match(flagUrl.stdout, new RegExp(`^server:\\s+${literal(server.url)}$`, "m"));

      // Tokens the same way: a wrong token in the file loses to the environment's, which loses to the flag's.
      const wrongTokenHome = homeWith(`api_base_url = "${server.url}"\ntoken = "wrong"\n`);
      assertFails(await runGofer(whoami, { env: { HOME: wrongTokenHome } }), { error: /HTTP 401/ });
      assertSucceeds(await runGofer(whoami, { env: { HOME: wrongTokenHome, GOFER_TOKEN: server.token } }));
      assertFails(await runGofer(whoami, { env: { HOME: wrongTokenHome, GOFER_TOKEN: "wrong-too" } }), {
        error: /HTTP 401/,
      });
      assertSucceeds(
        await runGofer([...whoami, "--token", server.token], {
          env: { HOME: wrongTokenHome, GOFER_TOKEN: "wrong-too" },
        }),
      );
    });

    it("precedence applies to the namespace too", async () => {
      const home = homeWith('namespace = "from-file"\n');
      const fromFile = await gofer(["pipeline", "list"], { env: { HOME: home } });
      assertFails(fromFile, { error: /Namespace "from-file" not found/ });
      const fromEnv = await gofer(["pipeline", "list"], { env: { HOME: home, GOFER_NAMESPACE: "from-env" } });
      assertFails(fromEnv, { error: /Namespace "from-env" not found/ });
      const fromFlag = await gofer(["pipeline", "list", "--namespace", "default", "--json"], {
        env: { HOME: home, GOFER_NAMESPACE: "from-env" },
      });
      assertSucceeds(fromFlag);
      assert.deepEqual(parseJson(fromFlag), []);
    });

    it("an unknown output format lists the valid ones, from a flag or from the file", async () => {
      assertFails(await gofer(["pipeline", "list", "--output", "yaml"]), {
        error: /argument 'yaml' is invalid\. Allowed choices are table, json\./,
      });
      const home = homeWith('output_format = "yaml"\n');
      assertFails(await gofer(["pipeline", "list"], { env: { HOME: home } }), {
        error: /unknown output format "yaml"/,
        hint: /use one of table, json/,
      });
      // Gofer's old `plain` still means a table.
      const plain = await gofer(["namespace", "list"], {
        env: { HOME: homeWith('output_format = "plain"\n') },
      });
      assertSucceeds(plain);
      assert.match(plain.stdout, /^ID\s+NAME\s+DESCRIPTION\s+CREATED$/m);
    });

    it("a server address that is not http(s) or not a URL is refused before any request", async () => {
      assertFails(await gofer(["pipeline", "list"], { env: { GOFER_API_BASE_URL: "ftp://x" } }), {
        error: /the server address ftp:\/\/x must start with http:\/\/ or https:\/\//,
        hint: /http:\/\/127\.0\.0\.1:8080/,
      });
      assertFails(await gofer(["event", "get", "abc"]), {
        code: 2,
        error: /expected an event id \(a number\), got "abc"/,
      });
      assertFails(await gofer(["pipeline", "list", "--api-base-url", "not a url"]), {
        error: /"not a url" is not a URL/,
        hint: /GOFER_API_BASE_URL/,
      });
    });

    it("error messages carry no colour codes on a pipe, even without NO_COLOR", async () => {
      const result = await gofer(["pipeline", "get", "nope"], { env: { NO_COLOR: undefined } });
      assertFails(result, { error: /HTTP 404/, hint: /gofer pipeline list/ });
      assert.ok(!result.stderr.includes("\u001b["), showResult(result));
    });
  });

  it("after all of the above, the server holds nothing", async () => {
    await assertNothingRegistered();
    const namespaces = await server.api("GET", "/api/namespaces");
    assert.deepEqual(
      namespaces.json.namespaces.map((namespace: { id: string }) => namespace.id),
      ["default"],
    );
  });
});
