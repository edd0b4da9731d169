/**
 * The projects `gofer extension init` and `gofer pipeline init` write work as a newcomer would use them, on the
 * real engine and without any image registry: the extension installs with npm (the SDK from its vendored copy,
 * the build tools from the npm cache), type-checks, bundles and builds its image with `npm run image`, installs
 * into a server with the line that command prints, and starts a run when an external event arrives; the pipeline
 * registers with `gofer up` as written, before and after `npm install`, and its run succeeds.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  assertOk,
  type CliResult,
  type Gofer,
  parseJson,
  scratchDir,
  showResult,
  useCliServer,
} from "./support/cli.ts";
import { deployPipeline, pipelineConfig, shTask, taskLogLines, waitForRun } from "./support/pipelines.ts";
import type { TestServer } from "./support/test-server.ts";
import { waitFor } from "./support/wait-for.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
// The pinned Node 24 first, as for anyone who installed Gofer's dependencies; npm runs the scripts on it.
const PATH = `${join(ROOT, "node_modules", ".bin")}:${process.env.PATH}`;
// This run's own names: tests elsewhere may share the engine.
const SUFFIX = randomBytes(3).toString("hex");

interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command in `cwd` to its end; a command that fails fails the test with everything it printed. */
function run(file: string, args: string[], cwd: string, timeoutMs = 180_000): Promise<CommandResult> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      file,
      args,
      { cwd, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, PATH } },
      (error, stdout, stderr) => {
        if (error === null) return resolvePromise({ code: 0, stdout, stderr });
        reject(new Error(`${file} ${args.join(" ")} in ${cwd}: ${error.message}\n${stdout}\n${stderr}`));
      },
    );
  });
}

const npm = (args: string[], cwd: string) => run("npm", [...args, "--no-audit", "--no-fund"], cwd);

/** `npm run image` in `cwd` with `env` added, which must fail: all it printed, with no stack trace in it. */
function buildFails(cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      "npm",
      ["run", "image"],
      { cwd, env: { ...process.env, PATH, ...env } },
      (error, stdout, stderr) => {
        if (error?.code !== 1)
          reject(new Error(`npm run image: ${error?.message ?? "built"}\n${stdout}\n${stderr}`));
        else if (/\n\s+at /.test(stderr))
          reject(new Error(`npm run image printed a stack trace:\n${stderr}`));
        else resolvePromise(stdout + stderr);
      },
    );
  });
}

function ok(result: CliResult): CliResult {
  return assertOk(result);
}

