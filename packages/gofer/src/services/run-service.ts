/**
 * Runs of a pipeline: listing, starting and cancelling. Starting and cancelling are the orchestrator's; this
 * service checks what the caller sent and that the run exists before handing over.
 */
import { RUN_LIST_STATUSES, type RunListStatus } from "@gofer/sdk/client";
import { badRequest } from "../domain/errors.ts";
import type { Initiator, Run } from "../domain/models.ts";
import type { RunState, RunStatus } from "../domain/states.ts";
import type { Orchestrator } from "../orchestrator/orchestrator.ts";
import type { GoferDb } from "../storage/database.ts";
import { listRuns, publicRun, type RunKey } from "../storage/runs-store.ts";
import { requirePipeline, requireRun } from "./lookups.ts";

/** Bounds on what a run may be started with: each variable becomes an environment variable of every task. */
const MAX_RUN_VARIABLES = 1000;
const MAX_VARIABLE_VALUE_BYTES = 64 * 1024;

/** The stored state and status of a run described by each word: a run's status stays `unknown` until it ends. */
const RUN_LIST_COLUMNS: Record<RunListStatus, { state: RunState; status: RunStatus }> = {
  pending: { state: "pending", status: "unknown" },
  running: { state: "running", status: "unknown" },
  successful: { state: "complete", status: "successful" },
  failed: { state: "complete", status: "failed" },
  cancelled: { state: "complete", status: "cancelled" },
};

function runListColumns(status: string): { state: RunState; status: RunStatus } {
  if (!Object.hasOwn(RUN_LIST_COLUMNS, status)) {
    throw badRequest(
      `Unknown run status "${status}"; list runs by one of ${RUN_LIST_STATUSES.join(", ")}, or leave status out`,
    );
  }
  return RUN_LIST_COLUMNS[status as RunListStatus];
}

export interface RunPage {
  limit: number;
  offset: number;
  /** Newest first. */
  reverse: boolean;
  /** Only the runs this word describes; all of them when absent. */
  status?: string;
}

export class RunService {
  readonly #db: GoferDb;
  readonly #orchestrator: Orchestrator;

  constructor({ db, orchestrator }: { db: GoferDb; orchestrator: Orchestrator }) {
    this.#db = db;
    this.#orchestrator = orchestrator;
  }

  async list(namespaceId: string, pipelineId: string, page: RunPage): Promise<Run[]> {
    await requirePipeline(this.#db, namespaceId, pipelineId);
    const { status, ...range } = page;
    const only = status === undefined ? {} : { only: runListColumns(status) };
    return (await listRuns(this.#db, namespaceId, pipelineId, { ...range, ...only })).map(publicRun);
  }

  async get(key: RunKey): Promise<Run> {
    return publicRun(await requireRun(this.#db, key.namespace_id, key.pipeline_id, key.run_id));
  }

  /** Returns at once: over a parallelism limit the run waits in state `pending`. */
  start(
    namespaceId: string,
    pipelineId: string,
    variables: Record<string, string>,
    initiator: Initiator,
  ): Promise<Run> {
    checkRunVariables(variables);
    return this.#orchestrator.startRun(namespaceId, pipelineId, variables, initiator);
  }

  /** Queues a failed or cancelled run again; its unsuccessful tasks start over as new attempts. */
  async retry({ namespace_id, pipeline_id, run_id }: RunKey): Promise<Run> {
    await requireRun(this.#db, namespace_id, pipeline_id, run_id);
    await this.#orchestrator.retryRun({ namespace_id, pipeline_id, run_id });
    return this.get({ namespace_id, pipeline_id, run_id });
  }

  /** Running tasks are stopped gracefully (killed after the stop timeout); tasks not yet started end cancelled. */
  async cancel({ namespace_id, pipeline_id, run_id }: RunKey, by: Initiator): Promise<void> {
    await requireRun(this.#db, namespace_id, pipeline_id, run_id);
    // A fresh key: the orchestrator copies it into the cancellation event.
    await this.#orchestrator.cancelRun({ namespace_id, pipeline_id, run_id }, by);
  }
}

function checkRunVariables(variables: Record<string, string>): void {
  const keys = Object.keys(variables);
  if (keys.length > MAX_RUN_VARIABLES)
    throw badRequest(`Too many variables (${keys.length}); at most ${MAX_RUN_VARIABLES}`);
  for (const key of keys) {
    if (key === "" || key.includes("=") || key.includes("\0") || key.length > 256) {
      throw badRequest(
        `Invalid variable name ${JSON.stringify(key.slice(0, 64))}: 1–256 characters, no "=" or NUL`,
      );
    }
    if (Buffer.byteLength(variables[key] ?? "") > MAX_VARIABLE_VALUE_BYTES) {
      throw badRequest(`Variable ${key} is larger than ${MAX_VARIABLE_VALUE_BYTES} bytes`);
    }
  }
}
