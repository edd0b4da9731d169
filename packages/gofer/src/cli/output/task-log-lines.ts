/**
 * Prints a task's log with what each line's stream and time say: `--timestamps` puts the time a line arrived
 * before it, a terminal shows stderr lines in red, and JSON output is one line object per line. A plain pipe
 * without `--timestamps` gets the log's text as it is stored, as before.
 */
import type { Printer } from "./printer.ts";

/** One line as the server's `format=lines` answers it. */
export interface LogLineObject {
  line: string;
  stream?: "stdout" | "stderr";
  time?: number;
}

export interface TaskLogPrintOptions {
  timestamps: boolean;
}

/** Where the time of a line the server has none for goes: as wide as a time, so the lines stay aligned. */
const NO_TIME = "-".padEnd(new Date(0).toISOString().length, " ");

/** Whether the lines must be read as objects: plain text says neither stream nor time. */
export function needsLineObjects(out: Printer, options: TaskLogPrintOptions): boolean {
  return out.json || options.timestamps || out.style.enabled;
}

/** One line for people: its time first when asked, red when it came from stderr and colour is on. */
export function formatTaskLogLine(out: Printer, item: LogLineObject, options: TaskLogPrintOptions): string {
  const text = item.stream === "stderr" ? out.style.paint("red", item.line) : item.line;
  if (!options.timestamps) return text;
  const time = item.time === undefined ? NO_TIME : new Date(item.time).toISOString();
  return `${out.style.paint("dim", time)} ${text}`;
}

/** Prints `open`'s lines until they end or the user presses Ctrl-C, which ends the command quietly. */
export async function printTaskLogLines(
  out: Printer,
  options: TaskLogPrintOptions,
  open: (signal: AbortSignal) => AsyncIterable<LogLineObject>,
): Promise<void> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  try {
    for await (const item of open(controller.signal)) {
      out.stdout.write(out.json ? `${JSON.stringify(item)}\n` : `${formatTaskLogLine(out, item, options)}\n`);
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    process.removeListener("SIGINT", stop);
  }
}
