/**
 * How a failed Engine API call becomes a {@link SchedulerError}, shared by the backends that speak the Docker
 * Engine API (one engine, or a swarm through a manager): whether retrying can help follows from the answer.
 */
import { SchedulerError } from "../scheduler.ts";
import { EngineError, EngineUnreachableError } from "./engine-client.ts";

/** Runs an engine call, turning every failure into a {@link SchedulerError} that keeps the original as cause. */
export async function guard<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toSchedulerError(what, error);
  }
}

export function toSchedulerError(what: string, error: unknown): SchedulerError {
  if (error instanceof SchedulerError) return error;
  // The address is the useful part here, whatever the operation was.
  if (error instanceof EngineUnreachableError) {
    return new SchedulerError(error.message, { cause: error, kind: "unavailable" });
  }
  if (error instanceof EngineError) {
    const kind = error.status === 404 ? "not_found" : error.status >= 500 ? "unavailable" : "failed";
    return new SchedulerError(`${what}: ${error.engineMessage}`, { cause: error, kind });
  }
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  // A connection that broke mid-answer (the engine restarting) is as retryable as one that was refused.
  const kind = code !== undefined && CONNECTION_LOST_CODES.has(code) ? "unavailable" : "failed";
  return new SchedulerError(`${what}: ${message}`, { cause: error, kind });
}

const CONNECTION_LOST_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED"]);
