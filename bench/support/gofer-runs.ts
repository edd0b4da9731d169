/**
 * Timing runs through a Gofer server the way a client sees them: from the POST that starts a run to the arrival
 * of its `completed_run` event on the server's event stream, with no polling delay in the measurement. Every
 * event received is kept with its arrival time, for benchmarks that break a run down afterwards.
 */
import { WebSocket } from "ws";
import { startRun } from "../../packages/gofer/test/support/pipelines.ts";
import type { TestServer } from "../../packages/gofer/test/support/test-server.ts";

export interface ReceivedEvent {
  kind: string;
  details: Record<string, unknown>;
  /** When the server stored it (epoch ms). */
  emitted: number;
  /** When it reached the benchmark (epoch ms). */
  arrived: number;
}

export interface EventWatch {
  ready: Promise<void>;
  /** Resolves when the run's `completed_run` event has arrived (at once if it already has). */
  done(pipelineId: string, runId: number): Promise<void>;
  /** Every event received so far, in arrival order. */
  readonly received: ReceivedEvent[];
  close(): void;
}

export function watchEvents(server: TestServer): EventWatch {
  const socket = new WebSocket(`${server.url.replace("http", "ws")}/api/events`, {
    headers: { "gofer-api-version": "v0", authorization: `Bearer ${server.token}` },
  });
  const waiting = new Map<string, () => void>();
  const completed = new Set<string>();
  const received: ReceivedEvent[] = [];
  socket.on("message", (data) => {
    const arrived = Date.now();
    const event = JSON.parse(String(data)) as {
      kind: Record<string, Record<string, unknown>>;
      emitted: number;
    };
    const [kind, details] = Object.entries(event.kind)[0] ?? ["unknown", {}];
    received.push({ kind, details, emitted: event.emitted, arrived });
    if (kind !== "completed_run") return;
    const key = `${details.pipeline_id}/${details.run_id}`;
    completed.add(key);
    waiting.get(key)?.();
  });
  return {
    ready: new Promise((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    }),
    done: (pipelineId, runId) =>
      new Promise((resolve) => {
        const key = `${pipelineId}/${runId}`;
        if (completed.has(key)) resolve();
        else waiting.set(key, resolve);
      }),
    received,
    close: () => socket.close(),
  };
}

/** Starts a run and waits for its `completed_run` event; resolves with its id and the milliseconds it took. */
export async function timedRun(
  server: TestServer,
  watch: EventWatch,
  pipelineId: string,
): Promise<{ runId: number; ms: number; began: number }> {
  await watch.ready;
  const began = Date.now();
  const start = performance.now();
  const runId = await startRun(server, pipelineId);
  await watch.done(pipelineId, runId);
  return { runId, ms: performance.now() - start, began };
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
