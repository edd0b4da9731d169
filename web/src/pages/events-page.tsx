/**
 * Events as they happen, after the most recent stored ones, newest on top; older ones a page at a time. A filter
 * (kind, pipeline, run) kept in the address narrows the list and the pages read, and each pipeline, run and task an
 * event names links to its page.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { openApiSocket } from "../api/client.ts";
import { eventKind, onEvent } from "../api/event-stream.ts";
import type { GoferEvent } from "../api/types.ts";
import { Link } from "../components/link.tsx";
import { Time } from "../components/time.tsx";
import {
  type EventFilter,
  eventFilterSearch,
  eventScope,
  matchesEventFilter,
  NO_FILTER,
  OlderEvents,
  type OlderEventsEnd,
  parseEventFilter,
} from "../lists/event-filter.ts";
import { paths } from "../router.ts";
import "../styles/lists.css";

/** Matching events a page of history adds. */
const PAGE = 100;
/**
 * Events read at most per click: each request starts below the oldest event held, so this bounds only how long
 * one click reads for a filter that matches little; it stops there, says so, and the next click reads on.
 */
const MAX_READ = 10_000;
/** Live events kept beyond those read from history, so a page left open does not grow without end. */
const KEEP_LIVE = 1000;

const newestFirst = (a: GoferEvent, b: GoferEvent) => {
  const difference = BigInt(b.id) - BigInt(a.id);
  return difference > 0n ? 1 : difference < 0n ? -1 : 0;
};

