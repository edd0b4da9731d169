/**
 * An extension's output, straight from its container as blocks of whole lines, each ending in "\n". Unlike task logs it is not
 * stored (v0 streamed `docker logs` too): it is diagnostics for a long-running service, and the container keeps
 * it for as long as the container lives.
 */
import { LineSplitter } from "../logs/line-splitter.ts";
import type { Scheduler } from "../scheduler/scheduler.ts";

const NEWLINE = Buffer.from("\n");

export async function* extensionLogBlocks(
  scheduler: Scheduler,
  containerId: string,
  follow: boolean,
  signal: AbortSignal,
): AsyncGenerator<Buffer> {
  // One splitter per stream: a partial stdout line must not be glued to a stderr line.
  const splitters = { stdout: new LineSplitter(), stderr: new LineSplitter() };
  for await (const chunk of scheduler.logs(containerId, { follow, signal })) {
    if (signal.aborted) return;
    yield* splitters[chunk.stream].pushBlock(chunk.data);
  }
  for (const splitter of Object.values(splitters)) {
    const rest = splitter.flush();
    if (rest) yield Buffer.concat([rest, NEWLINE]);
  }
}
