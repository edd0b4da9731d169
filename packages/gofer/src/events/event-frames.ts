/**
 * An event as the text frame every WebSocket stream sends: serialised and encoded once however many streams
 * carry it (the bus hands the same event object to every listener), not once per stream.
 *
 * Holding a stream's frames back to write a turn's worth at once (corking its TCP socket until `setImmediate`)
 * was measured and left out (bench/event-stream.bench.ts, 500 streams, 100-task fan-out): it halved the CPU the
 * fan-out adds to the server thread, but node:sqlite commits synchronously, so a turn is long and a frame held
 * to its end waited: the median delivery took four times as long (about 50 ms instead of 13), and the run time
 * did not measurably improve. Corking only until the delivering microtask ends batches nothing: in a fan-out
 * each delivery carries one event.
 */
import type { GoferEvent } from "../domain/models.ts";

/** Kept as long as the event object lives. */
const payloads = new WeakMap<GoferEvent, Buffer>();

/** The event's JSON text, UTF-8 encoded; send it with `{ binary: false }` to make a text frame. */
export function eventPayload(event: GoferEvent): Buffer {
  let payload = payloads.get(event);
  if (payload === undefined) {
    payload = Buffer.from(JSON.stringify(event));
    payloads.set(event, payload);
  }
  return payload;
}
