/**
 * The API token a task receives with `inject_api_token` (as GOFER_API_TOKEN, and GOFER_TOKEN for Gofer's
 * clients): one per run, holding only a role scoped to the run's own namespace and pipeline: read what the
 * pipeline has, start and cancel its runs, read and write its objects. No secrets, no other pipeline.
 *
 * Only the token's hash is stored, like every token's. The secret lives in this process for as long as the run
 * may need it; a process that restarts mid-run mints a fresh token for the same run rather than ever writing a
 * secret to disk. Tokens of a run are deleted when its objects expire (or the run is gone), with a time limit
 * as a backstop.
 */

import { createHash } from "node:crypto";
import { eventOf } from "@gofer/sdk/client";
import { escapeRegex, type Role } from "../domain/permissions.ts";
import type { EventBus } from "../events/event-bus.ts";
import type { GoferDb } from "../storage/database.ts";
import { insertRole } from "../storage/roles-store.ts";
import { type RunKey, setRunTokenId } from "../storage/runs-store.ts";
import { deleteRetiredRunTokens as deleteTokensOfRetiredRuns } from "../storage/tokens-store.ts";
import { createToken } from "./tokens.ts";

/** Gofer's run tokens lasted three weeks; the run's object expiry normally removes them much sooner. */
export const RUN_TOKEN_LIFETIME_MS = 21 * 24 * 60 * 60 * 1000;

const USER_PREFIX = "run:";

/** The token's user names its run, so listings say what it is and cleanup can find its run. */
export const runTokenUser = (run: RunKey): string =>
  `${USER_PREFIX}${run.namespace_id}/${run.pipeline_id}/${run.run_id}`;

/** Role ids are short; a digest of the scope keeps them unique and within the limit. */
export function runTokenRoleId(namespaceId: string, pipelineId: string): string {
  const digest = createHash("sha256").update(`${namespaceId}/${pipelineId}`).digest("hex").slice(0, 20);
  return `run-token-${digest}`;
}

export function runTokenRole(namespaceId: string, pipelineId: string): Role {
  const namespace = `namespaces:${escapeRegex(namespaceId)}`;
  const pipeline = `pipelines:${escapeRegex(pipelineId)}`;
  return {
    id: runTokenRoleId(namespaceId, pipelineId),
    description: `Tokens injected into the runs of ${namespaceId}/${pipelineId}`,
    permissions: [
      {
        resources: [namespace, pipeline, "configs", "deployments", "runs", "task_executions", "objects"],
        actions: ["read"],
      },
      { resources: [namespace, pipeline, "runs", "objects"], actions: ["write"] },
      { resources: [namespace, pipeline, "objects"], actions: ["delete"] },
    ],
    system_role: true,
  };
}

export class RunTokens {
  readonly #db: GoferDb;
  /** Per run, the secret minted by this process (a promise, so concurrent tasks share one mint). */
  readonly #secrets = new Map<string, Promise<string>>();

  constructor(db: GoferDb) {
    this.#db = db;
  }

  /** The run's token secret, minting the token (and its pipeline's role) the first time it is asked for. */
  forRun(run: RunKey): Promise<string> {
    const key = runTokenUser(run);
    let secret = this.#secrets.get(key);
    if (!secret) {
      secret = this.#mint(run);
      this.#secrets.set(key, secret);
      secret.catch(() => this.#secrets.delete(key));
    }
    return secret;
  }

  /** Drops a run's secret from memory once the run is complete: no task of it will ask again. */
  forgetCompletedRuns(bus: EventBus): () => void {
    return bus.subscribe((event) => {
      const { name, details } = eventOf(event);
      if (name === "completed_run") this.#secrets.delete(runTokenUser(details));
    });
  }

  async #mint(run: RunKey): Promise<string> {
    // insertRole is a no-op for an existing id: the role is the same for every run of the pipeline.
    await insertRole(this.#db, runTokenRole(run.namespace_id, run.pipeline_id));
    const { token, secret } = await createToken(this.#db, {
      user: runTokenUser(run),
      roles: [runTokenRoleId(run.namespace_id, run.pipeline_id)],
      expiresMs: RUN_TOKEN_LIFETIME_MS,
      metadata: {
        system_generated_run_token: "true",
        namespace: run.namespace_id,
        pipeline: run.pipeline_id,
        run: String(run.run_id),
      },
    });
    await setRunTokenId(this.#db, run, token.id);
    return secret;
  }
}

/** Deletes the tokens of runs whose objects have expired or that no longer exist; returns how many. */
export const deleteRetiredRunTokens = (db: GoferDb): Promise<number> =>
  deleteTokensOfRetiredRuns(db, USER_PREFIX);
