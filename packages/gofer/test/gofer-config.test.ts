/**
 * A configuration written for Gofer 0.9 starts this server: its keys that mean something here are honoured,
 * the ones that no longer apply each give one warning naming the key and why, and a misspelt key is still
 * refused. TLS as Gofer configured it (`server.use_tls` with `tls_cert_path`/`tls_key_path`) serves the API,
 * its WebSockets and the external events listener over HTTPS, with a certificate made here by Debian's openssl.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { WebSocket } from "ws";
import { ConfigError, loadConfig } from "../src/config/index.ts";
import { makeCertificate as makeCertificateIn } from "./support/certificates.ts";
import { runGofer } from "./support/cli.ts";
import { freePort } from "./support/free-port.ts";
import { startServiceOutput } from "./support/service-output.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const dir = mkdtempSync(join(tmpdir(), "gofer-compat-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A self-signed certificate for 127.0.0.1, made for this run only: none is ever committed. */
const makeCertificate = (name: string) => makeCertificateIn(dir, name);

/** Gofer 0.9's server configuration with every key its code read, at Gofer's defaults but for paths and ports. */
function goferWebToml(data: string, apiPort: number, eventsPort: number): string {
  return `
[api]
ignore_pipeline_run_events = false
pipeline_run_concurrency_limit = 200
global_run_concurrency_limit = 2000
event_log_retention = 15768000
event_prune_interval = 604800
log_level = "info"
task_execution_log_retention = 50
task_execution_logs_dir = "${data}/logs"
task_execution_stop_timeout = 300
admin_key = "test"
pipeline_version_retention = 10

[development]
pretty_logging = false
bypass_auth = false
use_included_certs = false

[extensions]
install_std_extensions = false
stop_timeout = 300
use_tls = false
verify_certs = false

[external_events]
enable = true
bind_address = "127.0.0.1:${eventsPort}"
use_tls = false

[object_store]
engine = "filesystem"
pipeline_object_limit = 50
run_object_expiry = 2

[object_store.filesystem]
path = "${data}/objects"

[secret_store]
engine = "sqlite"

[secret_store.sqlite]
path = "${data}/gofer_secrets.db"
encryption_key = "changemechangemechangemechangeme"

[scheduler]
engine = "docker"

[scheduler.docker]
prune = true
prune_interval = 604800
timeout = 300

[server]
url = "http://127.0.0.1:${apiPort}"
extension_address = "127.0.0.1:${apiPort}"
bind_address = "127.0.0.1:${apiPort}"
shutdown_timeout = 15
storage_path = "${data}/gofer.db"
storage_results_limit = 200
use_tls = false
`;
}

const RETIRED = [
  "api.ignore_pipeline_run_events",
  "api.admin_key",
  "development.use_included_certs",
  "object_store.engine",
  "secret_store.engine",
  "secret_store.sqlite.path",
  "scheduler.docker.prune",
  "scheduler.docker.prune_interval",
  "scheduler.docker.timeout",
  "server.storage_results_limit",
];

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const load = (configPath: string, env: NodeJS.ProcessEnv = {}) =>
  loadConfig({ configPath, env: { HOME: dir, ...env } });

