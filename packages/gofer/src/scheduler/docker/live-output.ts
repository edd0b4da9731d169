/**
 * A container's output as its attach stream delivers it ({@link LiveOutput}): large pieces straight from the
 * container's pipes, far faster than the timestamped logs endpoint. Each piece is positioned by the bytes of
 * each stream so far; the engine's log holds the same bytes, so a reader cut off part-way resumes there through
 * the logs endpoint (from the log's first byte, skipping what it has).
 */
import type { Duplex } from "node:stream";
import type { LiveOutput, LogChunk } from "../scheduler.ts";
import { toSchedulerError } from "./engine-errors.ts";
import { demuxLogStream } from "./log-demux.ts";
import type { EngineLogCursor } from "./log-position.ts";

export function liveOutput(connection: Duplex, what: string): LiveOutput {
  async function* chunks(): AsyncGenerator<LogChunk> {
    const total = { stdout: 0, stderr: 0 };
    try {
      for await (const chunk of demuxLogStream(connection)) {
        total[chunk.stream] += chunk.data.length;
        const position: EngineLogCursor = { stdout: total.stdout, stderr: total.stderr };
        yield { stream: chunk.stream, data: chunk.data, position };
      }
    } catch (error) {
      throw toSchedulerError(`could not read the output of ${what}`, error);
    } finally {
      connection.destroy();
    }
  }
  return { chunks: chunks(), close: () => connection.destroy() };
}
