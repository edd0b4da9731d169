/** `gofer event …`: the server's record of everything that happened, as history or as a live stream. */
import type { GoferClient, GoferEvent } from "@gofer/sdk/client";
import { type Command, InvalidArgumentError } from "commander";
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
    .description("Print past events (oldest first), and with --follow, new ones as they happen")
    .option("-r, --reverse", "newest first (history only)")
    .option("-f, --follow", "keep printing new events until interrupted")
    .action(async (options: { reverse?: boolean; follow?: boolean }, command: Command) => {
      const { client, out } = contextOf(command);
      if (options.follow && options.reverse)
        throw new CliError("--reverse cannot be combined with --follow", {
          hint: "newest-first only makes sense for history; drop one of them",
        });
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once("SIGINT", stop);
      const { signal } = controller;
      try {
        if (options.reverse) {
          // Newest first is history only: the server closes this stream after the oldest event.
          for await (const item of client.events.stream({ history: true, reverse: true, signal }))
            print(out, item);
        } else if (options.follow) {
          // Forward history continues with live events on the same stream, so nothing falls between the two.
          for await (const item of client.events.stream({ history: true, signal })) print(out, item);
        } else {
          // A forward history stream never ends on its own; stop at the newest event that existed when asked.
          const newest = await newestEventId(client, signal);
          if (newest === undefined) return;
          for await (const item of client.events.stream({ history: true, signal })) {
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
