import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, test } from "node:test";
import { ConfigError, type LoadConfigOptions, loadConfig } from "../src/config/index.ts";

const root = mkdtempSync(join(tmpdir(), "gofer-config-test-"));
after(() => rmSync(root, { recursive: true, force: true }));

const dataHome = join(root, "xdg-data");
const noSystemFile = join(root, "no-such-dir", "gofer_web.toml");
let fileCount = 0;

/** Writes a TOML file in its own fresh directory and returns its absolute path. */
function tomlFile(contents: string, name = "gofer_web.toml"): string {
  const dir = join(root, `case-${++fileCount}`);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, contents);
  return path;
}

/** Loads with a controlled environment and no system-wide file, unless the options say otherwise. */
function load(options: LoadConfigOptions = {}) {
  return loadConfig({
    systemConfigPath: noSystemFile,
    ...options,
    env: { XDG_DATA_HOME: dataHome, ...options.env },
  });
}

function problemsOf(options: LoadConfigOptions): string[] {
  try {
    load(options);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    for (const problem of error.problems)
      assert.ok(error.message.includes(problem), "message lists every problem");
    return error.problems;
  }
  assert.fail("expected loadConfig to throw a ConfigError");
}

function assertOneProblem(options: LoadConfigOptions, ...fragments: string[]) {
  const problems = problemsOf(options);
  assert.equal(problems.length, 1, problems.join("\n"));
  for (const fragment of fragments)
    assert.ok(problems[0]?.includes(fragment), `"${problems[0]}" lacks "${fragment}"`);
}

describe("defaults", () => {
  test("are secure and derive paths and the URL", () => {
    const config = load();
    const dataDir = join(dataHome, "gofer");
    assert.deepEqual(config, {
      warnings: [],
      server: {
        bind_address: "127.0.0.1:8080",
        url: "http://127.0.0.1:8080",
        data_dir: dataDir,
        storage_path: join(dataDir, "gofer.db"),
        database_url: "",
        extension_url: "http://127.0.0.1:8080",
        tls: undefined,
        shutdown_timeout_ms: 15_000,
        replica_url: "http://127.0.0.1:8080",
        lease_timeout_ms: 15_000,
      },
      api: {
        task_execution_logs_dir: join(dataDir, "logs"),
        task_execution_stop_timeout_ms: 30_000,
        task_timeout_default_ms: 0,
        task_timeout_max_ms: 0,
        pipeline_run_concurrency_limit: 200,
        global_run_concurrency_limit: 2000,
        log_level: "info",
        request_body_limit: 4_194_304,
        task_execution_log_retention: 50,
        run_retention: 1000,
        event_log_retention_ms: 15_768_000_000,
        event_prune_interval_ms: 3_600_000,
        pipeline_version_retention: 10,
        task_attach: true,
      },
      web: { enable: true, path: "" },
      development: { bypass_auth: false, pretty_logging: "auto" },
      secret_store: { sqlite: { encryption_key: "", key_file: join(dataDir, "secret-store.key") } },
      object_store: {
        filesystem: { path: join(dataDir, "objects") },
        pipeline_object_limit: 50,
        run_object_expiry: 50,
        max_object_size: 1_073_741_824,
      },
      extensions: {
        install_std_extensions: true,
        std_image_prefix: "gofer/extension-",
        start_timeout_ms: 30_000,
        health_check_interval_ms: 10_000,
        unhealthy_threshold: 3,
        restart_backoff_max_ms: 300_000,
        stop_timeout_ms: 10_000,
        tls: undefined,
      },
      tracing: undefined,
      metrics: { enable: true, bind_address: "", public: false },
      external_events: {
        enable: true,
        bind_address: "127.0.0.1:8081",
        body_limit: 10_485_760,
        tls: undefined,
      },
      notifications: { timeout_ms: 10_000, max_attempts: 5, retry_backoff_ms: 10_000, disable_after: 5 },
      scheduler: {
        engine: "docker",
        docker: { host: "unix:///var/run/docker.sock", network_mode: "bridge" },
        kubernetes: { namespace: "default", kubeconfig: "", context: "" },
        retry_limit_ms: 60_000,
      },
    });
  });

  test("an encryption key must be exactly 32 bytes, and the error never shows it", () => {
    assert.equal(
      load({ env: { GOFER_WEB_SECRET_STORE__SQLITE__ENCRYPTION_KEY: "k".repeat(32) } }).secret_store.sqlite
        .encryption_key,
      "k".repeat(32),
    );
    for (const key of ["too-short-key", `${"é".repeat(16)}x`]) {
      assert.throws(
        () => load({ env: { GOFER_WEB_SECRET_STORE__SQLITE__ENCRYPTION_KEY: key } }),
        (error: ConfigError) => {
          const text = error.problems.join("\n");
          assert.match(text, /`secret_store.sqlite.encryption_key` must be exactly 32 bytes, got \d+/);
          assert.match(text, /GOFER_WEB_SECRET_STORE__SQLITE__ENCRYPTION_KEY/);
          assert.ok(!text.includes(key), "the message repeats the key");
          return true;
        },
      );
    }
  });

  test("data_dir falls back to ~/.local/share/gofer without an absolute XDG_DATA_HOME", () => {
    const home = join(root, "home");
    for (const xdg of [undefined, "relative/dir"]) {
      const config = loadConfig({ systemConfigPath: noSystemFile, env: { HOME: home, XDG_DATA_HOME: xdg } });
      assert.equal(config.server.data_dir, join(home, ".local", "share", "gofer"));
    }
  });

  test("the Docker host comes from DOCKER_HOST when the config leaves it empty", () => {
    assert.equal(
      load({ env: { DOCKER_HOST: "tcp://10.1.2.3:2375" } }).scheduler.docker.host,
      "tcp://10.1.2.3:2375",
    );
    const file = tomlFile('[scheduler.docker]\nhost = "unix:///run/other.sock"\n');
    const config = load({ configPath: file, env: { DOCKER_HOST: "tcp://10.1.2.3:2375" } });
    assert.equal(config.scheduler.docker.host, "unix:///run/other.sock");
  });
});

