/**
 * `extensions.use_tls` as Gofer configured it: the extension's container gets the certificate and key as PEM text
 * (GOFER_EXTENSION_SYSTEM_TLS_CERT/_KEY, with GOFER_EXTENSION_SYSTEM_USE_TLS=true), the extension kit serves HTTPS
 * with them, and Gofer calls it over HTTPS, checking its certificate only with `verify_certs`. Real engine, real
 * server, the provided interval image (`npm run images`), certificates made here by Debian's openssl.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpsServer, request } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { defineExtension, type ExtensionContext, runExtension } from "@gofer/sdk/extension";
import { EngineClient } from "../src/scheduler/docker/engine-client.ts";
import { type CertificateFiles, makeCertificate } from "./support/certificates.ts";
import { freePort } from "./support/free-port.ts";
import { deployPipeline, pipelineConfig, shTask } from "./support/pipelines.ts";
import { startServiceOutput } from "./support/service-output.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";
import { waitFor } from "./support/wait-for.ts";

const IMAGE = "gofer/extension-interval:latest";
const PIPELINES = "/api/namespaces/default/pipelines";
const engine = new EngineClient();
const dir = mkdtempSync(join(tmpdir(), "gofer-extension-tls-"));
after(() => rmSync(dir, { recursive: true, force: true }));

async function install(server: TestServer, id: string, settings: Record<string, string> = {}) {
  const response = await server.api("POST", "/api/extensions", { id, image: IMAGE, settings });
  assert.equal(response.status, 201, response.text);
  assert.equal(response.json.extension.state, "running");
  return response.json.extension;
}

async function runCount(server: TestServer, pipelineId: string): Promise<number> {
  const response = await server.api("GET", `${PIPELINES}/${pipelineId}/runs?limit=200`);
  assert.equal(response.status, 200, response.text);
  return response.json.runs.length;
}

/** Subscribes `pipelineId` to interval every second, waits for two runs it started, unsubscribes and lets them end. */
async function runsStartWhenSubscribed(server: TestServer, pipelineId: string): Promise<void> {
  const created = await server.api("POST", `${PIPELINES}/${pipelineId}/subscriptions`, {
    extension_id: "interval",
    subscription_id: "every-second",
    settings: { every: "1s" },
  });
  assert.equal(created.status, 201, created.text);
  await waitFor("runs started by the extension", 15_000, async () =>
    (await runCount(server, pipelineId)) >= 2 ? true : undefined,
  );
  const deleted = await server.api(
    "DELETE",
    `${PIPELINES}/${pipelineId}/subscriptions/interval/every-second`,
  );
  assert.equal(deleted.status, 204, deleted.text);
  // The runs it started finish (and their containers go) before the test's server stops.
  await waitFor("the started runs to finish", 30_000, async () => {
    const response = await server.api("GET", `${PIPELINES}/${pipelineId}/runs?limit=200`);
    const runs: { state: string }[] = response.json.runs;
    if (!runs.every((run) => run.state === "complete")) return undefined;
    // A task's container is removed just after its completion is stored.
    const left = await engine.listContainers({ all: true, labels: { "gofer.instance": server.instanceId } });
    return left.every((container) => container.Labels?.["gofer.task"] === undefined) ? true : undefined;
  });
}

async function containerEnv(server: TestServer, extensionId: string): Promise<string[]> {
  const labels = { "gofer.extension": extensionId, "gofer.instance": server.instanceId };
  const [container] = await engine.listContainers({ all: true, labels });
  assert.ok(container, `extension ${extensionId} has no container`);
  return (await engine.inspectContainer(container.Id)).Config.Env ?? [];
}

/** A GET over HTTPS trusting only `ca`; answers the status. */
function httpsStatus(url: string, ca: string): Promise<number> {
  return new Promise((done, fail) => {
    const req = request(url, { ca }, (response) => {
      response.resume();
      done(response.statusCode ?? 0);
    });
    req.on("error", fail);
    req.end();
  });
}

const pem = (files: CertificateFiles) => ({
  cert: readFileSync(files.cert, "utf8"),
  key: readFileSync(files.key, "utf8"),
});

