/**
 * `gofer service start`: run the server in the foreground until SIGINT/SIGTERM. `gofer service
 * rotate-secret-key`: re-encrypt the stored secrets under a new key, with the server stopped. `gofer service
 * migrate-storage`: copy an installation from SQLite into an empty PostgreSQL database, with the server
 * stopped. The server's modules are loaded only when these commands run, so client commands start quickly.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import type { MigrateStorageReport } from "../service/migrate-storage.ts";
import type { OutputFormat } from "./cli-config.ts";
import { CliError } from "./cli-error.ts";
import { Printer } from "./output/printer.ts";
import { registerReplicasCommand } from "./service-replicas.ts";

export function registerServiceCommands(program: Command): void {
  const service = program.command("service").description("Run and manage the Gofer server");
  service
    .command("start")
    .description(
      "Start the server in the foreground (stop it with Ctrl-C or SIGTERM). --config names the server's TOML " +
        "file (default: /etc/gofer/gofer_web.toml when present)",
    )
    .action(async (_options, command: Command) => {
      const { config: configPath } = command.optsWithGlobals<{ config?: string }>();
      const { loadConfig } = await import("../config/index.ts");
      const { startService } = await import("../service/gofer-service.ts");
      const { ListenAddressError } = await import("../service/listen-address.ts");
      const config = loadConfig({ configPath });
      const running = await startService(config).catch((error: unknown) => {
        throw error instanceof ListenAddressError ? new CliError(error.message, { hint: error.hint }) : error;
      });
      running.app.log.info(`Gofer is listening on ${running.url} (data in ${config.server.data_dir})`);
      for (const warning of config.warnings) running.app.log.warn(warning);
      if (config.development.bypass_auth) {
        running.app.log.warn("development.bypass_auth is on: the API accepts requests without a token");
      }
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        running.app.log.info(`${signal} received; shutting down`);
        const deadline = setTimeout(() => process.exit(1), config.server.shutdown_timeout_ms);
        deadline.unref();
        running.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            running.app.log.error({ err: error }, "shutdown failed");
            process.exit(1);
          },
        );
      };
      process.once("SIGINT", () => stop("SIGINT"));
      process.once("SIGTERM", () => stop("SIGTERM"));
    });

  registerReplicasCommand(service);

  service
    .command("rotate-secret-key")
    .description(
      "Re-encrypt every stored secret under a new 32-byte key, in one transaction, against the database " +
        "directly. Stop the server first. With a configured encryption_key, update it afterwards; with the " +
        "generated key file, the file is replaced for you",
    )
    .option(
      "--new-key <key>",
      "the new key: exactly 32 bytes of text (visible in process lists; prefer a file)",
    )
    .option("--new-key-file <path>", "a file holding exactly 32 bytes, the new key")
    .action(async (options: { newKey?: string; newKeyFile?: string }, command: Command) => {
      const { config: configPath } = command.optsWithGlobals<{ config?: string }>();
      if ((options.newKey === undefined) === (options.newKeyFile === undefined)) {
        throw new CliError("give exactly one of --new-key and --new-key-file", { exitCode: 2 });
      }
      const newKey =
        options.newKey !== undefined
          ? Buffer.from(options.newKey, "utf8")
          : readNewKeyFile(options.newKeyFile ?? "");
      if (newKey.length !== 32) {
        throw new CliError(`the new key must be exactly 32 bytes, got ${newKey.length}`, { exitCode: 2 });
      }
      const { loadConfig } = await import("../config/index.ts");
      const { rotateInstallationSecretKey } = await import("../service/rotate-secret-key.ts");
      const config = loadConfig({ configPath });
      await refuseIfServing(config.server.url);
      const outcome = await rotateInstallationSecretKey(config, newKey);
      const targets =
        outcome.notificationTargets > 0 ? ` and ${outcome.notificationTargets} notification target(s)` : "";
      const count = `${outcome.pipelineSecrets} pipeline and ${outcome.globalSecrets} global secret(s)${targets}`;
      process.stdout.write(
        outcome.keyFileReplaced
          ? `Re-encrypted ${count}; the key file ${config.secret_store.sqlite.key_file} now holds the new key.\n`
          : `Re-encrypted ${count} under the new key. Now set secret_store.sqlite.encryption_key (or ` +
              "GOFER_WEB_SECRET_STORE__SQLITE__ENCRYPTION_KEY) to the new key before starting the server: " +
              "the old key no longer opens the secrets.\n",
      );
    });

  service
    .command("migrate-storage")
    .description(
      "Copy a whole installation from its SQLite file into an empty PostgreSQL database, in one transaction, " +
        "and verify every table's row count. Stop the server first; the SQLite file is only read. Logs, " +
        "object contents and the secret key file are not in the database and stay where they are",
    )
    .option("--from <path>", "the SQLite database file (default: server.storage_path of --config)")
    .requiredOption("--to <url>", "the target: postgres://user:password@host:port/database, empty")
    .option("--connect-timeout <seconds>", "how long to keep trying to reach PostgreSQL", "10")
    .action(async (options: { from?: string; to: string; connectTimeout: string }, command: Command) => {
      const flags = command.optsWithGlobals<{ config?: string; output?: OutputFormat; json?: boolean }>();
      const out = new Printer({ format: flags.json ? "json" : (flags.output ?? "table"), detail: false });
      const { databaseUrlProblem } = await import("../config/database-url.ts");
      const { maskDatabaseUrl } = await import("../support/database-url.ts");
      const problem = databaseUrlProblem(options.to);
      if (problem !== undefined) {
        throw new CliError(`--to ${maskDatabaseUrl(options.to)} ${problem}`, { exitCode: 2 });
      }
      const seconds = Number(options.connectTimeout);
      if (!Number.isFinite(seconds) || seconds <= 0) {
        throw new CliError(`--connect-timeout must be a number of seconds, got ${options.connectTimeout}`, {
          exitCode: 2,
        });
      }
      const { loadConfig } = await import("../config/index.ts");
      const { migrateStorage, StorageCopyError } = await import("../service/migrate-storage.ts");
      const config = loadConfig({ configPath: flags.config });
      const sourcePath = resolve(options.from ?? config.server.storage_path);
      let report: MigrateStorageReport;
      try {
        report = await migrateStorage(config, {
          sourcePath,
          targetUrl: options.to,
          connectTimeoutMs: seconds * 1000,
          onTable: (table, rows) => {
            if (process.stderr.isTTY) out.note(`copied ${table}: ${rows} row(s)`);
          },
        });
      } catch (error) {
        if (error instanceof StorageCopyError) throw new CliError(error.message, { hint: error.hint });
        throw error;
      }
      const kept = report.left_in_place;
      out.result(report, () => [
        `Copied ${report.source} into ${report.target} (schema ${report.schema_version}, instance ${report.instance_id}).`,
        "",
        out.table(
          ["table", "sqlite", "postgresql"],
          report.tables.map((count) => [count.table, String(count.sqlite), String(count.postgres)]),
        ),
        "",
        `Verified: every table holds as many rows in PostgreSQL as in SQLite. New ids continue after the copied ones (${report.sequences.map((s) => `${s.table}.${s.column} from ${s.next}`).join(", ")}).`,
        `The SQLite file was only read${report.in_use_check === "unavailable" ? " (this system cannot tell whether another process has it open: make sure the server is stopped)" : ""}.`,
        "Not in the database, so left where they are:",
        `  task logs      ${kept.task_logs}`,
        `  object files   ${kept.objects}`,
        `  secret key     ${kept.secret_key} (secrets were copied still encrypted under it)`,
        "Next: start the server with server.database_url (GOFER_WEB_SERVER__DATABASE_URL) set to the target, the " +
          "same server.data_dir and the same secret key; keep the SQLite file until you have checked the new server.",
      ]);
    });
}

function readNewKeyFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new CliError(
      `cannot read --new-key-file ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
}

/**
 * A running server keeps the old key in memory and would write values the new key cannot open, so rotation
 * refuses while the configured address answers. (A server on another address is not detected.)
 */
async function refuseIfServing(url: string): Promise<void> {
  if (url.endsWith(":0")) return;
  const answered = await fetch(`${url}/api/system/metadata`, {
    headers: { "gofer-api-version": "v0" },
    signal: AbortSignal.timeout(1000),
  }).then(
    () => true,
    () => false,
  );
  if (answered) {
    throw new CliError(`a Gofer server is answering at ${url}; stop it before rotating the secret key`, {
      hint: "rotation works on the database directly, and a running server would keep using the old key",
    });
  }
}