export function EventsPage() {
  const [filter, setFilter] = useState<EventFilter>(() => parseEventFilter(location.search));
  const [events, setEvents] = useState<GoferEvent[]>([]);
  // The first page of history is read as the page opens.
  const [reading, setReading] = useState(true);
  const [exhausted, setExhausted] = useState(false);
  /** How many events the last click read before its bound stopped it; 0 when it was not stopped. */
  const [stoppedAfter, setStoppedAfter] = useState(0);
  const [error, setError] = useState("");
  const seen = useRef(new Set<string>());
  /** The oldest event read from history: the next page starts below it. */
  const oldest = useRef<string | undefined>(undefined);
  const limit = useRef(KEEP_LIVE);
  const socket = useRef<WebSocket | undefined>(undefined);

  const merge = (incoming: GoferEvent[]) => {
    const fresh = incoming.filter((event) => !seen.current.has(event.id));
    for (const event of fresh) seen.current.add(event.id);
    if (fresh.length === 0) return;
    setEvents((list) => {
      const merged = [...list, ...fresh].sort(newestFirst);
      if (merged.length <= limit.current) return merged;
      const kept = merged.slice(0, limit.current);
      // The dropped ones can be read again as older events.
      oldest.current = kept.at(-1)?.id;
      for (const event of merged.slice(limit.current)) seen.current.delete(event.id);
      setExhausted(false);
      return kept;
    });
  };

  /**
   * Reads older stored events, one request at a time below the oldest held, until `want` match `current`, the
   * history begins, or the click's bound is reached.
   */
  const readOlder = (want: number, current: EventFilter) => {
    if (socket.current) return;
    const page = new OlderEvents({
      before: oldest.current,
      want,
      maxRead: MAX_READ,
      matches: (event) => matchesEventFilter(event, current),
    });
    setReading(true);
    setStoppedAfter(0);
    let stopped = false;
    const finish = (end: OlderEventsEnd | "broken") => {
      stopped = true;
      socket.current = undefined;
      setReading(false);
      limit.current += page.read.length;
      merge(page.read);
      if (page.oldest !== undefined) oldest.current = page.oldest;
      if (end === "beginning") setExhausted(true);
      if (end === "bounded") setStoppedAfter(page.read.length);
    };
    const request = () => {
      const history = openApiSocket(page.nextPath());
      socket.current = history;
      let received = 0;
      let full = false;
      history.onmessage = (message) => {
        if (full || stopped || socket.current !== history || typeof message.data !== "string") return;
        received += 1;
        let event: GoferEvent;
        try {
          event = JSON.parse(message.data) as GoferEvent;
        } catch {
          return;
        }
        if (!page.take(event)) {
          full = true;
          history.close(1000);
          finish("full");
        }
      };
      history.onclose = (event) => {
        if (full || stopped || socket.current !== history) return;
        if (event.code !== 1000 && event.code !== 1005) {
          if (received === 0 && page.read.length === 0)
            setError("Events cannot be read with this token; sign in with one that may read events");
          finish("broken");
          return;
        }
        const next = page.requestEnded(received);
        if (next === "more") request();
        else finish(next);
      };
    };
    request();
  };

  useEffect(() => {
    const unsubscribe = onEvent((event) => merge([event]));
    readOlder(PAGE, filter);
    return () => {
      unsubscribe();
      socket.current?.close(1000);
      socket.current = undefined;
    };
  }, []);

  const shown = events.filter((event) => matchesEventFilter(event, filter));
  const change = (next: EventFilter) => {
    setFilter(next);
    history.replaceState(null, "", `/events${eventFilterSearch(next)}`);
    const matching = events.filter((event) => matchesEventFilter(event, next)).length;
    if (matching < PAGE && !exhausted) readOlder(PAGE - matching, next);
  };

  const kinds = [...new Set([...events.map((event) => eventKind(event).name as string), filter.kind])]
    .filter(Boolean)
    .sort();
  const pipelineOf = (namespace: string, pipeline: string) => `${namespace}/${pipeline}`;
  const pipelines = [
    ...new Set([
      ...events.flatMap((event) => {
        const scope = eventScope(event);
        return scope.namespace && scope.pipeline ? [pipelineOf(scope.namespace, scope.pipeline)] : [];
      }),
      ...(filter.pipeline ? [pipelineOf(filter.namespace, filter.pipeline)] : []),
    ]),
  ].sort();
  const filtered = filter.kind !== "" || filter.pipeline !== "";

  return (
    <main>
      <div class="page-head">
        <h1>Events</h1>
      </div>
      <div class="list-controls">
        <label class="inline">
          Kind
          <select
            aria-label="Event kind"
            value={filter.kind}
            onChange={(event) => change({ ...filter, kind: event.currentTarget.value })}
          >
            <option value="">all</option>
            {kinds.map((kind) => (
              <option key={kind} value={kind}>
                {kind}
              </option>
            ))}
          </select>
        </label>
        <label class="inline">
          Pipeline
          <select
            aria-label="Pipeline"
            value={filter.pipeline ? pipelineOf(filter.namespace, filter.pipeline) : ""}
            onChange={(event) => {
              const value = event.currentTarget.value;
              const slash = value.indexOf("/");
              change({
                ...filter,
                namespace: slash < 0 ? "" : value.slice(0, slash),
                pipeline: slash < 0 ? "" : value.slice(slash + 1),
                run: undefined,
              });
            }}
          >
            <option value="">all</option>
            {pipelines.map((pipeline) => (
              <option key={pipeline} value={pipeline}>
                {pipeline}
              </option>
            ))}
          </select>
        </label>
        {filter.pipeline && (
          <label class="inline">
            Run
            <input
              aria-label="Run"
              type="number"
              min={1}
              size={6}
              placeholder="any"
              value={filter.run ?? ""}
              onChange={(event) => {
                const run = Number(event.currentTarget.value);
                change({ ...filter, run: Number.isInteger(run) && run > 0 ? run : undefined });
              }}
            />
          </label>
        )}
        {filtered && (
          <button type="button" onClick={() => change(NO_FILTER)}>
            Clear filter
          </button>
        )}
      </div>
      {error && (
        <p class="error-note" role="alert">
          {error}
        </p>
      )}
      <ol class="events" role="log" aria-label="Events" aria-live="polite">
        {shown.map((event) => (
          <EventRow key={event.id} event={event} />
        ))}
      </ol>
      {shown.length === 0 && !error && !reading && (
        <p class="empty">
          {filtered ? "No events match this filter yet." : "No events yet; they appear here as they happen."}
        </p>
      )}
      {!error && (
        <div class="events-more">
          {exhausted ? (
            <span class="muted">That is every stored event.</span>
          ) : (
            <>
              <button type="button" disabled={reading} onClick={() => readOlder(PAGE, filter)}>
                {reading ? "Reading…" : "Older events"}
              </button>
              {stoppedAfter > 0 && !reading && (
                <span class="muted" role="status">
                  Stopped after reading {stoppedAfter.toLocaleString("en")} older events; Older events reads
                  on from there.
                </span>
              )}
            </>
          )}
        </div>
      )}
    </main>
  );
}

function EventRow({ event }: { event: GoferEvent }) {
  const { name, details } = eventKind(event);
  const scope = eventScope(event);
  const { namespace, pipeline, run, task } = scope;
  const linkOf = (key: string): string | undefined => {
    if (namespace === undefined) return undefined;
    if (key === "namespace_id") return paths.namespace(namespace);
    if (pipeline === undefined) return undefined;
    if (key === "pipeline_id") return paths.pipeline(namespace, pipeline);
    if (run === undefined) return undefined;
    if (key === "run_id") return paths.run(namespace, pipeline, run);
    if (key === "task_execution_id" && task !== undefined) return paths.task(namespace, pipeline, run, task);
    return undefined;
  };
  const entries = Object.entries(details);
  return (
    <li data-event-id={event.id}>
      <span class="event-id">#{event.id}</span>
      <span class="event-kind">{name}</span>
      <span class="event-details">
        {entries.map(([key, value], index) => {
          const text = typeof value === "object" ? JSON.stringify(value) : String(value);
          const href = linkOf(key);
          return (
            <span key={key}>
              {index > 0 ? "  " : ""}
              {key}={href ? <Link href={href}>{text}</Link> : text}
            </span>
          );
        })}
      </span>
      <Time at={event.emitted} />
    </li>
  );
}
