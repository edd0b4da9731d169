/**
 * Every server configuration key, its type and its default: the single list the file, the environment and the
 * resolver all work from.
 *
 * The schema describes the settings as written (snake_case, durations in seconds or as strings, "" for "derive
 * it"). Every key has a default, so a file may set any subset of them; `Value.Create` on this schema yields the
 * built-in defaults. The resolved, typed form the rest of the server reads is `Config` in config.ts.
 */
import { type Static, type TSchema, Type } from "typebox";
import { DURATION_EXPECTED, GO_DURATION_PATTERN } from "./duration.ts";

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Annotation: how errors describe what a setting accepts, where the JSON Schema keywords say it badly. */
const EXPECTED = "x-expected";
/** Annotation: a relative path is resolved against the directory of whatever set it (file or cwd). */
const IS_PATH = "x-path";

function Section<Properties extends Record<string, TSchema>>(properties: Properties) {
  return Type.Object(properties, { additionalProperties: false });
}

function Duration(defaultSeconds: number, description: string) {
  return Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: GO_DURATION_PATTERN })], {
    default: defaultSeconds,
    description,
    [EXPECTED]: DURATION_EXPECTED,
  });
}

/** A path whose default ("") means "derived from `server.data_dir`". */
function DerivedPath(description: string) {
  return Type.String({ default: "", description, [IS_PATH]: true });
}

