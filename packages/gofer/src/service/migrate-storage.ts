/**
 * `gofer service migrate-storage`: moves an installation from its SQLite file to PostgreSQL. The copy itself
 * (and every promise about it) is storage/copy-to-postgres.ts; this adds what the database does not hold and the
 * person must keep: the log and object folders, and the key the copied secrets are encrypted under.
 */
import { dirname, join, resolve } from "node:path";
import type { Config } from "../config/config.ts";
import { type CopyReport, copySqliteToPostgres, StorageCopyError } from "../storage/copy-to-postgres.ts";

export { StorageCopyError };

export interface MigrateStorageReport extends CopyReport {
  /** Not in the database, so not copied: the server on PostgreSQL must find them where they are. */
  left_in_place: {
    task_logs: string;
    objects: string;
    /** The key file's path, or a note that the key is configured. */
    secret_key: string;
  };
}

export async function migrateStorage(
  config: Config,
  options: {
    sourcePath: string;
    targetUrl: string;
    connectTimeoutMs: number;
    onTable?: (table: string, rows: number) => void;
  },
): Promise<MigrateStorageReport> {
  const report = await copySqliteToPostgres(options);
  // The files that stay are the data folder's: that of the configuration when it holds the source, else the
  // source's own folder, where a server keeps them by default beside gofer.db.
  const configured = resolve(config.server.storage_path) === resolve(options.sourcePath);
  const folder = dirname(resolve(options.sourcePath));
  return {
    ...report,
    left_in_place: {
      task_logs: configured ? config.api.task_execution_logs_dir : join(folder, "logs"),
      objects: configured ? config.object_store.filesystem.path : join(folder, "objects"),
      secret_key:
        config.secret_store.sqlite.encryption_key !== ""
          ? "secret_store.sqlite.encryption_key (configured)"
          : configured
            ? config.secret_store.sqlite.key_file
            : join(folder, "secret-store.key"),
    },
  };
}
