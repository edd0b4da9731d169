/** A task's declared `resources` (Kubernetes-style quantities) as the numbers a scheduler backend applies. */
import { parseCpuQuantity, parseMemoryQuantity, type TaskResources } from "@gofer/sdk";

/** CPU in cores and memory in bytes; the shape of the scheduler's `ContainerSpec.resources`. */
export interface ResourceAmounts {
  cpu?: number;
  memoryBytes?: number;
}

/**
 * The amounts `resources` declares; `undefined` when it declares none. Stored tasks were validated at
 * registration, so a quantity that does not parse means the stored data was altered: it is an error, not a
 * limit silently dropped.
 */
export function resourceAmounts(resources: TaskResources | undefined): ResourceAmounts | undefined {
  if (resources === undefined) return undefined;
  const amounts: ResourceAmounts = {};
  if (resources.cpu !== undefined) amounts.cpu = parsed("cpu", resources.cpu, parseCpuQuantity);
  if (resources.memory !== undefined)
    amounts.memoryBytes = parsed("memory", resources.memory, parseMemoryQuantity);
  return amounts.cpu === undefined && amounts.memoryBytes === undefined ? undefined : amounts;
}

function parsed(
  field: string,
  text: string,
  parse: typeof parseCpuQuantity | typeof parseMemoryQuantity,
): number {
  const result = parse(text);
  if (!result.ok) throw new Error(`the task's ${field} ${JSON.stringify(text)} ${result.reason}`);
  return result.value;
}