export const SettingsSchema = Section({
  server: Section({
    bind_address: Type.String({
      default: "127.0.0.1:8080",
      description: "host:port the API listens on (IPv4, [IPv6] or a hostname; port 0 picks a free port).",
    }),
    url: Type.String({
      default: "",
      description:
        "Base URL tasks and extensions use to reach the API (GOFER_API_BASE_URL). Empty: derived from bind_address.",
    }),
    data_dir: Type.String({
      default: "",
      description:
        "Folder holding the database, logs, secrets and objects unless a specific path overrides one. " +
        "Empty: $XDG_DATA_HOME/gofer, else ~/.local/share/gofer.",
      [IS_PATH]: true,
    }),
    storage_path: DerivedPath("SQLite database file. Empty: <data_dir>/gofer.db."),
    database_url: Type.String({
      default: "",
      description:
        "PostgreSQL database to store everything in instead of SQLite: postgres://user:password@host:port/database " +
        "(or postgresql://). Empty: SQLite at storage_path. Logs and objects stay on this server's disk.",
    }),
    replica_url: Type.String({
      default: "",
      description:
        "With PostgreSQL, the URL other replicas reach this one at, to hand it the requests only the leading replica " +
        "may serve. Empty: derived from bind_address.",
    }),
    lease_timeout: Duration(
      15,
      "With PostgreSQL, how long the leading replica's lease lasts without renewal before another replica takes over its work.",
    ),
    extension_address: Type.String({
      default: "",
      description:
        "host:port extensions use to reach the API (Gofer's name; e.g. the engine's bridge gateway). Empty: server.url.",
    }),
    use_tls: Type.Boolean({
      default: false,
      description: "Serve the API, the web UI and its WebSockets over HTTPS with the certificate below.",
    }),
    tls_cert_path: Type.String({
      default: "",
      description: "PEM certificate (chain) for use_tls.",
      [IS_PATH]: true,
    }),
    tls_key_path: Type.String({ default: "", description: "PEM private key for use_tls.", [IS_PATH]: true }),
    shutdown_timeout: Duration(15, "How long shutdown waits for in-flight work before giving up."),
  }),
  api: Section({
    task_execution_logs_dir: DerivedPath("Folder of task execution log files. Empty: <data_dir>/logs."),
    // Gofer's 300 s outlasted any reasonable shutdown handler; tasks now run under an init, so one that handles
    // nothing ends at the SIGTERM, and the grace is only for those that trap it.
    task_execution_stop_timeout: Duration(
      30,
      "Grace period between asking a cancelled task to stop and killing it.",
    ),
    task_timeout_default: Duration(
      0,
      "How long one attempt of a task may run when its config sets no timeout; 0: no limit.",
    ),
    task_timeout_max: Duration(
      0,
      "The longest timeout a task may have, its own or the default; 0: no maximum. A task that declares a longer one is held to this.",
    ),
    pipeline_run_concurrency_limit: Type.Integer({
      minimum: 1,
      default: 200,
      description: "Runs of one pipeline in flight at once, for pipelines whose parallelism is 0.",
    }),
    global_run_concurrency_limit: Type.Integer({
      minimum: 1,
      default: 2000,
      description: "Runs in flight at once across all pipelines.",
    }),
    log_level: Type.Enum(LOG_LEVELS, {
      default: "info",
      description: "Server log level, also passed to extensions.",
    }),
    request_body_limit: Type.Integer({
      minimum: 1024,
      default: 4194304,
      description: "Largest accepted request body, in bytes.",
    }),
    task_execution_log_retention: Type.Integer({
      minimum: 1,
      default: 50,
      description: "Newest runs of each pipeline whose task logs are kept; older runs' logs are deleted.",
    }),
    run_retention: Type.Integer({
      minimum: 0,
      default: 1000,
      description:
        "Newest completed runs of each pipeline whose records are kept; older ones are deleted. 0 keeps every run.",
    }),
    event_log_retention: Duration(15768000, "How long events are kept (6 months by default)."),
    event_prune_interval: Duration(
      3600,
      "How often expired events, runs, logs and config versions are pruned.",
    ),
    pipeline_version_retention: Type.Integer({
      minimum: 1,
      default: 10,
      description:
        "Newest config versions of each pipeline that are kept; older ones go unless live or used by a kept run.",
    }),
    task_attach: Type.Boolean({
      default: true,
      description:
        "Allow attaching a terminal to a running task (GET .../tasks/<task_id>/attach, `gofer task attach`, the " +
        "web UI's terminal) for tokens with write access to the run. false refuses every attach.",
    }),
  }),
  web: Section({
    enable: Type.Boolean({ default: true, description: "Serve the web UI at / on the API listener." }),
    path: Type.String({
      default: "",
      description:
        "Folder of a built web UI to serve instead of the one shipped with Gofer (a Vite build: index.html and assets/).",
      [IS_PATH]: true,
    }),
  }),
  development: Section({
    bypass_auth: Type.Boolean({ default: false, description: "Skip token checks. Never in production." }),
    pretty_logging: Type.Union([Type.Boolean(), Type.Literal("auto")], {
      default: "auto",
      description:
        "Human-readable log lines (true) or JSON lines (false); auto: human-readable when the server writes to a terminal.",
    }),
  }),
  secret_store: Section({
    sqlite: Section({
      encryption_key: Type.String({
        default: "",
        description:
          "Key that encrypts secrets at rest (AES-256-GCM): exactly 32 bytes. Empty: a random key is created " +
          "once in <data_dir>/secret-store.key (readable by its owner only).",
      }),
    }),
  }),
  object_store: Section({
    filesystem: Section({
      path: DerivedPath("Folder of stored objects. Empty: <data_dir>/objects."),
    }),
    pipeline_object_limit: Type.Integer({
      minimum: 1,
      default: 50,
      description: "Objects kept per pipeline; storing one more evicts the oldest.",
    }),
    run_object_expiry: Type.Integer({
      minimum: 1,
      default: 50,
      description: "Runs of a pipeline that keep their objects; older runs' objects are deleted.",
    }),
    max_object_size: Type.Integer({
      minimum: 1,
      default: 1073741824,
      description:
        "Largest object accepted, in bytes (objects are streamed; `api.request_body_limit` does not apply).",
    }),
  }),
  extensions: Section({
    install_std_extensions: Type.Boolean({
      default: true,
      description:
        "Install the interval and cron extensions at boot when they are not installed (images from `npm run images`).",
    }),
    std_image_prefix: Type.String({
      default: "gofer/extension-",
      description:
        "Image name prefix of the standard extensions: <prefix>interval:latest, <prefix>cron:latest.",
    }),
    start_timeout: Duration(30, "How long an extension may take to answer its first health check."),
    health_check_interval: Duration(10, "How often a running extension's health is checked."),
    unhealthy_threshold: Type.Integer({
      minimum: 1,
      default: 3,
      description: "Failed health checks in a row after which an extension is restarted.",
    }),
    restart_backoff_max: Duration(300, "Longest wait between restarts of an extension that keeps failing."),
    stop_timeout: Duration(
      10,
      "Grace period between asking an extension to stop and killing it; keep it below server.shutdown_timeout.",
    ),
    use_tls: Type.Boolean({
      default: false,
      description:
        "Extensions serve HTTPS with the certificate below, which Gofer hands them (GOFER_EXTENSION_SYSTEM_TLS_CERT " +
        "and _KEY, PEM text), and Gofer calls them over HTTPS.",
    }),
    tls_cert_path: Type.String({
      default: "",
      description: "PEM certificate extensions serve with; empty: server.tls_cert_path.",
      [IS_PATH]: true,
    }),
    tls_key_path: Type.String({
      default: "",
      description: "PEM private key extensions serve with; empty: server.tls_key_path.",
      [IS_PATH]: true,
    }),
    verify_certs: Type.Boolean({
      default: false,
      description:
        "Check an extension's certificate against tls_cert_path (as the trusted CA) and the address Gofer dials. " +
        "false: accept any certificate, with a warning at start.",
    }),
  }),
  metrics: Section({
    enable: Type.Boolean({ default: true, description: "Serve Prometheus metrics at GET /metrics." }),
    bind_address: Type.String({
      default: "",
      description:
        "host:port of a listener of its own for /metrics (port 0 picks a free port); empty: on the API's listener.",
    }),
    public: Type.Boolean({
      default: false,
      description:
        "Serve /metrics without a token; otherwise scrapes need an admin token (Authorization: Bearer).",
    }),
  }),
  external_events: Section({
    enable: Type.Boolean({
      default: true,
      description: "Serve POST /api/external/<extension_id> (webhooks) on a second listener.",
    }),
    bind_address: Type.String({
      default: "127.0.0.1:8081",
      description: "host:port of the external events listener (port 0 picks a free port).",
    }),
    use_tls: Type.Boolean({ default: false, description: "Serve external events over HTTPS." }),
    tls_cert_path: Type.String({
      default: "",
      description: "PEM certificate for external events; empty: server.tls_cert_path.",
      [IS_PATH]: true,
    }),
    tls_key_path: Type.String({
      default: "",
      description: "PEM private key for external events; empty: server.tls_key_path.",
      [IS_PATH]: true,
    }),
    body_limit: Type.Integer({
      minimum: 1024,
      default: 10485760,
      description:
        "Largest external event body accepted, in bytes (GitHub sends at most 25 MB; 10 MiB by default).",
    }),
  }),
  notifications: Section({
    timeout: Duration(
      10,
      "How long one delivery attempt to a notification target may take, its answer included.",
    ),
    max_attempts: Type.Integer({
      minimum: 1,
      default: 5,
      description:
        "Attempts per notification delivery (the first included) while the receiver fails or does not answer.",
    }),
    retry_backoff: Duration(
      10,
      "Wait after a notification delivery's first failed attempt; each further wait doubles (at most an hour).",
    ),
    disable_after: Type.Integer({
      minimum: 1,
      default: 5,
      description: "Failed notification deliveries in a row after which the target is disabled.",
    }),
  }),
  scheduler: Section({
    engine: Type.Enum(["docker", "swarm", "kubernetes"], {
      default: "docker",
      description:
        "Where task and extension containers run: one Docker engine, a Docker Swarm (through a manager at " +
        "scheduler.docker.host), or a Kubernetes cluster.",
    }),
    docker: Section({
      host: Type.String({
        default: "",
        description: "Docker Engine address. Empty: $DOCKER_HOST, else unix:///var/run/docker.sock.",
      }),
      network_mode: Type.String({
        default: "bridge",
        description: "Network mode of task and extension containers.",
      }),
    }),
    kubernetes: Section({
      namespace: Type.String({
        default: "default",
        description: "Namespace of the task pods and extension deployments.",
      }),
      kubeconfig: Type.String({
        default: "",
        description:
          "Path of a kubeconfig file. Empty: the in-cluster service account when running in a pod, else " +
          "$KUBECONFIG, else ~/.kube/config.",
        [IS_PATH]: true,
      }),
      context: Type.String({
        default: "",
        description: "Kubeconfig context to use. Empty: its current context.",
      }),
    }),
    retry_limit: Duration(
      60,
      "How long Gofer keeps retrying an unreachable container engine before the affected tasks fail.",
    ),
  }),
});

