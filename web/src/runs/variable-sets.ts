/**
 * The variables a run was started with, as the start dialog takes them again: "run again with the same
 * variables", and the sets recent runs used, offered when starting a run.
 */
import type { Run } from "../api/types.ts";

export interface VariableRow {
  key: string;
  value: string;
}

export interface VariableSet {
  /** The newest run that used this set. */
  runId: number;
  variables: VariableRow[];
}

/**
 * What the run was started with: its pipeline's own variables and the system's are left out, as they come
 * again with any run.
 */
export function startVariables(run: Run): VariableRow[] {
  return run.variables
    .filter((variable) => variable.source !== "pipeline_config" && variable.source !== "system")
    .map(({ key, value }) => ({ key, value }));
}

/**
 * The rows of the start dialog as the variables to send, or what is wrong with them. A value without a name and a
 * name given twice are refused rather than dropped or merged, as either would start a run unlike the one asked for;
 * a row left wholly empty is ignored.
 */
export function variablesToStart(
  rows: VariableRow[],
): { variables: Record<string, string> } | { problem: string } {
  const variables: Record<string, string> = {};
  for (const [index, row] of rows.entries()) {
    const key = row.key.trim();
    if (!key && !row.value) continue;
    if (!key) return { problem: `Variable ${index + 1} has a value but no name: name it or remove it.` };
    if (Object.hasOwn(variables, key)) return { problem: `${key} is given twice: keep one of them.` };
    variables[key] = row.value;
  }
  return { variables };
}

const signature = (variables: VariableRow[]): string =>
  JSON.stringify(
    [...variables].sort((a, b) => a.key.localeCompare(b.key)).map((row) => [row.key, row.value]),
  );

/** The distinct sets of `runs` (newest first), each under the newest run that used it, at most `limit`. */
export function recentVariableSets(runs: Run[], limit = 6): VariableSet[] {
  const seen = new Set<string>();
  const sets: VariableSet[] = [];
  for (const run of [...runs].sort((a, b) => b.run_id - a.run_id)) {
    const variables = startVariables(run);
    const key = signature(variables);
    if (seen.has(key)) continue;
    seen.add(key);
    sets.push({ runId: run.run_id, variables });
    if (sets.length === limit) break;
  }
  return sets;
}

/** "run 12: FAIL_TESTS=1, ENV=prod" or "run 12: no variables", for a picker. */
export function describeSet(set: VariableSet, maxLength = 60): string {
  const text = set.variables.map((row) => `${row.key}=${row.value}`).join(", ") || "no variables";
  return `run ${set.runId}: ${text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text}`;
}

const SECRET_REFERENCE = /^(pipeline|global)_secret\{\{(.+)\}\}$/s;

/** A value that names a secret (`global_secret{{token}}`): the page says which, never a value. */
export function secretReference(value: string): { scope: "pipeline" | "global"; key: string } | undefined {
  const match = SECRET_REFERENCE.exec(value);
  if (!match) return undefined;
  return { scope: match[1] as "pipeline" | "global", key: match[2] ?? "" };
}
