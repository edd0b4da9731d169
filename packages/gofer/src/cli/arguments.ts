/** Parsers for command-line values, each failing with a message that says what a good value looks like. */
import { InvalidArgumentError } from "commander";

/** `-v KEY=VALUE`, repeatable: collects into a record (a later KEY wins, as on the server). */
export function collectVariable(text: string, previous: Record<string, string> = {}): Record<string, string> {
  const separator = text.indexOf("=");
  if (separator <= 0) throw new InvalidArgumentError(`expected KEY=VALUE, got "${text}"`);
  return { ...previous, [text.slice(0, separator)]: text.slice(separator + 1) };
}

export function positiveInteger(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1)
    throw new InvalidArgumentError(`expected a whole number of 1 or more, got "${text}"`);
  return value;
}

export function nonNegativeInteger(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value))
    throw new InvalidArgumentError(`expected a whole number of 0 or more, got "${text}"`);
  return value;
}