describe("TOML file", () => {
  test("overrides every kind of setting", () => {
    const file = tomlFile(`
[server]
bind_address = "0.0.0.0:9000"
url = "https://gofer.example.com/"
data_dir = "/srv/gofer"
shutdown_timeout = 30

[api]
task_execution_stop_timeout = "5m"
pipeline_run_concurrency_limit = 5
global_run_concurrency_limit = 50
log_level = "debug"
request_body_limit = 1024

[development]
bypass_auth = true
pretty_logging = true

[scheduler]
engine = "docker"

[scheduler.docker]
network_mode = "host"
`);
    const config = load({ configPath: file });
    assert.equal(config.server.bind_address, "0.0.0.0:9000");
    assert.equal(config.server.url, "https://gofer.example.com", "trailing slash dropped");
    assert.equal(config.server.data_dir, "/srv/gofer");
    assert.equal(config.server.storage_path, "/srv/gofer/gofer.db", "derived from the new data_dir");
    assert.equal(config.api.task_execution_logs_dir, "/srv/gofer/logs");
    assert.equal(config.server.shutdown_timeout_ms, 30_000);
    assert.equal(config.api.task_execution_stop_timeout_ms, 300_000);
    assert.equal(config.api.pipeline_run_concurrency_limit, 5);
    assert.equal(config.api.global_run_concurrency_limit, 50);
    assert.equal(config.api.log_level, "debug");
    assert.equal(config.api.request_body_limit, 1024);
    assert.equal(config.development.bypass_auth, true);
    assert.equal(config.development.pretty_logging, true);
    assert.equal(config.scheduler.docker.network_mode, "host");
  });

  test("the system-wide file is read when no path is given, and only then", () => {
    const systemFile = tomlFile('[api]\nlog_level = "warn"\n');
    assert.equal(load({ systemConfigPath: systemFile }).api.log_level, "warn");
    const named = tomlFile('[api]\nlog_level = "error"\n');
    assert.equal(load({ systemConfigPath: systemFile, configPath: named }).api.log_level, "error");
  });

  test("a missing explicit --config file is a clear error", () => {
    const missing = join(root, "missing.toml");
    assertOneProblem({ configPath: missing }, `configuration file ${missing} does not exist`);
  });

  test("invalid TOML is reported with its position", () => {
    const file = tomlFile("[server\nbind_address = 1\n");
    assertOneProblem({ configPath: file }, file, "not valid TOML", "line 1");
  });

  test("an unknown key is named in full, with a suggestion", () => {
    const file = tomlFile('[api]\nlog_levl = "debug"\n');
    assertOneProblem(
      { configPath: file },
      "unknown configuration key `api.log_levl` (did you mean `api.log_level`?)",
      file,
    );
  });

  test("unknown keys are rejected at every level", () => {
    const file = tomlFile(
      'colour = "red"\n[servr]\nbind_address = "127.0.0.1:1"\n[scheduler.docker]\nnetwrk_mode = "host"\n',
    );
    const problems = problemsOf({ configPath: file });
    assert.equal(problems.length, 3, problems.join("\n"));
    assert.match(problems[0] ?? "", /unknown configuration key `colour` in /);
    assert.match(problems[1] ?? "", /`servr` \(did you mean `server`\?\)/);
    assert.match(
      problems[2] ?? "",
      /`scheduler\.docker\.netwrk_mode` \(did you mean `scheduler\.docker\.network_mode`\?\)/,
    );
  });

  test("a setting in the wrong section is pointed to the right one", () => {
    const file = tomlFile('[server]\nlog_level = "debug"\n');
    assertOneProblem({ configPath: file }, "`server.log_level` (did you mean `api.log_level`?)");
  });

  test("a wrong type names the key, the expected type and the file", () => {
    const cases: [string, string[]][] = [
      [
        '[api]\nglobal_run_concurrency_limit = "many"\n',
        ["`api.global_run_concurrency_limit`", "an integer ≥ 1", '"many"'],
      ],
      [
        "[api]\npipeline_run_concurrency_limit = 0\n",
        ["`api.pipeline_run_concurrency_limit`", "an integer ≥ 1", "got 0"],
      ],
      ["[api]\nrequest_body_limit = 10.5\n", ["`api.request_body_limit`", "an integer ≥ 1024"]],
      ['[api]\nlog_level = "verbose"\n', ["`api.log_level`", 'one of "trace", "debug"']],
      ['[development]\nbypass_auth = "yes"\n', ["`development.bypass_auth`", "a boolean"]],
      ["[server]\nbind_address = 8080\n", ["`server.bind_address`", "a string", "got 8080"]],
      ['[scheduler]\nengine = "nomad"\n', ["`scheduler.engine`", 'one of "docker", "swarm", "kubernetes"']],
      ["server = 1\n", ["`server`", "a table"]],
      ["[scheduler]\ndocker = [1]\n", ["`scheduler.docker`", "a table", "got an array"]],
    ];
    for (const [contents, fragments] of cases) {
      const file = tomlFile(contents);
      assertOneProblem({ configPath: file }, ...fragments, `(in ${file})`);
    }
  });

  test("relative paths are resolved against the file's directory", () => {
    const file = tomlFile(
      '[server]\ndata_dir = "data"\nstorage_path = "../db/gofer.db"\n[api]\ntask_execution_logs_dir = "./logs"\n',
    );
    const dir = resolve(file, "..");
    const config = load({ configPath: file });
    assert.equal(config.server.data_dir, join(dir, "data"));
    assert.equal(config.server.storage_path, resolve(dir, "..", "db", "gofer.db"));
    assert.equal(config.api.task_execution_logs_dir, join(dir, "logs"));
  });
});

