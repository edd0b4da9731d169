/**
 * The check runs created but not yet completed, kept in the extension's own objects (one per check run) so that
 * a restarted extension (a Gofer restart, an upgrade, a crash) completes them instead of leaving them
 * "in progress" on the pull request for good.
 */
import { GoferApiError, type GoferClient } from "@gofer/sdk/client";
import type { Repository } from "./github-checks.ts";

/** A check run reporting one Gofer run. */
export interface PendingCheck {
  namespaceId: string;
  pipelineId: string;
  runId: number;
  /** The check run's name on GitHub, as in v0. */
  subscriptionId: string;
  repository: Repository;
  headSha: string;
  checkRunId: number;
}

export interface PendingCheckStore {
  save(check: PendingCheck): Promise<void>;
  remove(check: PendingCheck): Promise<void>;
  /** Every stored check; `skipped` counts objects that could not be read as one. */
  list(): Promise<{ checks: PendingCheck[]; skipped: number }>;
}

const PREFIX = "check-run.";

/** Namespace and pipeline ids are letters, digits and `-`, so `.` keeps the parts of the key apart. */
export const pendingCheckKey = (check: Pick<PendingCheck, "namespaceId" | "pipelineId" | "runId">) =>
  `${PREFIX}${check.namespaceId}.${check.pipelineId}.${check.runId}`;

export function encodePendingCheck(check: PendingCheck): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      namespace_id: check.namespaceId,
      pipeline_id: check.pipelineId,
      run_id: check.runId,
      subscription_id: check.subscriptionId,
      owner: check.repository.owner,
      repo: check.repository.repo,
      head_sha: check.headSha,
      check_run_id: check.checkRunId,
    }),
  );
}

export function decodePendingCheck(bytes: Uint8Array): PendingCheck | undefined {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const text = (name: string) => (typeof record[name] === "string" ? (record[name] as string) : undefined);
  const integer = (name: string) =>
    Number.isSafeInteger(record[name]) ? (record[name] as number) : undefined;
  const [namespaceId, pipelineId, subscriptionId, owner, repo, headSha] = [
    "namespace_id",
    "pipeline_id",
    "subscription_id",
    "owner",
    "repo",
    "head_sha",
  ].map(text);
  const runId = integer("run_id");
  const checkRunId = integer("check_run_id");
  if (
    namespaceId === undefined ||
    pipelineId === undefined ||
    subscriptionId === undefined ||
    owner === undefined ||
    repo === undefined ||
    headSha === undefined ||
    runId === undefined ||
    checkRunId === undefined
  ) {
    return undefined;
  }
  return {
    namespaceId,
    pipelineId,
    runId,
    subscriptionId,
    repository: { owner, repo },
    headSha,
    checkRunId,
  };
}

/** The store on Gofer's extension objects (`/api/extensions/{id}/objects`), which the extension's token may use. */
export function objectPendingCheckStore(
  client: Pick<GoferClient, "objects">,
  extensionId: string,
): PendingCheckStore {
  const objects = client.objects.extension;
  return {
    save: async (check) => {
      await objects.put(extensionId, pendingCheckKey(check), encodePendingCheck(check), { force: true });
    },
    remove: async (check) => {
      try {
        await objects.delete(extensionId, pendingCheckKey(check));
      } catch (error) {
        if (!(error instanceof GoferApiError && error.status === 404)) throw error;
      }
    },
    list: async () => {
      const checks: PendingCheck[] = [];
      let skipped = 0;
      for (const object of await objects.list(extensionId)) {
        if (!object.key.startsWith(PREFIX)) continue;
        const check = decodePendingCheck(await objects.get(extensionId, object.key));
        if (check) checks.push(check);
        else skipped += 1;
      }
      return { checks, skipped };
    },
  };
}