function problemsOf(configPath: string): string[] {
  try {
    load(configPath);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail("the configuration was accepted");
}

describe("a configuration written for Gofer 0.9", () => {
  it("loads: what means something is honoured, and each retired key is one warning naming it and why", () => {
    const data = join(dir, "gofer-data");
    const config = load(file("gofer_web.toml", goferWebToml(data, 18080, 18081)));
    assert.equal(config.api.task_execution_logs_dir, join(data, "logs"));
    assert.equal(config.server.storage_path, join(data, "gofer.db"));
    assert.equal(config.server.extension_url, "http://127.0.0.1:18080");
    assert.equal(config.external_events.bind_address, "127.0.0.1:18081");
    assert.equal(config.secret_store.sqlite.encryption_key, "changemechangemechangemechangeme");
    assert.equal(config.object_store.filesystem.path, join(data, "objects"));
    assert.equal(config.extensions.tls, undefined);
    assert.equal(config.warnings.length, RETIRED.length, config.warnings.join("\n"));
    for (const key of RETIRED) {
      const warning = config.warnings.find((text) => text.startsWith(`\`${key}\` `));
      assert.ok(warning, `no warning for ${key}`);
      assert.match(warning, /no longer applies: \S+/, warning);
    }
  });

  it("warns the same for Gofer's environment variables, and refuses what this server cannot do", () => {
    const config = load(file("empty.toml", ""), { GOFER_WEB_SCHEDULER__DOCKER__PRUNE: "true" });
    assert.deepEqual(
      config.warnings.map((warning) => warning.split(" ")[0]),
      ["`scheduler.docker.prune`"],
    );
    const s3 = problemsOf(file("s3.toml", '[object_store]\nengine = "s3"\n'));
    assert.equal(s3.length, 1);
    assert.match(s3[0] ?? "", /`object_store.engine`.*must be "filesystem", got "s3"/);
  });

  it("still refuses a misspelt key, with a suggestion", () => {
    const problems = problemsOf(file("typo.toml", "[scheduler.docker]\nprnue = true\n"));
    assert.match(problems[0] ?? "", /unknown configuration key `scheduler.docker.prnue`/);
  });

  it("refuses TLS without its files, or with a key that does not match, naming the settings", () => {
    const one = makeCertificate("one");
    const two = makeCertificate("two");
    assert.match(
      problemsOf(file("tls-empty.toml", "[server]\nuse_tls = true\n")).join("\n"),
      /`server.use_tls` is on .* `server.tls_cert_path` and `server.tls_key_path` are empty/,
    );
    const mismatched = `[server]\nuse_tls = true\ntls_cert_path = "${one.cert}"\ntls_key_path = "${two.key}"\n`;
    assert.match(problemsOf(file("tls-mismatch.toml", mismatched)).join("\n"), /cannot serve TLS/);
  });

  it("reads extensions.use_tls's PEMs at start, falling back to the API's files, and names what is missing", () => {
    const api = makeCertificate("api-for-extensions");
    const own = makeCertificate("extensions-own");
    const apiFiles = `[server]\ntls_cert_path = "${api.cert}"\ntls_key_path = "${api.key}"\n`;

    const fallback = load(file("ext-fallback.toml", `${apiFiles}[extensions]\nuse_tls = true\n`));
    assert.deepEqual(fallback.extensions.tls, {
      cert: readFileSync(api.cert, "utf8"),
      key: readFileSync(api.key, "utf8"),
      verify_certs: false,
    });
    assert.equal(fallback.server.tls, undefined, "the API itself stays on plain HTTP");
    const owned = load(
      file(
        "ext-own.toml",
        `${apiFiles}[extensions]\nuse_tls = true\nverify_certs = true\n` +
          `tls_cert_path = "${own.cert}"\ntls_key_path = "${own.key}"\n`,
      ),
    );
    assert.equal(owned.extensions.tls?.cert, readFileSync(own.cert, "utf8"));
    assert.equal(owned.extensions.tls?.verify_certs, true);
    assert.equal(load(file("ext-off.toml", apiFiles)).extensions.tls, undefined);

    const empty = problemsOf(file("ext-empty.toml", "[extensions]\nuse_tls = true\n"));
    assert.equal(empty.length, 1, empty.join("\n"));
    assert.match(
      empty[0] ?? "",
      /^`extensions.use_tls` is on \(in .*ext-empty.toml\) but `extensions.tls_cert_path` and `extensions.tls_key_path` are empty, and so are `server.tls_cert_path` and `server.tls_key_path`/,
    );
    const missing = problemsOf(
      file(
        "ext-missing.toml",
        `${apiFiles}[extensions]\nuse_tls = true\ntls_cert_path = "${dir}/absent.crt"\n`,
      ),
    );
    assert.match(missing.join("\n"), /cannot read `extensions.tls_cert_path` .*absent.crt/);
    const mismatched = problemsOf(
      file(
        "ext-mismatch.toml",
        `[extensions]\nuse_tls = true\ntls_cert_path = "${own.cert}"\ntls_key_path = "${api.key}"\n`,
      ),
    );
    assert.match(mismatched.join("\n"), /`extensions` cannot serve TLS/);
  });

  it("starts `gofer service start` and says each warning once", { timeout: 60_000 }, async () => {
    const data = join(dir, "started");
    const [apiPort, eventsPort] = [await freePort(), await freePort()];
    const path = file("started.toml", goferWebToml(data, apiPort, eventsPort));
    const service = await startServiceOutput(["--config", path], { HOME: dir }, (output) =>
      output.includes("server.storage_results_limit"),
    );
    try {
      const output = service.output();
      const metadata = await fetch(`http://127.0.0.1:${apiPort}/api/system/metadata`, {
        headers: { "gofer-api-version": "v0" },
      });
      assert.equal(metadata.status, 200);
      for (const key of RETIRED) {
        const said = output
          .split("\n")
          .filter((line) => line.includes(`\`${key}\` in ${path} no longer applies`));
        assert.equal(said.length, 1, `${key}:\n${output}`);
      }
    } finally {
      await service.stop();
    }
  });
});

/** A GET over HTTPS trusting only `ca`; answers the status and body. */
function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = request(url, { ca, headers: { "gofer-api-version": "v0" } }, (response) => {
      let body = "";
      response.on("data", (chunk) => {
        body += chunk;
      });
      response.on("end", () => done({ status: response.statusCode ?? 0, body }));
    });
    req.on("error", fail);
    req.end();
  });
}