/** The settings after every layer is merged, before anything is derived. */
export type Settings = Static<typeof SettingsSchema>;

/** Each key's schema by dotted name ("api.log_level"), sections included, in declaration order. */
export const SCHEMA_BY_KEY: ReadonlyMap<string, TSchema> = flatten(SettingsSchema, "");

function flatten(section: TSchema, prefix: string, into = new Map<string, TSchema>()): Map<string, TSchema> {
  if (!Type.IsObject(section)) return into;
  for (const [name, schema] of Object.entries(section.properties)) {
    const key = prefix + name;
    into.set(key, schema);
    flatten(schema, `${key}.`, into);
  }
  return into;
}

export function isSection(schema: TSchema): boolean {
  return Type.IsObject(schema);
}

export function isPath(schema: TSchema): boolean {
  return IS_PATH in schema && schema[IS_PATH] === true;
}

/** What a setting accepts, phrased for an error message: "an integer ≥ 1", "one of trace, debug, …". */
export function describeExpected(schema: TSchema): string {
  if (EXPECTED in schema && typeof schema[EXPECTED] === "string") return schema[EXPECTED];
  if (Type.IsObject(schema)) return "a table";
  if (Type.IsBoolean(schema)) return "a boolean";
  if (Type.IsString(schema)) return "a string";
  if (Type.IsEnum(schema)) return `one of ${schema.enum.map((value) => JSON.stringify(value)).join(", ")}`;
  if (Type.IsInteger(schema)) {
    return "minimum" in schema && typeof schema.minimum === "number"
      ? `an integer ≥ ${schema.minimum}`
      : "an integer";
  }
  throw new Error("describeExpected: a setting uses a schema kind this function does not know");
}
