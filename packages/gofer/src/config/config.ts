/** The resolved server configuration: every default applied, every path absolute, every duration in ms. */
import type { LogLevel } from "./config-schema.ts";
import type { TracingConfig } from "./tracing-config.ts";

export interface Config {
  /** Settings that were read but mean nothing here (Gofer's retired keys), one message each, said at start. */
  warnings: string[];
  server: {
    /** host:port the API listens on; port 0 lets the OS choose. */
    bind_address: string;
    /**
     * Base URL tasks and extensions use to reach the API (given to them as GOFER_API_BASE_URL), without a
     * trailing slash. Derived from bind_address unless set; with port 0 it names port 0 until the caller, who
     * learns the real port, substitutes it.
     */
    url: string;
    /** Absolute folder that holds the database, logs, secrets and objects by default. */
    data_dir: string;
    /** Absolute path of the SQLite database file; unused when `database_url` is set. */
    storage_path: string;
    /**
     * The PostgreSQL database (postgres:// or postgresql:// URL, password included) that holds what SQLite
     * would; "" for SQLite. Print it only through `maskDatabaseUrl`.
     */
    database_url: string;
    /** Base URL extensions use to reach the API: server.url, unless `server.extension_address` names another. */
    extension_url: string;
    /** The certificate and key (PEM text) the API is served with, when `server.use_tls` is on. */
    tls: TlsFiles | undefined;
    shutdown_timeout_ms: number;
    /** Where the other replicas reach this one (PostgreSQL only): bind_address's URL unless set. */
    replica_url: string;
    /** How long the leading replica's lease lasts unrenewed before another replica may take its work. */
    lease_timeout_ms: number;
  };
  api: {
    /** Absolute folder of task execution log files. */
    task_execution_logs_dir: string;
    /** Grace period between asking a cancelled task's container to stop and killing it. */
    task_execution_stop_timeout_ms: number;
    /** How long one attempt of a task may run when its config says nothing; 0: no limit. */
    task_timeout_default_ms: number;
    /** The longest any task's timeout may be; 0: no maximum. */
    task_timeout_max_ms: number;
    /** Runs of one pipeline in flight at once, used when the pipeline's parallelism is 0. */
    pipeline_run_concurrency_limit: number;
    global_run_concurrency_limit: number;
    log_level: LogLevel;
    /** Largest accepted request body, in bytes. */
    request_body_limit: number;
    /** Newest runs of each pipeline whose task logs are kept. */
    task_execution_log_retention: number;
    /** Newest completed runs of each pipeline whose records are kept; 0 keeps all. */
    run_retention: number;
    event_log_retention_ms: number;
    /** How often the retention pruner runs. */
    event_prune_interval_ms: number;
    /** Newest config versions of each pipeline kept (live ones and those of kept runs always are). */
    pipeline_version_retention: number;
    /** Whether a terminal may be attached to a running task. */
    task_attach: boolean;
  };
  web: {
    enable: boolean;
    /** Absolute folder of a built web UI, or "" for the one shipped with Gofer. */
    path: string;
  };
  development: {
    /** Skip token checks entirely. Off by default: a server is secure unless someone opts out. */
    bypass_auth: boolean;
    /** Human-readable logs instead of JSON lines. */
    /** Human-readable lines (true), JSON lines (false), or by whether stdout is a terminal ("auto"). */
    pretty_logging: boolean | "auto";
  };
  secret_store: {
    sqlite: {
      /** The configured key, or "" to use (and create on first start) the key file below. */
      encryption_key: string;
      /** Absolute path of the generated key file used when no key is configured. */
      key_file: string;
    };
  };
  object_store: {
    filesystem: {
      /** Absolute folder of stored objects. */
      path: string;
    };
    /** Objects kept per pipeline; the oldest is evicted beyond it. */
    pipeline_object_limit: number;
    /** How many of a pipeline's most recent runs keep their run objects. */
    run_object_expiry: number;
    /** Largest object accepted, in bytes; uploads are streamed, so this is not bounded by the request body limit. */
    max_object_size: number;
  };
  extensions: {
    install_std_extensions: boolean;
    std_image_prefix: string;
    start_timeout_ms: number;
    health_check_interval_ms: number;
    unhealthy_threshold: number;
    restart_backoff_max_ms: number;
    stop_timeout_ms: number;
    /** What extensions serve HTTPS with, and how Gofer checks it, when `extensions.use_tls` is on. */
    tls: ExtensionTls | undefined;
  };
  /** OpenTelemetry tracing, from the standard OTEL_* variables; undefined when off. */
  tracing: TracingConfig | undefined;
  metrics: {
    enable: boolean;
    /** host:port of the metrics listener; "" serves /metrics on the API's listener. */
    bind_address: string;
    /** Whether /metrics answers without a token. */
    public: boolean;
  };
  external_events: {
    enable: boolean;
    /** host:port of the webhook listener. */
    bind_address: string;
    body_limit: number;
    tls: TlsFiles | undefined;
  };
  notifications: {
    /** One delivery attempt, answer included. */
    timeout_ms: number;
    max_attempts: number;
    /** The wait after the first failed attempt; each further wait doubles. */
    retry_backoff_ms: number;
    /** Failed deliveries in a row after which a target is disabled. */
    disable_after: number;
  };
  scheduler: {
    engine: "docker" | "swarm" | "kubernetes";
    docker: {
      /** Docker Engine address, e.g. unix:///var/run/docker.sock or tcp://host:2375; never empty. */
      host: string;
      /** Network mode of task and extension containers ("bridge" for users, "host" in tests). */
      network_mode: string;
    };
    kubernetes: {
      namespace: string;
      /** Absolute path of a kubeconfig file, or "" for in-cluster config, then $KUBECONFIG, then ~/.kube/config. */
      kubeconfig: string;
      /** Kubeconfig context, or "" for its current one. */
      context: string;
    };
    /** How long an unreachable engine is retried before the affected tasks fail with `scheduler_error`. */
    retry_limit_ms: number;
  };
}

/** A certificate (chain) and its private key, as PEM text read at start. */
export interface TlsFiles {
  cert: string;
  key: string;
}

export interface ExtensionTls extends TlsFiles {
  /**
   * Whether Gofer checks an extension's certificate (trusting only `cert`, and requiring it to name the address
   * Gofer dials) or, as Gofer did by default, accepts whatever the extension presents.
   */
  verify_certs: boolean;
}
