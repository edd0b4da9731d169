/** What every WebSocket route shares: its answer to plain HTTP, and close reasons that fit a close frame. */
import { GoferError } from "../domain/errors.ts";

/** A close frame carries at most 123 bytes of reason. */
const MAX_REASON_BYTES = 123;

/** The handler of a route that speaks only WebSocket, for a request that did not ask to upgrade. */
export async function refusePlainHttp(): Promise<never> {
  throw new GoferError(
    "BAD_REQUEST",
    "This route is a WebSocket; connect with an Upgrade: websocket request",
  );
}

/**
 * `error`'s message cut to what a close frame can carry, on a character boundary: a longer reason makes `ws`
 * throw instead of closing.
 */
export function closeReason(error: unknown, fallback: string): string {
  let reason = error instanceof Error ? error.message : fallback;
  while (Buffer.byteLength(reason) > MAX_REASON_BYTES) reason = reason.slice(0, -1);
  return reason;
}
