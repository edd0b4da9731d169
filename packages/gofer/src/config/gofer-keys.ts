/**
 * Keys of Gofer 0.9's server configuration (`gofer_web.toml`, `GOFER_WEB_*`) that mean nothing here, each with
 * why. A file written for Gofer still starts the server, with one warning per such key, instead of being
 * refused; keys of Gofer's that do mean something here are ordinary settings in config-schema.ts. A value that
 * asks for what this server cannot do at all is still refused, since ignoring it would change what runs.
 */
export interface RetiredKey {
  /** Why the key no longer applies, phrased to follow "no longer applies: ". */
  why: string;
  /** The one value accepted quietly (the only choice Gofer's setting had here); any other is refused. */
  only?: string;
}

const PRUNE =
  "a task's container is removed once its exit code and logs are stored (and strays at start): nothing is left to prune";

export const RETIRED_KEYS: ReadonlyMap<string, RetiredKey> = new Map([
  ["api.admin_key", { why: "Gofer never read it; the first admin token comes from `gofer token bootstrap`" }],
  [
    "api.ignore_pipeline_run_events",
    { why: "pausing new runs is a switch kept in the database: `gofer system pause` or `PATCH /api/system`" },
  ],
  [
    "server.storage_results_limit",
    { why: "list endpoints page with their own `limit` and `offset` parameters" },
  ],
  [
    "development.use_included_certs",
    { why: "no certificates ship with Gofer; for TLS set `server.tls_cert_path` and `server.tls_key_path`" },
  ],
  ["scheduler.docker.prune", { why: PRUNE }],
  ["scheduler.docker.prune_interval", { why: PRUNE }],
  [
    "scheduler.docker.timeout",
    { why: "calls to an engine that does not answer are retried for `scheduler.retry_limit`" },
  ],
  [
    "object_store.engine",
    { why: "objects are always kept on the filesystem (`object_store.filesystem.path`)", only: "filesystem" },
  ],
  [
    "secret_store.engine",
    { why: "secrets are always kept, encrypted, in the main database", only: "sqlite" },
  ],
  [
    "secret_store.sqlite.path",
    {
      why: "secrets live, encrypted, in the main database (`server.storage_path`), not in a file of their own",
    },
  ],
]);

/**
 * Records a retired key set to `value`: a warning, or a problem when the value asks for something this server
 * cannot do. `source` ends the message ("in /etc/gofer/gofer_web.toml").
 */
export function retire(
  key: string,
  retired: RetiredKey,
  value: unknown,
  source: string,
  layer: { warnings: string[]; problems: string[] },
): void {
  if (retired.only !== undefined && value !== retired.only) {
    layer.problems.push(
      `\`${key}\` ${source} must be ${JSON.stringify(retired.only)}, got ${JSON.stringify(value)}: ${retired.why}`,
    );
    return;
  }
  layer.warnings.push(`\`${key}\` ${source} no longer applies: ${retired.why}`);
}
