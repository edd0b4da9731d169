/** Taking an event's externally tagged kind apart, so code that reads events narrows by name instead of coercing fields. */
import type { EventDetailsByKind, EventKindName, EventOf, GoferEvent } from "./wire-types.ts";

/** The kind's name and its details; `name` narrows `details` to that kind's fields. */
export function eventOf(event: Pick<GoferEvent, "kind">): EventOf {
  const [name, details] = Object.entries(event.kind)[0] as [EventKindName, EventDetailsByKind[EventKindName]];
  return { name, details } as EventOf;
}
