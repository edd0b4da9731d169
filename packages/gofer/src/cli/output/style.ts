/**
 * Colour for people, plain text for pipes: `styleText` with stream validation leaves text untouched when the
 * stream is not a TTY or NO_COLOR / FORCE_COLOR say so, so scripts never see escape codes.
 */
import { styleText } from "node:util";

type Format = Parameters<typeof styleText>[0];

export interface Styler {
  readonly enabled: boolean;
  paint(format: Format, text: string): string;
  /** A run or task state/status coloured by what it means (green good, red bad, yellow stopped, cyan moving). */
  outcome(text: string): string;
}

const OUTCOME_COLOURS: Record<string, Format> = {
  successful: "green",
  active: "green",
  live: "green",
  complete: "green",
  failed: "red",
  cancelled: "yellow",
  skipped: "yellow",
  paused: "yellow",
  disabled: "yellow",
  deprecated: "gray",
  running: "cyan",
  pending: "gray",
  waiting: "gray",
  processing: "gray",
  unreleased: "gray",
};

export function createStyler(stream: NodeJS.WriteStream): Styler {
  const enabled = styleText("red", "x", { stream, validateStream: true }) !== "x";
  const paint = (format: Format, text: string) =>
    enabled ? styleText(format, text, { validateStream: false }) : text;
  return {
    enabled,
    paint,
    outcome: (text) => {
      const colour = OUTCOME_COLOURS[text.toLowerCase()];
      return colour ? paint(colour, text) : text;
    },
  };
}
