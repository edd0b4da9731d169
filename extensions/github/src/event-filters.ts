/**
 * The subscription param `events`: comma-separated entries `name` or `name:filter|filter`. For `push` the
 * filters are branch globs (`main`, `release/*`), or tag globs when they start with `tags/` (`tags/v*`); for any
 * other event they are actions (`opened|synchronize|reopened`). An entry without filters matches every delivery
 * of that event. Globs: `*` matches within one path segment, `**` across segments, `?` one character.
 */

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

export interface EventRule {
  event: string;
  /** Empty: any ref (push) or any action. */
  filters: string[];
}

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
    if (!NAME.test(event))
      return problem("the event name must be a GitHub event such as push or pull_request");
    if (event === "ping") return problem("ping is GitHub's test delivery and never starts a run");
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
  if (rule.event !== delivery.event) return false;
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
