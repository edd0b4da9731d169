/**
 * References to secrets and objects in task variables. Gofer resolves them when a task starts, so the values
 * never appear in the pipeline config, and a run object written by a parent task is visible to its children.
 *
 * A reference must be the whole value of a variable: Gofer reads a value as a reference only when, trimmed, it
 * is exactly `<kind>{{<key>}}`. Embedded in a longer string it is passed to the container literally.
 */

/**
 * A reference to the pipeline secret `key`, stored with `gofer secret pipeline put`. The task fails before its
 * container starts if the secret does not exist.
 *
 * @throws Error if `key` is not a string, is empty or only whitespace, or contains `{` or `}`.
 */
export function pipelineSecret(key: string): string {
  return reference("pipeline_secret", "pipelineSecret", key);
}

/**
 * A reference to the global secret `key`, stored by an administrator. The secret must be shared with the
 * pipeline's namespace, otherwise the task fails before its container starts.
 *
 * @throws Error if `key` is not a string, is empty or only whitespace, or contains `{` or `}`.
 */
export function globalSecret(key: string): string {
  return reference("global_secret", "globalSecret", key);
}

/**
 * A reference to the pipeline object `key`: a value kept across runs of the pipeline, such as a cache key or
 * the last deployed version.
 *
 * @throws Error if `key` is not a string, is empty or only whitespace, or contains `{` or `}`.
 */
export function pipelineObject(key: string): string {
  return reference("pipeline_object", "pipelineObject", key);
}

/**
 * A reference to the run object `key`: a value stored during the current run, typically by a parent task (tasks
 * start after their parents finish, so the object is there by then).
 *
 * @throws Error if `key` is not a string, is empty or only whitespace, or contains `{` or `}`.
 */
export function runObject(key: string): string {
  return reference("run_object", "runObject", key);
}

// Gofer trims the key before looking it up, so a blank key can never resolve; braces would end the reference
// early or make it unparsable. Both are caught here, where the mistake is made, rather than when a run starts.
function reference(kind: string, helper: string, key: unknown): string {
  if (typeof key !== "string") {
    throw new Error(`${helper}: the key must be a string, got ${key === null ? "null" : typeof key}`);
  }
  if (key.trim() === "") {
    throw new Error(`${helper}: the key must not be empty`);
  }
  if (/[{}]/.test(key)) {
    throw new Error(`${helper}: the key must not contain "{" or "}", got ${JSON.stringify(key)}`);
  }
  return `${kind}{{${key}}}`;
}
