/**
 * `gofer up` on pipelines written as Go and Rust programs, built and run by the real toolchains (Debian's
 * golang-go and cargo; scripts/install.sh installs them) against a real server. The programs are tiny and depend
 * on nothing, so no build fetches anything: each prints a v0 config with a plain print statement.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { assertExit, type Gofer, parseJson, scratchDir, useCliServer } from "./support/cli.ts";
import { BUSYBOX, type TestServer } from "./support/test-server.ts";

// The CLI runs with an empty HOME of its own; a rustup-managed cargo finds its toolchains through RUSTUP_HOME.
const rustupHome = process.env.RUSTUP_HOME ?? join(homedir(), ".rustup");
const TOOLCHAIN_ENV = existsSync(rustupHome) ? { RUSTUP_HOME: rustupHome } : {};

/** Why the tests of `command`'s language cannot run here, or undefined when they can. */
function missing(command: string, args: string[], debianPackage: string): string | undefined {
  const probe = spawnSync(command, args, {
    env: { ...process.env, ...TOOLCHAIN_ENV },
    encoding: "utf8",
    timeout: 30_000,
  });
  if (probe.status === 0) return undefined;
  const why = probe.error?.message ?? probe.stderr.trim();
  return `\`${command}\` does not run here (${why}): install Debian's ${debianPackage} (scripts/install.sh does, as root)`;
}

const noGo = missing("go", ["version"], "golang-go");
const noCargo = missing("cargo", ["--version"], "cargo");

function config(id: string, tasks: unknown[] = [task("hello", ["echo", `hello from ${id}`])]): unknown {
  return { id, name: `Pipeline ${id}`, description: null, parallelism: 0, tasks };
}

function task(id: string, command: string[], dependsOn: Record<string, string> = {}): unknown {
  return {
    id,
    description: null,
    image: BUSYBOX,
    registry_auth: null,
    depends_on: dependsOn,
    variables: {},
    entrypoint: null,
    command,
    inject_api_token: false,
    always_pull_newest_image: false,
  };
}

