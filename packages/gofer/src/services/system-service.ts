/** Server-wide switches: whether the bootstrap token was given out, and the pause of new runs. */
import type { Initiator } from "../domain/models.ts";
import type { GoferDb } from "../storage/database.ts";
import { getSystemState, setRunsPaused } from "../storage/system-store.ts";

export interface SystemPreferences {
  bootstrap_token_created: boolean;
  /** While true every new run is refused (RUNS_PAUSED); runs already started go on. */
  ignore_pipeline_run_events: boolean;
}

/** Where a change of the switches is recorded: pausing every run is worth a line naming who did it. */
export interface AuditLog {
  warn(details: Record<string, unknown>, message: string): void;
}

export class SystemService {
  readonly #db: GoferDb;
  readonly #version: { semver: string; commit: string };

  constructor({ db, version }: { db: GoferDb; version: { semver: string; commit: string } }) {
    this.#db = db;
    this.#version = version;
  }

  metadata(): { semver: string; commit: string } {
    return this.#version;
  }

  async preferences(): Promise<SystemPreferences> {
    const state = await getSystemState(this.#db);
    return {
      bootstrap_token_created: state.bootstrap_token_created,
      ignore_pipeline_run_events: state.ignore_pipeline_run_events,
    };
  }

  /** A null or missing switch is left as it is; answers the preferences as they now are. */
  async updatePreferences(
    change: { ignore_pipeline_run_events?: boolean | null | undefined },
    by: Initiator,
    audit: AuditLog,
  ): Promise<SystemPreferences> {
    const paused = change.ignore_pipeline_run_events;
    if (typeof paused === "boolean") {
      await setRunsPaused(this.#db, paused);
      audit.warn({ paused, by: by.user }, `new runs ${paused ? "paused" : "resumed"}`);
    }
    return this.preferences();
  }
}
