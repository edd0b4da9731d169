import type { Variable } from "./models.ts";

/**
 * Gofer's merge order for a task's environment: system variables, then the task's own, then the run's.
 * Later sources win; keys are compared case-insensitively (the later key's casing is kept) and empty keys are
 * dropped, as in Gofer's `combine_variables`.
 */
export function mergeVariables(...layers: Variable[][]): Variable[] {
  const merged = new Map<string, Variable>();
  for (const layer of layers) {
    for (const variable of layer) {
      if (variable.key === "") continue;
      const folded = variable.key.toUpperCase();
      merged.delete(folded);
      merged.set(folded, variable);
    }
  }
  return [...merged.values()];
}

export function variablesFromRecord(record: Record<string, string>, source: Variable["source"]): Variable[] {
  return Object.entries(record).map(([key, value]) => ({ key, value, source }));
}
