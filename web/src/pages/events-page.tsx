/** Events as they happen, after the most recent stored ones, newest on top. */
import { useEffect, useState } from "preact/hooks";
import { openApiSocket } from "../api/client.ts";
import { eventKind, onEvent } from "../api/event-stream.ts";
import type { GoferEvent } from "../api/types.ts";
import { exactTime, when } from "../format.ts";

const HISTORY = 100;
const KEEP = 1000;

export function EventsPage() {
  const [events, setEvents] = useState<GoferEvent[]>([]);
  const [filter, setFilter] = useState("");
  const [error, setError] = useState("");

  useEffect(() => {
    const seen = new Set<string>();
    const add = (incoming: GoferEvent[], atTop: boolean) => {
      const fresh = incoming.filter((event) => !seen.has(event.id));
      for (const event of fresh) seen.add(event.id);
      if (fresh.length)
        setEvents((list) => (atTop ? [...fresh, ...list] : [...list, ...fresh]).slice(0, KEEP));
    };
    const unsubscribe = onEvent((event) => add([event], true));
    // The newest stored events, newest first; the socket closes by itself after them.
    const history = openApiSocket("/api/events?history=true&reverse=true");
    let received = 0;
    history.onmessage = (message) => {
      if (typeof message.data !== "string") return;
      received += 1;
      if (received > HISTORY) {
        history.close(1000);
        return;
      }
      try {
        add([JSON.parse(message.data) as GoferEvent], false);
      } catch {
        // Not an event: ignored.
      }
    };
    history.onclose = (event) => {
      if (event.code !== 1000 && event.code !== 1005 && received === 0) {
        setError("Events cannot be read with this token; sign in with one that may read events");
      }
    };
    return () => {
      unsubscribe();
      history.close(1000);
    };
  }, []);

  const kinds = [...new Set(events.map((event) => eventKind(event).name))].sort();
  const shown = filter ? events.filter((event) => eventKind(event).name === filter) : events;
  return (
    <main>
      <div class="page-head">
        <h1>Events</h1>
        <label class="inline">
          Kind
          <select value={filter} onChange={(event) => setFilter(event.currentTarget.value)}>
            <option value="">all</option>
            {kinds.map((kind) => (
              <option key={kind} value={kind}>
                {kind}
              </option>
            ))}
          </select>
        </label>
      </div>
      {error && (
        <p class="error-note" role="alert">
          {error}
        </p>
      )}
      <ol class="events" role="log" aria-label="Events" aria-live="polite">
        {shown.map((event) => {
          const { name, details } = eventKind(event);
          return (
            <li key={event.id}>
              <span class="event-id">#{event.id}</span>
              <span class="event-kind">{name}</span>
              <span class="event-details">
                {Object.entries(details)
                  .map(
                    ([key, value]) =>
                      `${key}=${typeof value === "object" ? JSON.stringify(value) : String(value)}`,
                  )
                  .join("  ")}
              </span>
              <time title={exactTime(event.emitted)}>{when(event.emitted)}</time>
            </li>
          );
        })}
      </ol>
      {shown.length === 0 && !error && <p class="empty">No events yet; they appear here as they happen.</p>}
    </main>
  );
}
