/**
 * Gofer's rules for the names users choose. Client and server import them from here so that both refuse
 * exactly the same names, with the same explanation.
 */

const IDENTIFIER_PATTERN = /^[a-zA-Z0-9-]{3,32}$/;

// Gofer's server never checked task ids and accepted underscores (`task_one`), so task ids are looser than
// identifiers; the first character is restricted so an id never starts like a flag (`-x`).
const TASK_ID_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$/;

/** The longest task id {@link isValidTaskId} accepts. */
export const MAX_TASK_ID_LENGTH = 64;

/** The identifier rule, phrased for error messages. */
export const describeIdentifierRule = "3–32 characters, each a letter, a digit or `-`";

/** The task id rule, phrased for error messages. */
export const describeTaskIdRule =
  "1–64 characters, each a letter, a digit, `-` or `_`, starting with a letter or digit";

/** Whether `value` may name a namespace, pipeline or extension subscription: {@link describeIdentifierRule}. */
export function isValidIdentifier(value: string): boolean {
  return IDENTIFIER_PATTERN.test(value);
}

/** Whether `value` may name a task within a pipeline: {@link describeTaskIdRule}. */
export function isValidTaskId(value: string): boolean {
  return TASK_ID_PATTERN.test(value);
}
