/** Turns merged settings into the typed Config: derives what was left empty and checks what types cannot. */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { createSecureContext } from "node:tls";
import type { Config, TlsFiles } from "./config.ts";
import type { Settings } from "./config-schema.ts";
import { databaseUrlProblem } from "./database-url.ts";
import { durationToMs } from "./duration.ts";
import { formatHostPort, type HostPort, parseHostPort } from "./host-port.ts";
import { tracingFromEnv } from "./tracing-config.ts";

export interface ResolveContext {
  /** Read for XDG_DATA_HOME, HOME and DOCKER_HOST. */
  env: NodeJS.ProcessEnv;
  /** Where the value of a dotted key came from, phrased to end an error message. */
  sourceOf(key: string): string;
}

const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

/** Appends to `problems` what is wrong; the returned Config is only meaningful when nothing was appended. */
export function resolveConfig(settings: Settings, context: ResolveContext, problems: string[]): Config {
  const {
    server,
    api,
    web,
    development,
    scheduler,
    notifications,
    secret_store,
    object_store,
    extensions,
    external_events,
    metrics,
  } = settings;

  const bind = parseHostPort(server.bind_address);
  if (typeof bind === "string") {
    const source = context.sourceOf("server.bind_address");
    problems.push(`\`server.bind_address\` ${JSON.stringify(server.bind_address)} ${bind} (${source})`);
  }
  const externalBind = parseHostPort(external_events.bind_address);
  if (typeof externalBind === "string") {
    const source = context.sourceOf("external_events.bind_address");
    problems.push(
      `\`external_events.bind_address\` ${JSON.stringify(external_events.bind_address)} ${externalBind} (${source})`,
    );
  }
  const scheme = server.use_tls ? "https" : "http";
  const url =
    server.url === ""
      ? typeof bind === "string"
        ? ""
        : urlFor(bind, scheme)
      : checkUrl(server.url, context, problems);
  const tls = server.use_tls
    ? readTls(
        "server",
        { tls_cert_path: server.tls_cert_path, tls_key_path: server.tls_key_path },
        settings,
        context,
        problems,
      )
    : undefined;
  const externalTls = external_events.use_tls
    ? readTls("external_events", external_events, settings, context, problems)
    : undefined;
  const extensionFiles = extensions.use_tls
    ? readTls("extensions", extensions, settings, context, problems)
    : undefined;

  const dataDir = server.data_dir === "" ? defaultDataDir(context.env) : server.data_dir;
  return {
    warnings: [],
    server: {
      bind_address: server.bind_address,
      url,
      data_dir: dataDir,
      storage_path: server.storage_path === "" ? join(dataDir, "gofer.db") : server.storage_path,
      database_url: checkDatabaseUrl(server.database_url, context, problems),
      extension_url: extensionUrl(server.extension_address, url, scheme, context, problems),
      tls,
      shutdown_timeout_ms: durationToMs(server.shutdown_timeout),
      replica_url:
        server.replica_url === ""
          ? typeof bind === "string"
            ? ""
            : urlFor(bind, scheme)
          : checkUrl(server.replica_url, context, problems, "server.replica_url"),
      lease_timeout_ms: leaseTimeoutMs(server.lease_timeout, context, problems),
    },
    api: {
      task_execution_logs_dir:
        api.task_execution_logs_dir === "" ? join(dataDir, "logs") : api.task_execution_logs_dir,
      task_execution_stop_timeout_ms: durationToMs(api.task_execution_stop_timeout),
      task_timeout_default_ms: durationToMs(api.task_timeout_default),
      task_timeout_max_ms: durationToMs(api.task_timeout_max),
      pipeline_run_concurrency_limit: api.pipeline_run_concurrency_limit,
      global_run_concurrency_limit: api.global_run_concurrency_limit,
      log_level: api.log_level,
      request_body_limit: api.request_body_limit,
      task_execution_log_retention: api.task_execution_log_retention,
      run_retention: api.run_retention,
      event_log_retention_ms: durationToMs(api.event_log_retention),
      event_prune_interval_ms: durationToMs(api.event_prune_interval),
      pipeline_version_retention: api.pipeline_version_retention,
      task_attach: api.task_attach,
    },
    web: { enable: web.enable, path: web.path },
    development: { bypass_auth: development.bypass_auth, pretty_logging: development.pretty_logging },
    secret_store: {
      sqlite: {
        encryption_key: checkEncryptionKey(secret_store.sqlite.encryption_key, context, problems),
        key_file: join(dataDir, "secret-store.key"),
      },
    },
    object_store: {
      filesystem: {
        path: object_store.filesystem.path === "" ? join(dataDir, "objects") : object_store.filesystem.path,
      },
      pipeline_object_limit: object_store.pipeline_object_limit,
      run_object_expiry: object_store.run_object_expiry,
      max_object_size: object_store.max_object_size,
    },
    extensions: {
      install_std_extensions: extensions.install_std_extensions,
      std_image_prefix: extensions.std_image_prefix,
      start_timeout_ms: durationToMs(extensions.start_timeout),
      health_check_interval_ms: durationToMs(extensions.health_check_interval),
      unhealthy_threshold: extensions.unhealthy_threshold,
      restart_backoff_max_ms: durationToMs(extensions.restart_backoff_max),
      stop_timeout_ms: durationToMs(extensions.stop_timeout),
      tls: extensionFiles && { ...extensionFiles, verify_certs: extensions.verify_certs },
    },
    tracing: tracingFromEnv(context.env, problems),
    metrics: {
      enable: metrics.enable,
      bind_address: checkMetricsBind(metrics.bind_address, context, problems),
      public: metrics.public,
    },
    external_events: {
      enable: external_events.enable,
      bind_address: external_events.bind_address,
      body_limit: external_events.body_limit,
      tls: externalTls,
    },
    notifications: {
      timeout_ms: durationToMs(notifications.timeout),
      max_attempts: notifications.max_attempts,
      retry_backoff_ms: durationToMs(notifications.retry_backoff),
      disable_after: notifications.disable_after,
    },
    scheduler: {
      engine: scheduler.engine,
      docker: {
        host: scheduler.docker.host || context.env.DOCKER_HOST || DEFAULT_DOCKER_HOST,
        network_mode: scheduler.docker.network_mode,
      },
      kubernetes: {
        namespace: scheduler.kubernetes.namespace,
        kubeconfig: scheduler.kubernetes.kubeconfig,
        context: scheduler.kubernetes.context,
      },
      retry_limit_ms: durationToMs(scheduler.retry_limit),
    },
  };
}