describe("TLS as Gofer configured it", () => {
  let server: TestServer;
  let ca: string;
  // Captured before the test adds its certificate: reading the defaults afterwards would include it.
  const trusted = getCACertificates("default");
  let certPath: string;

  before(async () => {
    const files = makeCertificate("server");
    certPath = files.cert;
    ca = readFileSync(files.cert, "utf8");
    // The test server's own client (fetch) must trust it too, as a user's CA bundle would.
    setDefaultCACertificates([...getCACertificates("default"), ca]);
    server = await startTestServer({
      GOFER_WEB_SERVER__USE_TLS: "true",
      GOFER_WEB_SERVER__TLS_CERT_PATH: files.cert,
      GOFER_WEB_SERVER__TLS_KEY_PATH: files.key,
      GOFER_WEB_EXTERNAL_EVENTS__USE_TLS: "true",
    });
  });
  after(async () => {
    setDefaultCACertificates(trusted);
    await server?.stop();
  });

  it("serves the API and the web UI over HTTPS, and refuses a client that does not trust the certificate", async () => {
    assert.match(server.url, /^https:\/\//);
    const metadata = await httpsGet(`${server.url}/api/system/metadata`, ca);
    assert.equal(metadata.status, 200, metadata.body);
    assert.equal(typeof JSON.parse(metadata.body).semver, "string");
    const page = await httpsGet(`${server.url}/`, ca);
    assert.ok(page.status === 200 || page.status === 503, `the web UI answers over HTTPS: ${page.status}`);
    const stranger = readFileSync(makeCertificate("stranger").cert, "utf8");
    await assert.rejects(httpsGet(`${server.url}/api/system/metadata`, stranger), /self-signed|certificate/);
  });

  it("serves the event stream as a secure WebSocket", async () => {
    const socket = new WebSocket(`${server.url.replace("https", "wss")}/api/events`, {
      ca,
      headers: { "gofer-api-version": "v0", authorization: `Bearer ${server.token}` },
    });
    await new Promise<void>((done, fail) => {
      socket.once("open", () => done());
      socket.once("error", fail);
    });
    socket.close();
  });

  it("is reached by the CLI with a CA file, refused without one, and reached with insecure_skip_tls_verify", async () => {
    const env = { GOFER_API_BASE_URL: server.url, GOFER_TOKEN: server.token };
    const trusted = await runGofer(["namespace", "list", "--json"], {
      env: { ...env, GOFER_CA_CERT: certPath },
    });
    assert.equal(trusted.code, 0, trusted.stderr);
    assert.ok(
      (JSON.parse(trusted.stdout) as Array<{ id: string }>).some((namespace) => namespace.id === "default"),
    );
    const refused = await runGofer(["namespace", "list"], { env });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /certificate was refused/);
    assert.match(refused.stderr, /ca_cert_path/);
    const config = file("insecure.toml", `api_base_url = "${server.url}"\ninsecure_skip_tls_verify = true\n`);
    const insecure = await runGofer(["namespace", "list", "--config", config], {
      env: { GOFER_TOKEN: server.token },
    });
    assert.equal(insecure.code, 0, insecure.stderr);
    // Gofer's second place for the CLI's file, with the CA named there.
    const home = join(dir, "cli-home");
    mkdirSync(join(home, ".config"), { recursive: true });
    writeFileSync(
      join(home, ".config", "gofer.toml"),
      `api_base_url = "${server.url}"\ntoken = "${server.token}"\nca_cert_path = "${certPath}"\n`,
    );
    const xdg = await runGofer(["namespace", "list"], { env: { HOME: home } });
    assert.equal(xdg.code, 0, xdg.stderr);
    assert.match(xdg.stdout, /default/);
  });

  it("serves external events over HTTPS with the API's certificate", async () => {
    const address = server.service.externalEventsUrl;
    assert.ok(address, "the external events listener runs");
    assert.match(address, /^https:\/\//);
    const unknown = await new Promise<number>((done, fail) => {
      const req = request(`${address}/api/external/nope`, { method: "POST", ca }, (response) => {
        response.resume();
        done(response.statusCode ?? 0);
      });
      req.on("error", fail);
      req.end("{}");
    });
    assert.equal(unknown, 404);
  });
});
