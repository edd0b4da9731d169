/** `gofer event …`: the server's record of everything that happened, as history or as a live stream. */
import type { GoferClient, GoferEvent } from "@gofer/sdk/client";
import { type Command, InvalidArgumentError } from "commander";
import { positiveInteger } from "./arguments.ts";
import { CliError } from "./cli-error.ts";
import { contextOf } from "./command-context.ts";
import type { Printer } from "./output/printer.ts";

export function registerEventCommands(program: Command): void {
  const event = program.command("event").description("Read the event log");

  event
    .command("get <id>")
    .description("Show one event")
    .action(async (id: string, _options, command: Command) => {
      const { client, out } = contextOf(command);
      const item = await client.events.get(eventId(id));
      out.result(item, () => formatEvent(out, item));
    });

  event
    .command("list")
    .description(
      "Print past events (oldest first), and with --follow, new ones as they happen; a page at a time with " +
        "--before or --after and --limit",
    )
    .option("-r, --reverse", "newest first (history only)")
    .option("-f, --follow", "keep printing new events until interrupted")
    .option(
      "--before <id>",
      "only events older than this event id, newest first (implies --reverse)",
      eventId,
    )
    .option("--after <id>", "only events newer than this event id, oldest first", eventId)
    .option("-l, --limit <n>", "print at most this many events", positiveInteger)
    .action(async (options: EventListOptions, command: Command) => {
      const { client, out } = contextOf(command);
      const reverse = options.reverse === true || options.before !== undefined;
      refuseContradictions(options, reverse);
      const window = {
        ...(options.before !== undefined && { before: options.before }),
        ...(options.after !== undefined && { after: options.after }),
        ...(options.limit !== undefined && { limit: options.limit }),
      };
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once("SIGINT", stop);
      const { signal } = controller;
      try {
        if (reverse) {
          // Newest first is history only: the server closes this stream after the oldest event (or the limit).
          let printed = 0;
          let oldest: string | undefined;
          for await (const item of client.events.stream({
            history: true,
            reverse: true,
            ...window,
            signal,
          })) {
            print(out, item);
            printed += 1;
            oldest = item.id;
          }
          if (options.limit !== undefined && printed === options.limit && !out.json)
            out.note(`Older events may follow: gofer event list --before ${oldest} --limit ${options.limit}`);
        } else if (options.follow) {
          // Forward history continues with live events on the same stream, so nothing falls between the two.
          for await (const item of client.events.stream({ history: true, ...window, signal }))
            print(out, item);
        } else {
          // A forward history stream never ends on its own; stop at the newest event that existed when asked.
          const newest = await newestEventId(client, signal);
          if (newest === undefined || (options.after !== undefined && BigInt(options.after) >= newest))
            return;
          for await (const item of client.events.stream({ history: true, ...window, signal })) {
            print(out, item);
            if (BigInt(item.id) >= newest) break;
          }
        }
      } catch (error) {
        if (!controller.signal.aborted) throw error;
      } finally {
        process.removeListener("SIGINT", stop);
      }
    });

  event
    .command("delete <id>")
    .description("Delete one event")
    .action(async (id: string, _options, command: Command) => {
      const { client, out } = contextOf(command);
      await client.events.delete(eventId(id));
      out.result({ deleted: id }, () => `Deleted event ${id}`);
    });
}

interface EventListOptions {
  reverse?: boolean;
  follow?: boolean;
  before?: string;
  after?: string;
  limit?: number;
}

/** Flags that ask for two directions at once are refused before the server is asked. */
function refuseContradictions(options: EventListOptions, reverse: boolean): void {
  if (options.follow && reverse)
    throw new CliError(
      `${options.before === undefined ? "--reverse" : "--before"} cannot be combined with --follow`,
      {
        hint: "newest-first only makes sense for history; drop one of them",
      },
    );
  if (options.after !== undefined && options.before !== undefined)
    throw new CliError("--before and --after cannot be combined", {
      hint: "page back with --before and --limit, or forward with --after and --limit",
    });
  if (options.after !== undefined && reverse)
    throw new CliError("--after cannot be combined with --reverse", {
      hint: "--after reads forward from an event; to page back from one use --before",
    });
}

async function newestEventId(client: GoferClient, signal: AbortSignal): Promise<bigint | undefined> {
  for await (const item of client.events.stream({ history: true, reverse: true, signal }))
    return BigInt(item.id);
  return undefined;
}

/** Event ids are decimal numbers; anything else is a usage error, caught before asking the server. */
function eventId(text: string): string {
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError(`expected an event id (a number), got "${text}"`);
  return text;
}

/** Events stream as JSON lines in JSON mode, so `--follow` output can be piped to `jq`. */
function print(out: Printer, item: GoferEvent): void {
  out.stdout.write(out.json ? `${JSON.stringify(item)}\n` : `${formatEvent(out, item)}\n`);
}

function formatEvent(out: Printer, item: GoferEvent): string {
  const [kind = "unknown", details = {}] = Object.entries(item.kind)[0] ?? [];
  const where = Object.entries(details as Record<string, unknown>)
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ");
  return `${out.style.paint("dim", item.id.padStart(6))}  ${out.time(item.emitted).padEnd(10)}  ${out.style.paint("bold", kind)}  ${where}`;
}