describe("a project from `gofer extension init`", () => {
  let server: TestServer;
  let gofer: Gofer;
  const id = `hello-${SUFFIX}`;
  const dir = join(scratchDir("gofer-extension-init-"), id);
  let image = "";

  // Before the server's own `after`, which stops it: hooks run in the order they are declared.
  after(async () => {
    const uninstalled = await server?.api("DELETE", `/api/extensions/${id}`);
    assert.ok(uninstalled === undefined || [204, 404].includes(uninstalled.status), uninstalled?.text);
    if (image !== "") await run("docker", ["image", "rm", "--force", image], ROOT);
  });
  useCliServer((started, cli) => {
    server = started;
    gofer = cli;
  });

  it("installs, type-checks, builds its image offline and installs into Gofer with the line it prints", async () => {
    const written = parseJson(ok(await gofer(["extension", "init", dir, "--json"]))) as { next: string[] };
    assert.equal(written.next[0], "npm install --prefer-offline");
    await npm(["install", "--prefer-offline"], dir);
    await npm(["run", "typecheck"], dir);

    // What stops the build ends in one line saying what to do, before anything is built.
    const source = join(dir, "src", "main.ts");
    const original = readFileSync(source, "utf8");
    writeFileSync(source, `${original}const wrong: number = "text";\nconsole.log(wrong);\n`);
    const typeError = await buildFails(dir, {});
    assert.match(typeError, /error TS2322/);
    assert.match(typeError, /^npm run image: tsc found the errors above: fix them/m);
    writeFileSync(source, original);
    const noEngine = await buildFails(dir, { DOCKER_HOST: `unix://${join(dir, "no-engine.sock")}` });
    assert.match(noEngine, /^npm run image: Docker does not answer \(.*\): start the Docker daemon/m);

    const built = await npm(["run", "image"], dir);
    const line = /^ {2}(gofer extension install \S+ \S+)$/m.exec(built.stdout)?.[1];
    assert.ok(line !== undefined, `npm run image printed no install line:\n${built.stdout}`);
    const [, , , installId = "", builtImage = ""] = line.split(" ");
    assert.equal(installId, id);
    image = builtImage;
    const inspected = await run(
      "docker",
      ["image", "inspect", "--format", "{{json .Config.Entrypoint}}", image],
      dir,
    );
    assert.equal(inspected.stdout.trim(), JSON.stringify(["node", "/extension/main.mjs"]));

    ok(await gofer(line.split(" ").slice(1), { timeoutMs: 120_000 }));
    const extension = await server.api("GET", `/api/extensions/${id}`);
    assert.equal(extension.json.extension.state, "running", extension.text);
    assert.deepEqual(
      extension.json.extension.documentation.pipeline_subscription_params.map((p: { key: string }) => p.key),
      ["greeting"],
    );
  });

  it("starts a run of a subscribed pipeline when an external event arrives", async () => {
    const pipelineId = `greeted-${SUFFIX}`;
    await deployPipeline(server, pipelineConfig(pipelineId, [shTask("greet", 'echo "greeting: $GREETING"')]));
    ok(await gofer(["pipeline", "subscribe", pipelineId, id, "on-event", "-s", "greeting=hi"]));

    const delivered = await fetch(`${server.service.externalEventsUrl}/api/external/${id}`, {
      method: "POST",
      body: "ping",
    });
    assert.ok(delivered.ok, `${delivered.status} ${await delivered.text()}`);

    const runId = await waitFor("the run the event starts", 30_000, async () => {
      const runs = await server.api("GET", `/api/namespaces/default/pipelines/${pipelineId}/runs`);
      return runs.json.runs[0]?.run_id as number | undefined;
    });
    const { run } = await waitForRun(server, pipelineId, runId);
    assert.equal(run.status, "successful", JSON.stringify(run.status_reason));
    assert.equal(run.initiator.user, `${id} (extension)`, JSON.stringify(run.initiator));
    assert.ok((await taskLogLines(server, pipelineId, runId, "greet")).includes("greeting: hi"));
  });
});

describe("a project from `gofer pipeline init`", () => {
  let gofer: Gofer;
  let server: TestServer;
  useCliServer((started, cli) => {
    server = started;
    gofer = cli;
  });

  const id = `starter-${SUFFIX}`;
  let dir = "";
  before(() => {
    dir = join(scratchDir("gofer-pipeline-init-"), id);
  });

  const runSucceeds = async () => {
    const started = ok(await gofer(["run", "start", id, "--watch"], { timeoutMs: 120_000 }));
    assert.match(started.stdout + started.stderr, /successful/, showResult(started));
    const runs = await server.api("GET", `/api/namespaces/default/pipelines/${id}/runs`);
    const runId: number = runs.json.runs[0].run_id;
    const { run } = await waitForRun(server, id, runId);
    assert.equal(run.status, "successful", JSON.stringify(run.status_reason));
    const hello = await taskLogLines(server, id, runId, "hello");
    assert.ok(hello.includes(`hello from ${id}, run ${runId}`), hello.join("\n"));
  };

  it("registers with `gofer up` as written, with nothing installed, and its run succeeds", async () => {
    ok(await gofer(["pipeline", "init", dir]));
    ok(await gofer(["up", "pipeline.ts"], { cwd: dir }));
    await runSucceeds();
  });

  it("still loads once npm has installed the vendored SDK, which tsc checks it against", async () => {
    await npm(["install", "--prefer-offline"], dir);
    await npm(["run", "typecheck"], dir);
    // A change, so `gofer up` must load the file to see it, with @gofer/sdk now found in node_modules.
    const source = join(dir, "pipeline.ts");
    writeFileSync(source, readFileSync(source, "utf8").replace('"all done"', '"all done again"'));
    const up = ok(await gofer(["up", "pipeline.ts"], { cwd: dir }));
    assert.match(up.stdout + up.stderr, /check/, showResult(up));
    await runSucceeds();
  });
});