describe("environment", () => {
  test("overrides the file", () => {
    const file = tomlFile('[server]\nbind_address = "127.0.0.1:7000"\n[api]\nlog_level = "debug"\n');
    const config = load({
      configPath: file,
      env: { GOFER_WEB_SERVER__BIND_ADDRESS: "127.0.0.1:9000", GOFER_WEB_API__LOG_LEVEL: "warn" },
    });
    assert.equal(config.server.bind_address, "127.0.0.1:9000");
    assert.equal(config.server.url, "http://127.0.0.1:9000");
    assert.equal(config.api.log_level, "warn");
  });

  test("coerces integers and booleans and reaches nested keys, case-insensitively", () => {
    const config = load({
      env: {
        GOFER_WEB_API__GLOBAL_RUN_CONCURRENCY_LIMIT: "42",
        GOFER_WEB_DEVELOPMENT__BYPASS_AUTH: "true",
        GOFER_WEB_DEVELOPMENT__PRETTY_LOGGING: "1",
        GOFER_WEB_SCHEDULER__DOCKER__NETWORK_MODE: "host",
        gofer_web_api__pipeline_run_concurrency_limit: "7",
      },
    });
    assert.equal(config.api.global_run_concurrency_limit, 42);
    assert.equal(config.api.pipeline_run_concurrency_limit, 7);
    assert.equal(config.development.bypass_auth, true);
    assert.equal(config.development.pretty_logging, true);
    assert.equal(config.scheduler.docker.network_mode, "host");

    const off = load({
      configPath: tomlFile("[development]\nbypass_auth = true\npretty_logging = true\n"),
      env: { GOFER_WEB_DEVELOPMENT__BYPASS_AUTH: "false", GOFER_WEB_DEVELOPMENT__PRETTY_LOGGING: "0" },
    });
    assert.equal(off.development.bypass_auth, false);
    assert.equal(off.development.pretty_logging, false);
  });

  test("a value that cannot be coerced names the variable", () => {
    assertOneProblem(
      { env: { GOFER_WEB_API__GLOBAL_RUN_CONCURRENCY_LIMIT: "12abc" } },
      "`api.global_run_concurrency_limit` must be an integer ≥ 1",
      "environment variable GOFER_WEB_API__GLOBAL_RUN_CONCURRENCY_LIMIT",
    );
    assertOneProblem(
      { env: { GOFER_WEB_DEVELOPMENT__BYPASS_AUTH: "yes" } },
      "a boolean",
      "GOFER_WEB_DEVELOPMENT__BYPASS_AUTH",
    );
  });

  test("an unknown GOFER_WEB_ variable is an error naming it", () => {
    assertOneProblem(
      { env: { GOFER_WEB_SERVER_BIND_ADDRESS: "127.0.0.1:1" } },
      "unknown environment variable GOFER_WEB_SERVER_BIND_ADDRESS",
      "did you mean GOFER_WEB_SERVER__BIND_ADDRESS?",
    );
    assertOneProblem({ env: { GOFER_WEB_SCHEDULER__DOCKER: "x" } }, "GOFER_WEB_SCHEDULER__DOCKER", "section");
  });

  test("variables outside the prefix are ignored", () => {
    assert.doesNotThrow(() => load({ env: { GOFER_API_BASE_URL: "x", GOFER_WEBSITE: "y" } }));
  });

  test("relative paths are resolved against the working directory", () => {
    const config = load({ env: { GOFER_WEB_API__TASK_EXECUTION_LOGS_DIR: "rel/logs" } });
    assert.equal(config.api.task_execution_logs_dir, resolve(process.cwd(), "rel", "logs"));
  });
});

