/**
 * The events page's filter (a kind, a pipeline, a run of it), kept in the page's address so a filtered list can
 * be linked to, and the reading of older events a page at a time from the history stream's cursor (`before` the
 * oldest event held, `limit` events at most), so a click costs one page however long the history is.
 */
import type { EventDetailsByKind, EventKindName, GoferEvent } from "../api/types.ts";

export interface EventFilter {
  kind: string;
  namespace: string;
  pipeline: string;
  run: number | undefined;
}

export const NO_FILTER: EventFilter = { kind: "", namespace: "", pipeline: "", run: undefined };

export function parseEventFilter(search: string): EventFilter {
  const query = new URLSearchParams(search);
  const run = Number(query.get("run") ?? "");
  const pipeline = query.get("pipeline") ?? "";
  return {
    kind: query.get("kind") ?? "",
    namespace: pipeline ? (query.get("namespace") ?? "default") : "",
    pipeline,
    run: pipeline && Number.isInteger(run) && run > 0 ? run : undefined,
  };
}

/** The filter as a query string ("" when there is none), the inverse of {@link parseEventFilter}. */
export function eventFilterSearch(filter: EventFilter): string {
  const query = new URLSearchParams();
  if (filter.kind) query.set("kind", filter.kind);
  if (filter.pipeline) {
    query.set("namespace", filter.namespace);
    query.set("pipeline", filter.pipeline);
    if (filter.run !== undefined) query.set("run", String(filter.run));
  }
  const text = query.toString();
  return text ? `?${text}` : "";
}

/** What an event names: its pipeline, run and task, when it names them. */
export interface EventScope {
  namespace?: string;
  pipeline?: string;
  run?: number;
  task?: string;
}

export function eventScope(event: GoferEvent): EventScope {
  const [, details] = Object.entries(event.kind)[0] as [EventKindName, EventDetailsByKind[EventKindName]];
  const fields = details as Partial<Record<string, unknown>>;
  const text = (value: unknown) => (typeof value === "string" ? value : undefined);
  return {
    ...(text(fields.namespace_id) && { namespace: text(fields.namespace_id) }),
    ...(text(fields.pipeline_id) && { pipeline: text(fields.pipeline_id) }),
    ...(typeof fields.run_id === "number" && { run: fields.run_id }),
    ...(text(fields.task_execution_id) && { task: text(fields.task_execution_id) }),
  };
}

export function matchesEventFilter(event: GoferEvent, filter: EventFilter): boolean {
  if (filter.kind && Object.keys(event.kind)[0] !== filter.kind) return false;
  if (!filter.pipeline) return true;
  const scope = eventScope(event);
  if (scope.namespace !== filter.namespace || scope.pipeline !== filter.pipeline) return false;
  return filter.run === undefined || scope.run === filter.run;
}

/** Events asked of the server at most per request when a filter passes over most of them. */
const WIDEST_REQUEST = 1000;

/** How one reading of older events ended: `full` with a page of matches, or at the `beginning`, or `bounded`. */
export type OlderEventsEnd = "full" | "beginning" | "bounded";

/**
 * One page of older events, read from the history stream below the oldest event held: the first request asks
 * for as many as the page wants (all of them match when there is no filter), the next ones for more, until
 * `want` events match the filter, the history begins, or `maxRead` events were read, so that a filter matching
 * nothing does not read the whole history in one click.
 */
export class OlderEvents {
  readonly read: GoferEvent[] = [];
  matched = 0;
  readonly #before: string | undefined;
  readonly #want: number;
  readonly #maxRead: number;
  readonly #matches: (event: GoferEvent) => boolean;
  #asked = 0;

  constructor(options: {
    before: string | undefined;
    want: number;
    maxRead: number;
    matches: (event: GoferEvent) => boolean;
  }) {
    this.#before = options.before;
    this.#want = options.want;
    this.#maxRead = options.maxRead;
    this.#matches = options.matches;
  }

  /** The history stream's address for the next request: below the oldest event read or held, newest first. */
  nextPath(): string {
    const before = this.oldest ?? this.#before;
    const wanted = this.read.length === 0 ? this.#want : WIDEST_REQUEST;
    this.#asked = Math.max(1, Math.min(wanted, this.#maxRead - this.read.length));
    return `/api/events?history=true&reverse=true&limit=${this.#asked}${before === undefined ? "" : `&before=${before}`}`;
  }

  /** Takes the next event of the stream; false once the page is full and the stream should be closed. */
  take(event: GoferEvent): boolean {
    this.read.push(event);
    if (this.#matches(event)) this.matched += 1;
    return this.matched < this.#want;
  }

  /**
   * After the server closed a request's stream having sent `received` events: `more` to ask for the next
   * request, or how the reading ended. A request answered with fewer events than asked reached the beginning.
   */
  requestEnded(received: number): OlderEventsEnd | "more" {
    if (this.matched >= this.#want) return "full";
    if (received < this.#asked) return "beginning";
    if (this.read.length >= this.#maxRead) return "bounded";
    return "more";
  }

  /** The oldest event read: where the next page starts. */
  get oldest(): string | undefined {
    return this.read.at(-1)?.id;
  }
}
