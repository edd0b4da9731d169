/**
 * Prints a log stream (a task's or an extension's) until it ends or the user presses Ctrl-C, which ends the
 * command quietly. Logs are data in either output mode: JSON output is one JSON string per line.
 */
import type { Printer } from "./printer.ts";

export async function printLogLines(
  out: Printer,
  open: (signal: AbortSignal) => AsyncIterable<string>,
): Promise<void> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  try {
    for await (const line of open(controller.signal))
      out.stdout.write(out.json ? `${JSON.stringify(line)}\n` : `${line}\n`);
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    process.removeListener("SIGINT", stop);
  }
}