describe("durations", () => {
  test("accept whole seconds and Go-style strings", () => {
    const cases: [string, number][] = [
      ["300", 300_000],
      ["0", 0],
      ['"5m"', 300_000],
      ['"1h30m"', 5_400_000],
      ['"1.5s"', 1_500],
      ['"250ms"', 250],
      ['"2h"', 7_200_000],
    ];
    for (const [toml, ms] of cases) {
      const file = tomlFile(`[server]\nshutdown_timeout = ${toml}\n`);
      assert.equal(load({ configPath: file }).server.shutdown_timeout_ms, ms, toml);
    }
    const fromEnv = load({
      env: { GOFER_WEB_SERVER__SHUTDOWN_TIMEOUT: "90", GOFER_WEB_API__TASK_EXECUTION_STOP_TIMEOUT: "1m30s" },
    });
    assert.equal(fromEnv.server.shutdown_timeout_ms, 90_000);
    assert.equal(fromEnv.api.task_execution_stop_timeout_ms, 90_000);
  });

  test("reject negative and unparseable values, naming the key", () => {
    for (const toml of ["-1", '"-5s"', '"5 minutes"', '"abc"', '"5"', '"1h30"', "1.5", '""']) {
      const file = tomlFile(`[api]\ntask_execution_stop_timeout = ${toml}\n`);
      assertOneProblem({ configPath: file }, "`api.task_execution_stop_timeout` must be a duration", file);
    }
    assertOneProblem(
      { env: { GOFER_WEB_SERVER__SHUTDOWN_TIMEOUT: "-10" } },
      "`server.shutdown_timeout` must be a duration",
      "GOFER_WEB_SERVER__SHUTDOWN_TIMEOUT",
    );
  });
});

