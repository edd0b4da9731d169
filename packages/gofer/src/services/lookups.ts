/** Lookups every nested resource repeats: each answers 404 naming the missing parent, so a caller learns which part of its path is wrong. */
import { badRequest, notFound } from "../domain/errors.ts";
import type { Namespace, PipelineMetadata } from "../domain/models.ts";
import type { TaskExecutionKey } from "../domain/task-execution-key.ts";
import type { GoferDb } from "../storage/database.ts";
import { getNamespace } from "../storage/namespaces-store.ts";
import { getPipeline } from "../storage/pipelines-store.ts";
import { getRoles } from "../storage/roles-store.ts";
import { getRun, type StoredRun } from "../storage/runs-store.ts";
import { getTaskExecution, type StoredTaskExecution } from "../storage/task-executions-store.ts";

export async function requireNamespace(db: GoferDb, namespaceId: string): Promise<Namespace> {
  const namespace = await getNamespace(db, namespaceId);
  if (!namespace) throw notFound(`Namespace "${namespaceId}"`);
  return namespace;
}

export async function requirePipeline(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string,
): Promise<PipelineMetadata> {
  const pipeline = await getPipeline(db, namespaceId, pipelineId);
  if (!pipeline) {
    await requireNamespace(db, namespaceId);
    throw notFound(`Pipeline "${pipelineId}" in namespace "${namespaceId}"`);
  }
  return pipeline;
}

export async function requireRun(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string,
  runId: number,
): Promise<StoredRun> {
  const run = await getRun(db, namespaceId, pipelineId, runId);
  if (!run) {
    await requirePipeline(db, namespaceId, pipelineId);
    throw notFound(`Run ${runId} of pipeline "${pipelineId}"`);
  }
  return run;
}

export async function requireTaskExecution(db: GoferDb, key: TaskExecutionKey): Promise<StoredTaskExecution> {
  const execution = await getTaskExecution(db, key);
  if (!execution) {
    await requireRun(db, key.namespace_id, key.pipeline_id, key.run_id);
    throw notFound(`Task "${key.task_id}" of run ${key.run_id}`);
  }
  return execution;
}

/** Refuses role ids that do not exist, naming them: a misspelt role would otherwise grant nothing, silently. */
export async function requireKnownRoles(db: GoferDb, roles: string[]): Promise<void> {
  const known = new Set((await getRoles(db, roles)).map((role) => role.id));
  const unknown = roles.filter((role) => !known.has(role));
  if (unknown.length > 0) {
    throw badRequest(`Unknown role(s) ${unknown.map((role) => `"${role}"`).join(", ")}; see GET /api/roles`);
  }
}