/** A wildcard listen address is not an address a container can dial, so the loopback address stands in. */
function urlFor(bind: HostPort, scheme: string): string {
  const wildcard = bind.host === "0.0.0.0" || (bind.ipv6 && /^[0:]+$/.test(bind.host));
  return `${scheme}://${formatHostPort(wildcard ? { host: "127.0.0.1", port: bind.port, ipv6: false } : bind)}`;
}

/** Gofer's `server.extension_address` is host:port without a scheme; the API's own scheme goes with it. */
function extensionUrl(
  address: string,
  url: string,
  scheme: string,
  context: ResolveContext,
  problems: string[],
): string {
  if (address === "") return url;
  const parsed = parseHostPort(address);
  if (typeof parsed === "string") {
    const source = context.sourceOf("server.extension_address");
    problems.push(`\`server.extension_address\` ${JSON.stringify(address)} ${parsed} (${source})`);
    return url;
  }
  return `${scheme}://${formatHostPort(parsed)}`;
}

/**
 * Reads the PEM files TLS was asked for, at start, so that a missing or mismatched file stops the server with
 * a message naming the setting instead of failing the first connection. The external events listener and the
 * extensions fall back to the API's files, so one certificate can serve all three.
 */
function readTls(
  section: "server" | "external_events" | "extensions",
  own: { tls_cert_path: string; tls_key_path: string },
  settings: Settings,
  context: ResolveContext,
  problems: string[],
): TlsFiles | undefined {
  const pick = (name: "tls_cert_path" | "tls_key_path") =>
    own[name] !== "" || section === "server"
      ? { key: `${section}.${name}`, path: own[name] }
      : { key: `server.${name}`, path: settings.server[name], fallbackOf: `${section}.${name}` };
  const files = [pick("tls_cert_path"), pick("tls_key_path")];
  const empty = files.filter((file) => file.path === "");
  if (empty.length > 0) {
    const list = (keys: string[]) => keys.map((key) => `\`${key}\``).join(" and ");
    const verb = empty.length > 1 ? "are" : "is";
    const fallbacks = empty.flatMap((file) => (file.fallbackOf === undefined ? [] : [file.key]));
    const named = empty.map((file) => file.fallbackOf ?? file.key);
    const also = fallbacks.length > 0 ? `, and so ${verb} ${list(fallbacks)}, used in their place` : "";
    problems.push(
      `\`${section}.use_tls\` is on (${context.sourceOf(`${section}.use_tls`)}) but ${list(named)} ${verb} ` +
        `empty${also}: name the PEM certificate and key to serve with`,
    );
    return undefined;
  }
  const [cert, key] = files.map((file) => {
    try {
      return readFileSync(file.path, "utf8");
    } catch (error) {
      problems.push(
        `cannot read \`${file.key}\` ${file.path}: ${(error as Error).message} (${context.sourceOf(file.key)})`,
      );
      return undefined;
    }
  });
  if (cert === undefined || key === undefined) return undefined;
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    problems.push(
      `\`${section}\` cannot serve TLS with ${files[0]?.path} and ${files[1]?.path}: ${(error as Error).message}`,
    );
    return undefined;
  }
  return { cert, key };
}