describe("server addresses", () => {
  test("bind_address accepts IPv4, [IPv6] and hostnames and derives the URL", () => {
    const cases: [string, string][] = [
      ["0.0.0.0:8080", "http://127.0.0.1:8080"],
      ["[::]:9000", "http://127.0.0.1:9000"],
      ["[::1]:9000", "http://[::1]:9000"],
      ["127.0.0.1:0", "http://127.0.0.1:0"],
      ["gofer.internal:65535", "http://gofer.internal:65535"],
      ["localhost:80", "http://localhost:80"],
    ];
    for (const [bind, url] of cases) {
      const config = load({ env: { GOFER_WEB_SERVER__BIND_ADDRESS: bind } });
      assert.equal(config.server.url, url, bind);
    }
  });

  test("an invalid bind_address is rejected naming its source", () => {
    for (const bind of [
      "localhost",
      "127.0.0.1:65536",
      "127.0.0.1:",
      "[zz]:80",
      "::1:80",
      "1.2.3.999:80",
      "a b:80",
      ":80",
    ]) {
      const file = tomlFile(`[server]\nbind_address = ${JSON.stringify(bind)}\n`);
      assertOneProblem({ configPath: file }, "`server.bind_address`", JSON.stringify(bind), file);
    }
  });

  test("an explicit url must be http(s)", () => {
    assertOneProblem(
      { env: { GOFER_WEB_SERVER__URL: "ftp://gofer" } },
      "`server.url` must be an http:// or https:// URL",
      "GOFER_WEB_SERVER__URL",
    );
  });
});

test("all problems from the file, the environment and derived checks are reported together", () => {
  const file = tomlFile(
    '[api]\nlog_levl = "x"\nglobal_run_concurrency_limit = -1\n[server]\nbind_address = "nope"\n',
  );
  const problems = problemsOf({
    configPath: file,
    env: { GOFER_WEB_DEVELOPMENT__BYPASS_AUTH: "maybe", GOFER_WEB_NOPE: "1" },
  });
  assert.equal(problems.length, 5, problems.join("\n"));
  assert.throws(() => load({ configPath: file }), {
    name: "ConfigError",
    message: /^Invalid configuration \(3 problems\):\n {2}- unknown configuration key `api.log_levl`/,
  });
});

describe("server.database_url", () => {
  test("accepts postgres:// and postgresql:// URLs and refuses others without printing the password", () => {
    for (const url of ["postgres://u:p@db:5432/gofer", "postgresql://u@db/gofer"]) {
      const config = loadConfig({
        systemConfigPath: "/nonexistent/gofer.toml",
        env: { HOME: "/tmp", GOFER_WEB_SERVER__DATABASE_URL: url },
      });
      assert.equal(config.server.database_url, url);
    }
    assert.throws(
      () =>
        loadConfig({
          systemConfigPath: "/nonexistent/gofer.toml",
          env: { HOME: "/tmp", GOFER_WEB_SERVER__DATABASE_URL: "mysql://u:hunter2@db/gofer" },
        }),
      (error: Error) =>
        /server\.database_url.*expected postgres:\/\/ or postgresql:\/\//s.test(error.message) &&
        !error.message.includes("hunter2"),
    );
  });
});