function program(files: Record<string, string>): string {
  const dir = scratchDir("gofer-test-program-");
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

const GO_MOD = "module example.com/pipeline\n\ngo 1.19\n";

/** A Go program that prints `stdout` (a raw string literal, so no backquotes) and `stderr`. */
function goProgram(stdout: string, stderr = "building the pipeline"): string {
  return program({
    "go.mod": GO_MOD,
    "main.go": `package main

import (
\t"fmt"
\t"os"
)

func main() {
\tfmt.Fprintln(os.Stderr, ${JSON.stringify(stderr)})
\tfmt.Println(\`${stdout}\`)
}
`,
  });
}

const CARGO_TOML = '[package]\nname = "pipeline"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n';

/** A Rust program that prints `stdout` (a raw string literal, so no `"#`) and `stderr`. */
function rustProgram(stdout: string, stderr = "building the pipeline"): string {
  return program({
    "Cargo.toml": CARGO_TOML,
    "src/main.rs": `fn main() {
    eprintln!(${JSON.stringify(stderr)});
    println!("{}", r#"${stdout}"#);
}
`,
  });
}

describe("gofer up: pipelines written in Go and Rust", () => {
  let server: TestServer;
  let gofer: Gofer;
  useCliServer((started, cli) => {
    server = started;
    gofer = cli;
  });
  const up = (path: string, ...flags: string[]) =>
    gofer(["up", path, ...flags], { env: TOOLCHAIN_ENV, timeoutMs: 120_000 });

  async function assertDeployed(pipelineId: string): Promise<void> {
    const configs = await server.api("GET", `/api/namespaces/default/pipelines/${pipelineId}/configs`);
    assert.equal(configs.status, 200, configs.text);
    assert.equal(configs.json.configs.length, 1);
    assert.equal(configs.json.configs[0].state, "live");
  }

  async function assertNothingRegistered(pipelineId: string): Promise<void> {
    const pipeline = await server.api("GET", `/api/namespaces/default/pipelines/${pipelineId}`);
    assert.equal(pipeline.status, 404, `${pipelineId} should not exist: ${pipeline.text}`);
  }

  it("builds and runs a Go program, registers and deploys what it prints, and runs it", {
    skip: noGo,
  }, async () => {
    const dir = goProgram(JSON.stringify(config("from-go")));
    const started = Date.now();
    const result = await up(dir, "--json");
    const took = Date.now() - started;
    assertExit(result, 0);
    // Stdout carries the command's result only; the build and the program's stderr are shown on stderr.
    assert.deepEqual(
      { ...(parseJson(result) as Record<string, unknown>), diff: undefined },
      {
        namespace_id: "default",
        pipeline_id: "from-go",
        version: 1,
        changed: true,
        deployed: true,
        diff: undefined,
      },
    );
    assert.match(result.stderr, /Building the Go program in .*: go build/);
    assert.match(result.stderr, /^building the pipeline$/m);
    await assertDeployed("from-go");
    assert.deepEqual(
      readdirSync(dir).sort(),
      ["go.mod", "main.go"],
      "the build leaves nothing in the folder",
    );
    assert.ok(took < 60_000, `gofer up took ${took} ms`);

    const run = await gofer(["run", "start", "from-go", "--watch"]);
    assertExit(run, 0);
    assert.match(run.stdout, /hello: successful \(exit 0\)/);
  });

  it("builds and runs a Rust program with cargo, and registers and deploys what it prints", {
    skip: noCargo,
  }, async () => {
    const dir = rustProgram(JSON.stringify(config("from-rust")));
    const result = await up(dir);
    assertExit(result, 0);
    assert.match(result.stdout, /Registered and deployed version 1 of from-rust/);
    assert.match(result.stderr, /Building the Rust program in .*: cargo build/);
    assert.match(result.stderr, /Compiling pipeline v0\.1\.0/, "cargo's progress is shown while it builds");
    assert.match(result.stderr, /^building the pipeline$/m);
    await assertDeployed("from-rust");
    // Cargo writes Cargo.lock, as it does for any build; its target folder goes to a cache instead.
    assert.deepEqual(readdirSync(dir).sort(), ["Cargo.lock", "Cargo.toml", "src"]);
  });

  it("takes the path of a go.mod or Cargo.toml, which says which program to build", {
    skip: noGo,
  }, async () => {
    const dir = goProgram(JSON.stringify(config("by-manifest")));
    writeFileSync(join(dir, "Cargo.toml"), CARGO_TOML);
    const ambiguous = await up(dir);
    assertExit(ambiguous, 1);
    assert.match(ambiguous.stderr, /holds both a Go program \(go\.mod\) and a Rust program \(Cargo\.toml\)/);
    assertExit(await up(join(dir, "go.mod")), 0);
    await assertDeployed("by-manifest");
  });

  it("shows Go's own message for a program that does not compile, and registers nothing", {
    skip: noGo,
  }, async () => {
    const dir = program({
      "go.mod": GO_MOD,
      "main.go": 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println(`{"id": "broken-go"}`\n}\n',
    });
    const result = await up(dir);
    assertExit(result, 1);
    assert.match(result.stderr, /The Go program in .* does not build: `go build` failed \(exit code \d+\)/);
    assert.match(result.stderr, /\.\/main\.go:6:\d+: syntax error: unexpected newline/);
    assert.match(result.stderr, /`cd .* && go build -o \/dev\/null \.` shows the whole output/);
    assert.equal(result.stdout, "");
    await assertNothingRegistered("broken-go");
  });

  it("shows rustc's own message for a program that does not compile, and registers nothing", {
    skip: noCargo,
  }, async () => {
    const dir = program({
      "Cargo.toml": CARGO_TOML,
      "src/main.rs": 'fn main() {\n    println!("{}", r#"{"id": "broken-rust"}"#)\n',
    });
    const result = await up(dir);
    assertExit(result, 1);
    assert.match(
      result.stderr,
      /The Rust program in .* does not build: `cargo build` failed \(exit code 101\)/,
    );
    assert.match(result.stderr, /error: this file contains an unclosed delimiter/);
    assert.match(result.stderr, /--> src\/main\.rs:2:/);
    await assertNothingRegistered("broken-rust");
  });

  it("gives a program that prints an invalid config the same error as a TypeScript file exporting it", async (t) => {
    // A task that depends on one that does not exist, and an id the server refuses.
    const invalid = config("bad config", [task("build", ["true"], { ghost: "any" })]);
    const problems = (stderr: string) => stderr.split("\n").filter((line) => line.startsWith("  - "));

    const typescript = await up(program({ "pipeline.ts": `export default ${JSON.stringify(invalid)};\n` }));
    assertExit(typescript, 1);
    assert.match(typescript.stderr, /pipeline\.ts describes a pipeline that is not valid \(2 problems\)/);
    const expected = problems(typescript.stderr);
    assert.equal(expected.length, 2, typescript.stderr);

    const programs = [
      { language: "Go", skip: noGo, make: goProgram },
      { language: "Rust", skip: noCargo, make: rustProgram },
    ];
    for (const { language, skip, make } of programs) {
      if (skip !== undefined) {
        t.diagnostic(`${language} not checked: ${skip}`);
        continue;
      }
      const result = await up(make(JSON.stringify(invalid)));
      assertExit(result, 1);
      assert.match(
        result.stderr,
        new RegExp(`The ${language} program in .* describes a pipeline that is not valid \\(2 problems\\)`),
      );
      assert.deepEqual(problems(result.stderr), expected);
      assert.match(result.stderr, /Fix these in the program and try again/);
    }
  });

  it("points at what is wrong when a program prints something that is not JSON", { skip: noGo }, async () => {
    const result = await up(goProgram('{"id": "not-json",}'));
    assertExit(result, 1);
    assert.match(result.stderr, /The Go program in .* printed something on stdout that is not valid JSON/);
    assert.match(result.stderr, /1 \| \{"id": "not-json",\}\n\s+\| {19}\^/);
    await assertNothingRegistered("not-json");
  });

  it("says which package to install when the toolchain is missing", async () => {
    // runGofer starts the CLI with Node's absolute path, so a PATH with nothing on it hides only the toolchains.
    const empty = scratchDir("gofer-empty-path-");
    const go = await gofer(["up", goProgram("{}")], { env: { PATH: empty } });
    assertExit(go, 1);
    assert.match(
      go.stderr,
      /The Go program in .* needs `go` to build it, and `go` is not installed or not on the PATH/,
    );
    assert.match(go.stderr, /apt-get install golang-go/);
    const rust = await gofer(["up", rustProgram("{}")], { env: { PATH: empty } });
    assertExit(rust, 1);
    assert.match(rust.stderr, /needs `cargo` to build it/);
    assert.match(rust.stderr, /apt-get install cargo/);
  });
});
