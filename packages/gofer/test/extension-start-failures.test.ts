/**
 * An extension that crashes as it starts, on the real engine: an image built offline on gofer/node-base whose
 * script throws. Its install fails, and both the error and `extension logs` show what the container printed,
 * although nothing stays installed and the container is gone.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { EngineClient } from "../src/scheduler/docker/engine-client.ts";
import { assertExit, type Gofer, showResult, useCliServer } from "./support/cli.ts";
import type { TestServer } from "./support/test-server.ts";

const NODE_BASE = process.env.GOFER_NODE_BASE_IMAGE ?? "gofer/node-base:latest";
const IMAGE = "gofer/test-crashing-extension:latest";
const MESSAGE = "GOFER_EXTENSION_CONFIG_API_KEY is not set; install with -c api_key=...";
const engine = new EngineClient();

/**
 * Reads its settings the way extensions do, a few calls deep, and throws: Node prints the code frame, a blank
 * line, the error, its stack (most of it Node's own frames) and a blank line before its version.
 */
const SCRIPT = `
console.log("crashing-extension: reading settings");
function requireSetting(name) {
  const value = process.env["GOFER_EXTENSION_CONFIG_" + name.toUpperCase()];
  if (value === undefined) throw new Error(${JSON.stringify(MESSAGE)});
  return value;
}
function readSettings() {
  return { apiKey: requireSetting("api_key") };
}
readSettings();
`;

function buildCrashingImage(): void {
  const context = mkdtempSync(join(tmpdir(), "gofer-crashing-extension-"));
  try {
    writeFileSync(join(context, "main.js"), SCRIPT);
    // The base has no shell and `node` as its entrypoint, so the script is the command.
    writeFileSync(
      join(context, "Dockerfile"),
      `FROM ${NODE_BASE}\nCOPY main.js /app/main.js\nCMD ["/app/main.js"]\n`,
    );
    execFileSync("docker", ["build", "--quiet", "--tag", IMAGE, context], {
      stdio: "pipe",
      timeout: 120_000,
    });
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

async function containersOf(server: TestServer, extensionId: string): Promise<string[]> {
  const labels = { "gofer.extension": extensionId, "gofer.instance": server.instanceId };
  return (await engine.listContainers({ all: true, labels })).map((container) => container.Id);
}

describe("an extension that throws as it starts", { timeout: 180_000 }, () => {
  let server: TestServer;
  let gofer: Gofer;
  useCliServer((started, cli) => {
    server = started;
    gofer = cli;
  });
  before(() => buildCrashingImage());
  after(() => {
    execFileSync("docker", ["image", "rm", "--force", IMAGE], { stdio: "ignore" });
  });

  it("fails its install with the end of what it printed, stack trace included", async () => {
    const response = await server.api("POST", "/api/extensions", {
      id: "crasher",
      image: IMAGE,
      settings: {},
    });
    assert.equal(response.status, 400, response.text);
    assert.equal(response.json.error_code, "EXTENSION_START_FAILED");
    const message: string = response.json.message;
    assert.match(message, /exited with code 1 before answering its health check; its last output:\n/);
    const quoted = message.slice(message.indexOf("its last output:\n") + "its last output:\n".length);
    assert.match(quoted, new RegExp(`^Error: ${MESSAGE.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
    assert.match(quoted, /^ {4}at requireSetting \(\/app\/main\.js:5:\d+\)$/m);
    assert.match(quoted, /^ {4}at readSettings \(\/app\/main\.js:9:\d+\)$/m);
    // Node's own frames say nothing about the extension; blank lines neither open nor close the quote.
    assert.doesNotMatch(quoted, /node:internal/);
    assert.doesNotMatch(quoted, /^\n|\n$|\n\n\n/);
    assert.ok(quoted.split("\n").length <= 15, quoted);

    assert.equal((await server.api("GET", "/api/extensions/crasher")).status, 404);
    assert.deepEqual(await containersOf(server, "crasher"), []);
  });

  it("keeps the whole output of the failed start readable through its logs route", async () => {
    const logs = await server.api("GET", "/api/extensions/crasher/logs");
    assert.equal(logs.status, 200, logs.text);
    assert.match(logs.text, /^crashing-extension: reading settings$/m);
    assert.match(logs.text, /^Error: GOFER_EXTENSION_CONFIG_API_KEY is not set/m);
    assert.match(logs.text, /node:internal\/modules/, "the whole stack, Node's frames included");
    assert.match(logs.text, /^Node\.js v\d+/m);
    assert.ok(logs.text.endsWith("\n"), "whole lines");

    const never = await server.api("GET", "/api/extensions/never-installed/logs");
    assert.equal(never.status, 404, never.text);
  });

  it("the CLI shows the error, points at `extension logs`, and that command prints the output", async () => {
    const installed = await gofer(["extension", "install", "crasher-cli", IMAGE]);
    assertExit(installed, 1);
    assert.match(installed.stderr, /did not start: The container exited with code 1/, showResult(installed));
    assert.match(
      installed.stderr,
      /^Error: GOFER_EXTENSION_CONFIG_API_KEY is not set/m,
      showResult(installed),
    );
    assert.match(installed.stderr, /hint: .*gofer extension logs crasher-cli/, showResult(installed));

    const logs = await gofer(["extension", "logs", "crasher-cli"]);
    assertExit(logs, 0);
    assert.match(logs.stdout, /^crashing-extension: reading settings$/m, showResult(logs));
    assert.match(logs.stdout, /^ {4}at readSettings \(\/app\/main\.js:9:\d+\)$/m, showResult(logs));
  });

  it("says nothing about waiting for a health check when the server refuses the install at once", async () => {
    const refused = await gofer(["extension", "install", "Not A Name", IMAGE]);
    assertExit(refused, 1);
    assert.match(refused.stderr, /extension id/, showResult(refused));
    assert.doesNotMatch(refused.stderr, /health/, showResult(refused));
  });

  it("refuses `--config KEY=VALUE` for a setting and suggests -c", async () => {
    const result = await gofer(["extension", "install", "crasher", IMAGE, "--config", "api_key=secret"]);
    assertExit(result, 2);
    assert.match(
      result.stderr,
      /--config api_key=secret names the CLI's configuration file/,
      showResult(result),
    );
    assert.match(result.stderr, /hint: give settings with -c \(or --setting\): -c api_key=secret/);
    assert.equal((await server.api("GET", "/api/extensions/crasher")).status, 404);
  });
});
