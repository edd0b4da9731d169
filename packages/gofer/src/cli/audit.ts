/** `gofer audit …`: the audit trail, who changed what through the API and how it went (admin). */
import type { AuditRecord } from "@gofer/sdk/client";
import type { Command } from "commander";
import { pointInTime, positiveInteger } from "./arguments.ts";
import { contextOf } from "./command-context.ts";
import type { Printer } from "./output/printer.ts";

/** What the server answers when no --limit is given. */
const SERVER_DEFAULT_LIMIT = 100;

interface ListOptions {
  user?: string;
  target?: string;
  since?: number;
  until?: number;
  before?: number;
  limit?: number;
}

export function registerAuditCommands(program: Command): void {
  const audit = program
    .command("audit")
    .description("Read the audit trail of changes made through the API (admin)");

  audit
    .command("list")
    .description("Print the calls that could change something, newest first")
    .option("-u, --user <user>", "only calls made by this user (`anonymous` for calls without a token)")
    .option(
      "-t, --target <path>",
      "only calls on this target or below it, e.g. namespaces/default/pipelines/build",
    )
    .option(
      "--since <time>",
      "only calls at or after this time (epoch ms, ISO time, or a duration ago: 2h)",
      pointInTime,
    )
    .option("--until <time>", "only calls before this time (same forms as --since)", pointInTime)
    .option(
      "--before <id>",
      "only rows older than this id: the last id of the previous page",
      positiveInteger,
    )
    .option(
      "-l, --limit <count>",
      "at most this many rows (1-1000; the server's default is 100)",
      positiveInteger,
    )
    .action(async (options: ListOptions, command: Command) => {
      const { client, out } = contextOf(command);
      const records = await client.audit.list(options);
      out.result(records, () => formatRecords(out, records));
      const last = records.at(-1);
      if (!out.json && last && records.length === (options.limit ?? SERVER_DEFAULT_LIMIT))
        out.note(`More may be older: add --before ${last.id} for the next page.`);
    });
}

function formatRecords(out: Printer, records: AuditRecord[]): string {
  return out.table(
    ["id", "time", "user", "operation", "target", "outcome", "client"],
    records.map((record) => [
      String(record.id),
      out.time(record.time),
      record.user,
      record.operation,
      record.target,
      outcomeText(out, record),
      record.forwarded_by ? `${record.client_address} (via ${record.forwarded_by})` : record.client_address,
    ]),
  );
}

function outcomeText(out: Printer, record: AuditRecord): string {
  if (record.outcome === "succeeded") return `${out.style.paint("green", "succeeded")} ${record.status}`;
  return `${out.style.paint("red", "failed")} ${record.status}${record.error_code ? ` ${record.error_code}` : ""}`;
}
