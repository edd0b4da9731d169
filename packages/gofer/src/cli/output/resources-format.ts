import type { TaskResources } from "@gofer/sdk";

/** A task's limits for a table cell or field: `cpu 0.5, memory 256Mi`, or `-` when it has none. */
export function formatResources(resources: TaskResources | undefined): string {
  const parts = [
    ...(resources?.cpu === undefined ? [] : [`cpu ${resources.cpu}`]),
    ...(resources?.memory === undefined ? [] : [`memory ${resources.memory}`]),
  ];
  return parts.length === 0 ? "-" : parts.join(", ");
}

/** Whether any of `tasks` declares limits: tables show a resources column only then. */
export function anyResources(tasks: ReadonlyArray<{ resources?: TaskResources }>): boolean {
  return tasks.some((task) => formatResources(task.resources) !== "-");
}
