import { exactTime, when } from "../format.ts";

/**
 * A moment shown the way people scan lists ("3 min ago"), with the exact local date and time on hover and in
 * the `datetime` attribute, so a relative time is never the only thing the page says.
 */
export function Time({ at, show = when }: { at: number; show?: (epochMs: number) => string }) {
  if (!at) return <span class="muted">–</span>;
  return (
    <time dateTime={new Date(at).toISOString()} title={exactTime(at)}>
      {show(at)}
    </time>
  );
}