describe("the extension kit with GOFER_EXTENSION_SYSTEM_USE_TLS=true", () => {
  it("serves HTTPS with the PEMs, not plain HTTP, and trusts the certificate when calling Gofer", async () => {
    const { cert, key } = pem(makeCertificate(dir, "kit"));
    const trusted = getCACertificates("default");
    // Gofer's API served with the same certificate, as when extensions.tls_cert_path falls back to the API's.
    const started: string[] = [];
    const gofer = createHttpsServer({ cert, key }, (req, res) => {
      started.push(`${req.method} ${req.url}`);
      res.writeHead(201, { "content-type": "application/json" }).end('{"run":{"run_id":7}}');
    });
    await new Promise<void>((done) => gofer.listen(0, "127.0.0.1", done));
    let context: ExtensionContext | undefined;
    const running = await runExtension(
      defineExtension({
        documentation: { body: "TLS probe." },
        setup: (given) => {
          context = given;
        },
        subscribe: () => undefined,
        unsubscribe: () => undefined,
      }),
      {
        exitOnShutdown: false,
        env: {
          GOFER_EXTENSION_SYSTEM_ID: "probe",
          GOFER_EXTENSION_SYSTEM_SECRET: "secret",
          GOFER_EXTENSION_SYSTEM_GOFER_URL: `https://127.0.0.1:${(gofer.address() as AddressInfo).port}`,
          GOFER_EXTENSION_SYSTEM_BIND_ADDRESS: "127.0.0.1:0",
          GOFER_EXTENSION_SYSTEM_LOG_LEVEL: "error",
          GOFER_EXTENSION_SYSTEM_USE_TLS: "true",
          GOFER_EXTENSION_SYSTEM_TLS_CERT: cert,
          GOFER_EXTENSION_SYSTEM_TLS_KEY: key,
        },
      },
    );
    try {
      assert.match(running.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(await httpsStatus(`${running.url}/api/health`, cert), 204);
      await assert.rejects(fetch(`${running.url.replace("https:", "http:")}/api/health`));
      assert.equal(await context?.startRun({ namespaceId: "default", pipelineId: "p" }), 7);
      assert.deepEqual(started, ["POST /api/namespaces/default/pipelines/p/runs"]);
    } finally {
      await running.close();
      await new Promise((done) => gofer.close(done));
      setDefaultCACertificates(trusted);
    }
  });
});

describe("extensions over TLS, their certificate not checked (Gofer's default)", { timeout: 120_000 }, () => {
  let server: TestServer;
  let files: CertificateFiles;

  before(async () => {
    // Self-signed and in no CA list Gofer's process trusts: only not checking it lets Gofer talk to the extension.
    files = makeCertificate(dir, "extension");
    server = await startTestServer({
      GOFER_WEB_EXTENSIONS__USE_TLS: "true",
      GOFER_WEB_EXTENSIONS__TLS_CERT_PATH: files.cert,
      GOFER_WEB_EXTENSIONS__TLS_KEY_PATH: files.key,
      GOFER_WEB_EXTENSIONS__HEALTH_CHECK_INTERVAL: "1",
    });
    await deployPipeline(server, pipelineConfig("ticks", [shTask("hello", "echo tick $GOFER_RUN_ID")]));
  });
  after(async () => {
    await server?.stop();
  });

  it("installs interval, which gets the PEMs in its environment and serves HTTPS with them", async () => {
    const extension = await install(server, "interval", { min_interval: "1s" });
    assert.match(extension.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const { cert, key } = pem(files);
    const env = await containerEnv(server, "interval");
    assert.ok(env.includes("GOFER_EXTENSION_SYSTEM_USE_TLS=true"), env.join("\n"));
    assert.ok(env.includes(`GOFER_EXTENSION_SYSTEM_TLS_CERT=${cert}`), "the certificate, as PEM text");
    assert.ok(env.includes(`GOFER_EXTENSION_SYSTEM_TLS_KEY=${key}`), "the private key, as PEM text");

    assert.equal(await httpsStatus(`${extension.url}/api/health`, cert), 204);
    await assert.rejects(
      fetch(`${extension.url.replace("https:", "http:")}/api/health`),
      "the extension's port answers plain HTTP",
    );
  });

  it("a subscription starts runs, and health checks over HTTPS keep passing", async () => {
    await runsStartWhenSubscribed(server, "ticks");
    // Health is checked every second and 3 misses in a row restart it: 4 s of checks, none missed.
    await sleep(4_000);
    const extension = (await server.api("GET", "/api/extensions/interval")).json.extension;
    assert.equal(extension.state, "running");
    assert.equal(extension.restarts, 0, JSON.stringify(extension.state_reason));
  });

  it("debug and external events reach the extension over HTTPS", async () => {
    const debug = await server.api("GET", "/api/extensions/interval/debug");
    assert.equal(debug.status, 200, debug.text);
    assert.equal(typeof debug.json.info, "string");
    // interval takes no external events: the kit's own 404 shows the event was forwarded and answered.
    const forwarded = await fetch(`${server.service.externalEventsUrl}/api/external/interval`, {
      method: "POST",
      body: "{}",
    });
    const answer = await forwarded.text();
    assert.equal(forwarded.status, 404, answer);
    assert.match(answer, /no route \/api\/external-event/);
  });
});

describe("extensions over TLS with the API's own certificate, checked (verify_certs)", {
  timeout: 120_000,
}, () => {
  let server: TestServer;
  let files: CertificateFiles;
  const trusted = getCACertificates("default");

  before(async () => {
    files = makeCertificate(dir, "api");
    // The test's own calls to the API (fetch) must trust it, as a user's CA bundle would.
    setDefaultCACertificates([...getCACertificates("default"), pem(files).cert]);
    // No extension paths: they fall back to the API's, so the extension calls back an API whose certificate it
    // was handed.
    server = await startTestServer({
      GOFER_WEB_SERVER__USE_TLS: "true",
      GOFER_WEB_SERVER__TLS_CERT_PATH: files.cert,
      GOFER_WEB_SERVER__TLS_KEY_PATH: files.key,
      GOFER_WEB_EXTENSIONS__USE_TLS: "true",
      GOFER_WEB_EXTENSIONS__VERIFY_CERTS: "true",
    });
    await deployPipeline(server, pipelineConfig("ticks", [shTask("hello", "echo tick $GOFER_RUN_ID")]));
  });
  after(async () => {
    setDefaultCACertificates(trusted);
    await server?.stop();
  });

  it("runs interval, which starts runs through the HTTPS API by trusting the certificate it was given", async () => {
    assert.match(server.url, /^https:\/\//);
    const extension = await install(server, "interval", { min_interval: "1s" });
    assert.match(extension.url, /^https:\/\//);
    const env = await containerEnv(server, "interval");
    assert.ok(env.includes(`GOFER_EXTENSION_SYSTEM_TLS_CERT=${pem(files).cert}`));
    assert.ok(env.some((entry) => entry.startsWith("GOFER_EXTENSION_SYSTEM_GOFER_URL=https://")));
    await runsStartWhenSubscribed(server, "ticks");
  });
});

describe("verify_certs with a certificate that does not name the extension's address", {
  timeout: 60_000,
}, () => {
  let server: TestServer;

  before(async () => {
    const files = makeCertificate(dir, "elsewhere", ["DNS:elsewhere.example"]);
    server = await startTestServer({
      GOFER_WEB_EXTENSIONS__USE_TLS: "true",
      GOFER_WEB_EXTENSIONS__TLS_CERT_PATH: files.cert,
      GOFER_WEB_EXTENSIONS__TLS_KEY_PATH: files.key,
      GOFER_WEB_EXTENSIONS__VERIFY_CERTS: "true",
      GOFER_WEB_EXTENSIONS__START_TIMEOUT: "3",
    });
  });
  after(async () => {
    await server?.stop();
  });

  it("refuses to install the extension, saying why its certificate was refused", async () => {
    const response = await server.api("POST", "/api/extensions", {
      id: "interval",
      image: IMAGE,
      settings: {},
    });
    assert.equal(response.status, 400, response.text);
    assert.equal(response.json.error_code, "EXTENSION_START_FAILED");
    assert.match(
      response.json.message,
      /did not answer GET \/api\/health .*last attempt: .*(altnames|certificate)/,
    );
    assert.equal((await server.api("GET", "/api/extensions/interval")).status, 404);
  });
});

describe("a server with extensions.use_tls and verify_certs off", { timeout: 60_000 }, () => {
  it("warns once at start that extension certificates are not checked", async () => {
    const files = makeCertificate(dir, "warned");
    const [apiPort, eventsPort] = [await freePort(), await freePort()];
    const service = await startServiceOutput([], {
      HOME: dir,
      GOFER_WEB_SERVER__DATA_DIR: join(dir, "warned-data"),
      GOFER_WEB_SERVER__BIND_ADDRESS: `127.0.0.1:${apiPort}`,
      GOFER_WEB_EXTERNAL_EVENTS__BIND_ADDRESS: `127.0.0.1:${eventsPort}`,
      GOFER_WEB_EXTENSIONS__INSTALL_STD_EXTENSIONS: "false",
      GOFER_WEB_EXTENSIONS__USE_TLS: "true",
      GOFER_WEB_EXTENSIONS__TLS_CERT_PATH: files.cert,
      GOFER_WEB_EXTENSIONS__TLS_KEY_PATH: files.key,
      GOFER_WEB_API__LOG_LEVEL: "info",
    });
    try {
      const output = service.output();
      const warnings = output.split("\n").filter((line) => line.includes("extensions.verify_certs is false"));
      assert.equal(warnings.length, 1, output);
    } finally {
      await service.stop();
    }
  });
});
