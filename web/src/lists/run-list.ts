/**
 * A pipeline's runs a page at a time, newest first, optionally narrowed to one status. A page asks for one run
 * more than it shows: that run's presence is how the page knows older runs exist, without counting them all.
 */
import type { RunListStatus } from "../../../packages/sdk/src/client/wire-types.ts";

export const RUNS_PER_PAGE = 25;

/** The words the server narrows a run list by (`status` on the runs list), in the order the filter offers them. */
export const RUN_FILTERS: readonly RunListStatus[] = [
  "running",
  "pending",
  "successful",
  "failed",
  "cancelled",
];
export type RunFilter = RunListStatus;

export function isRunFilter(value: string): value is RunFilter {
  return (RUN_FILTERS as readonly string[]).includes(value);
}

/** The query of page `page` (0: the newest runs). */
export function runListQuery(page: number, status?: RunFilter, perPage = RUNS_PER_PAGE): string {
  const query = new URLSearchParams({
    limit: String(perPage + 1),
    offset: String(page * perPage),
    reverse: "true",
  });
  if (status) query.set("status", status);
  return `?${query}`;
}

export interface RunListPage<T> {
  runs: T[];
  /** Whether a page of older runs follows. */
  older: boolean;
  /** The 1-based positions shown, for "runs 26–50". */
  first: number;
  last: number;
}

export function runListPage<T>(page: number, fetched: T[], perPage = RUNS_PER_PAGE): RunListPage<T> {
  const runs = fetched.slice(0, perPage);
  const first = runs.length === 0 ? 0 : page * perPage + 1;
  return { runs, older: fetched.length > perPage, first, last: first === 0 ? 0 : first + runs.length - 1 };
}

/** The runs list's place in the pipeline page's address: `?page=2&status=failed` (page 1-based, as people count). */
export interface RunListPlace {
  /** 0: the newest runs. */
  page: number;
  status: RunFilter | undefined;
}

export function parseRunListPlace(search: string): RunListPlace {
  const query = new URLSearchParams(search);
  const page = Number(query.get("page") ?? "");
  const status = query.get("status") ?? "";
  return {
    page: Number.isInteger(page) && page > 1 ? page - 1 : 0,
    status: isRunFilter(status) ? status : undefined,
  };
}

/**
 * `search` with the runs list's place written into it, every other parameter (`?config=`) kept: the page a person
 * paged to survives a reload, and Back from one of its runs returns to it. The first page and "all" leave no trace.
 */
export function withRunListPlace(search: string, place: RunListPlace): string {
  const query = new URLSearchParams(search);
  if (place.page > 0) query.set("page", String(place.page + 1));
  else query.delete("page");
  if (place.status) query.set("status", place.status);
  else query.delete("status");
  const text = query.toString();
  return text ? `?${text}` : "";
}
