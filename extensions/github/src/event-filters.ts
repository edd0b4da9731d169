/**
 * Which deliveries a subscription wants, from either of two params:
 * - `events`: comma-separated entries `name` or `name:filter|filter`. For `push` the filters are branch globs
 *   (`main`, `release/*`), or tag globs when they start with `tags/` (`tags/v*`); for any other event they are
 *   actions (`opened|synchronize|reopened`). Globs: `*` matches within one path segment, `**` across segments,
 *   `?` one character.
 * - `event_filter`, Gofer v0's form: one `<event>` or `<event>/<action>,<action>…`.
 * An event without filters matches every delivery of that event. `pull_request_with_check` is v0's synthetic
 * event: it matches `pull_request` deliveries and asks for a GitHub check run reporting the run's result.
 */

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

export interface EventRule {
  event: string;
  /** Empty: any ref (push) or any action. */
  filters: string[];
}

/** Not a GitHub event: `pull_request` deliveries whose runs report back as a check run on the pull request. */
export const PULL_REQUEST_WITH_CHECK = "pull_request_with_check";

const NAME = /^[a-z_]+$/;
const ACTION = /^[a-z_]+$/;
/** Characters git allows in a ref name, plus the glob characters; `:` and whitespace are refused by git too. */
const REF_GLOB = /^[A-Za-z0-9._\-/*?+@#!]+$/;

export function parseEvents(text: string): Checked<EventRule[]> {
  const entries = text.split(",").map((entry) => entry.trim());
  if (entries.every((entry) => entry === "")) {
    return {
      ok: false,
      problem: 'events is empty: give one or more events, such as "push:main,pull_request"',
    };
  }
  const rules: EventRule[] = [];
  for (const entry of entries) {
    const problem = (why: string) => ({
      ok: false as const,
      problem: `events entry ${JSON.stringify(entry)}: ${why}`,
    });
    if (entry === "") return problem("empty entry (two commas in a row, or a trailing comma)");
    const colon = entry.indexOf(":");
    const event = (colon === -1 ? entry : entry.slice(0, colon)).trim();
    const nameProblem = eventNameProblem(event);
    if (nameProblem) return problem(nameProblem);
    const filters =
      colon === -1
        ? []
        : entry
            .slice(colon + 1)
            .split("|")
            .map((filter) => filter.trim());
    for (const filter of filters) {
      if (filter === "") return problem(`an empty filter after "${event}:"`);
      if (event === "push") {
        const ref = filter.startsWith("tags/") ? filter.slice("tags/".length) : filter;
        if (ref === "" || !REF_GLOB.test(ref) || ref.startsWith("/") || ref.endsWith("/")) {
          return problem(
            `${JSON.stringify(filter)} is not a branch glob (main, release/*) or tag glob (tags/v*)`,
          );
        }
      } else if (!ACTION.test(filter)) {
        return problem(`${JSON.stringify(filter)} is not an action such as opened or synchronize`);
      }
    }
    rules.push({ event, filters });
  }
  return { ok: true, value: rules };
}

function eventNameProblem(event: string): string | undefined {
  if (!NAME.test(event)) return "the event name must be a GitHub event such as push or pull_request";
  if (event === "ping") return "ping is GitHub's test delivery and never starts a run";
  return undefined;
}

/**
 * The subscription param `event_filter` as Gofer v0 wrote it: `<event>` or `<event>/<action>,<action>…`. As in
 * v0, actions are case-insensitive and empty ones are skipped, so `pull_request/` means any action. v0 ignored
 * actions on events that have none; here `push/…` is refused instead, because it reads like a branch filter.
 */
export function parseEventFilter(text: string): Checked<EventRule[]> {
  const problem = (why: string) => ({
    ok: false as const,
    problem: `event_filter ${JSON.stringify(text)}: ${why}`,
  });
  if (text.trim() === "") {
    return problem(
      "empty; give <event> or <event>/<action>,<action>, such as pull_request/opened,synchronize",
    );
  }
  const slash = text.indexOf("/");
  const event = (slash === -1 ? text : text.slice(0, slash)).trim();
  const nameProblem = eventNameProblem(event);
  if (nameProblem) return problem(nameProblem);
  const filters =
    slash === -1
      ? []
      : text
          .slice(slash + 1)
          .split(",")
          .map((action) => action.trim().toLowerCase())
          .filter((action) => action !== "");
  if (event === "push" && filters.length > 0) {
    return problem(
      "push deliveries have no action; use event_filter=push for every push, or events=push:<branch glob> to choose branches",
    );
  }
  for (const action of filters) {
    if (!ACTION.test(action))
      return problem(`${JSON.stringify(action)} is not an action such as opened or synchronize`);
  }
  return { ok: true, value: [{ event, filters: [...new Set(filters)] }] };
}

/** A glob as an anchored regular expression. */
export function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i] as string;
    if (char === "*" && glob[i + 1] === "*") {
      source += ".*";
      i++;
    } else if (char === "*") {
      source += "[^/]*";
    } else if (char === "?") {
      source += "[^/]";
    } else {
      source += char.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}$`);
}

/** Whether a push of `ref` (refs/heads/… or refs/tags/…) passes `filter`. */
export function pushFilterMatches(filter: string, ref: string): boolean {
  const full = filter.startsWith("tags/") ? `refs/${filter}` : `refs/heads/${filter}`;
  return globToRegExp(full).test(ref);
}

export interface Delivery {
  event: string;
  /** The payload's `action`, when it has one. */
  action?: string | undefined;
  /** For push: the pushed ref. */
  ref?: string | undefined;
}

export function ruleMatches(rule: EventRule, delivery: Delivery): boolean {
  const event = rule.event === PULL_REQUEST_WITH_CHECK ? "pull_request" : rule.event;
  if (event !== delivery.event) return false;
  if (rule.filters.length === 0) return true;
  if (delivery.event === "push") {
    const ref = delivery.ref;
    return ref !== undefined && rule.filters.some((filter) => pushFilterMatches(filter, ref));
  }
  return delivery.action !== undefined && rule.filters.includes(delivery.action);
}

export function rulesMatch(rules: EventRule[], delivery: Delivery): boolean {
  return rules.some((rule) => ruleMatches(rule, delivery));
}

/** Whether a run started for `delivery` should report back as a check run: a matching pull_request_with_check. */
export function checkRequested(rules: EventRule[], delivery: Delivery): boolean {
  return rules.some((rule) => rule.event === PULL_REQUEST_WITH_CHECK && ruleMatches(rule, delivery));
}
