/**
 * What the run page shows, kept in its address so a failure can be shared: `?task=build&attempt=1#L42` is the
 * build task's first attempt with line 42 selected. Selecting replaces the address instead of pushing a new
 * one, so Back leaves the run page rather than stepping through every click.
 */

export interface RunSelection {
  task?: string | undefined;
  /** An attempt of `task`; absent: its current one. */
  attempt?: number | undefined;
  /** A line of the shown log, counted from 1. */
  line?: number | undefined;
}

const LINE = /^#L([1-9]\d*)$/;

const positive = (text: string | null): number | undefined => {
  if (text === null || !/^[1-9]\d*$/.test(text)) return undefined;
  return Number(text);
};

/** Reads `location.search` and `location.hash`; anything malformed is left out rather than refused. */
export function parseRunSelection(search: string, hash: string): RunSelection {
  const query = new URLSearchParams(search);
  const task = query.get("task") || undefined;
  const attempt = task === undefined ? undefined : positive(query.get("attempt"));
  const line = task === undefined ? undefined : positive(LINE.exec(hash)?.[1] ?? null);
  return { task, attempt, line };
}

/** The query and hash that say `selection` ("" for none). */
export function runSelectionSuffix(selection: RunSelection): string {
  if (selection.task === undefined) return "";
  const query = new URLSearchParams({ task: selection.task });
  if (selection.attempt !== undefined) query.set("attempt", String(selection.attempt));
  return `?${query.toString()}${selection.line === undefined ? "" : `#L${selection.line}`}`;
}

/** Writes `selection` into the address in place: no history entry, no scroll, no page change. */
export function replaceRunSelection(selection: RunSelection): void {
  const target = location.pathname + runSelectionSuffix(selection);
  if (target !== location.pathname + location.search + location.hash)
    history.replaceState(history.state, "", target);
}

/**
 * What the page says when a link names a task or attempt the run does not have (a typo, a link to another run),
 * instead of quietly showing something else; undefined when the link holds. `shown` is the task shown instead.
 */
export function missingSelection(
  linked: RunSelection,
  attemptsOf: ReadonlyMap<string, number>,
  shown: string | undefined,
): string | undefined {
  if (linked.task === undefined) return undefined;
  const instead = shown === undefined ? "" : `; showing ${shown}`;
  const current = attemptsOf.get(linked.task);
  if (current === undefined) return `This run has no task “${linked.task}”${instead}.`;
  if (linked.attempt !== undefined && linked.attempt > current)
    return `${linked.task} has no attempt ${linked.attempt} in this run; showing attempt ${current}.`;
  return undefined;
}