/** AES-256 takes exactly 32 bytes; the message never repeats the key, which may be a real secret mistyped. */
function checkEncryptionKey(key: string, context: ResolveContext, problems: string[]): string {
  const bytes = Buffer.byteLength(key, "utf8");
  if (key !== "" && bytes !== 32) {
    problems.push(
      `\`secret_store.sqlite.encryption_key\` must be exactly 32 bytes, got ${bytes} ` +
        `(${context.sourceOf("secret_store.sqlite.encryption_key")}); leave it empty to use a generated key file`,
    );
  }
  return key;
}

/** Trailing slashes are dropped so callers can append "/api/…" without doubling them. */
function checkUrl(
  url: string,
  context: ResolveContext,
  problems: string[],
  key: "server.url" | "server.replica_url" = "server.url",
): string {
  const parsed = URL.parse(url);
  if (parsed === null || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
    problems.push(
      `\`${key}\` must be an http:// or https:// URL, got ${JSON.stringify(url)} (${context.sourceOf(key)})`,
    );
  }
  return url.replace(/\/+$/, "");
}

/** XDG_DATA_HOME counts only when absolute, as the XDG Base Directory spec requires. */
function defaultDataDir(env: NodeJS.ProcessEnv): string {
  const xdgDataHome = env.XDG_DATA_HOME;
  const base =
    xdgDataHome && isAbsolute(xdgDataHome) ? xdgDataHome : join(env.HOME || homedir(), ".local", "share");
  return join(base, "gofer");
}

/** The URL as given when usable; otherwise a problem that names the key and its source, never the password. */
function checkDatabaseUrl(text: string, context: ResolveContext, problems: string[]): string {
  const trimmed = text.trim();
  if (trimmed === "") return "";
  const problem = databaseUrlProblem(trimmed);
  if (problem !== undefined) {
    problems.push(`\`server.database_url\` ${problem} (${context.sourceOf("server.database_url")})`);
  }
  return trimmed;
}

/** A lease shorter than a few heartbeats would change hands on every slow query. */
const MIN_LEASE_TIMEOUT_MS = 3_000;

function leaseTimeoutMs(
  value: Settings["server"]["lease_timeout"],
  context: ResolveContext,
  problems: string[],
): number {
  const ms = durationToMs(value);
  if (ms < MIN_LEASE_TIMEOUT_MS) {
    problems.push(
      `\`server.lease_timeout\` must be at least 3s (${context.sourceOf("server.lease_timeout")}): a shorter lease ` +
        "changes hands whenever the database is slow for a moment",
    );
  }
  return ms;
}

function checkMetricsBind(address: string, context: ResolveContext, problems: string[]): string {
  if (address === "") return address;
  const parsed = parseHostPort(address);
  if (typeof parsed === "string") {
    problems.push(
      `\`metrics.bind_address\` ${JSON.stringify(address)} ${parsed} (${context.sourceOf("metrics.bind_address")})`,
    );
  }
  return address;
}
