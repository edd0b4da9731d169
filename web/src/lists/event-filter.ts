/**
 * The events page's filter (a kind, a pipeline, a run of it), kept in the page's address so a filtered list can
 * be linked to, and the reading of older events a page at a time from the history stream, which has no cursor of
 * its own: it sends the newest first, and the page skips what it already holds.
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

/**
 * One page of older events read from a newest-first history stream: events at or after `before` (already shown)
 * are passed over, the rest kept until `want` of them match the filter, or `maxRead` events were read, so that a
 * filter nothing matches does not read the whole history in one click.
 */
export class OlderEvents {
  readonly read: GoferEvent[] = [];
  matched = 0;
  readonly #before: bigint | undefined;
  readonly #want: number;
  readonly #maxRead: number;
  readonly #matches: (event: GoferEvent) => boolean;

  constructor(options: {
    before: string | undefined;
    want: number;
    maxRead: number;
    matches: (event: GoferEvent) => boolean;
  }) {
    this.#before = options.before === undefined ? undefined : BigInt(options.before);
    this.#want = options.want;
    this.#maxRead = options.maxRead;
    this.#matches = options.matches;
  }

  /** Takes the next event of the stream; false once the page is full and the stream should be closed. */
  take(event: GoferEvent): boolean {
    if (this.#before !== undefined && BigInt(event.id) >= this.#before) return true;
    this.read.push(event);
    if (this.#matches(event)) this.matched += 1;
    return this.matched < this.#want && this.read.length < this.#maxRead;
  }

  /** The oldest event read: where the next page starts. */
  get oldest(): string | undefined {
    return this.read.at(-1)?.id;
  }
}
