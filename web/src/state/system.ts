/** The server-wide pause of new runs, as far as this page knows it. */
import { api } from "../api/client.ts";
import type { SystemPreferences } from "../api/types.ts";
import { session } from "./session.ts";
import { Signal } from "./signal.ts";

/** true or false once known; undefined when this token may not read it (only admins may). */
export const runsPaused = new Signal<boolean | undefined>(undefined);

export async function refreshSystem(): Promise<void> {
  if (!session.admin.value) return;
  try {
    const preferences = await api<SystemPreferences>("GET", "/api/system");
    runsPaused.value = preferences.ignore_pipeline_run_events;
  } catch {
    runsPaused.value = undefined;
  }
}

export async function setRunsPaused(paused: boolean): Promise<void> {
  const preferences = await api<SystemPreferences>("PATCH", "/api/system", undefined, {
    ignore_pipeline_run_events: paused,
  });
  runsPaused.value = preferences.ignore_pipeline_run_events;
}
