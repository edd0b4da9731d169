import type { Deployment, StatusReason } from "../domain/models.ts";
import type { DeploymentState, DeploymentStatus } from "../domain/states.ts";
import type { GoferDb } from "./database.ts";
import { parseNullableJson, toNullableJson } from "./json-columns.ts";
import type { DeploymentsTable } from "./schema.ts";

function toDeployment(row: DeploymentsTable): Deployment {
  const { status_reason_json, ...rest } = row;
  return {
    ...rest,
    state: row.state as DeploymentState,
    status: row.status as DeploymentStatus,
    status_reason: parseNullableJson<StatusReason<"Unknown">>(status_reason_json),
    logs: [],
  };
}

export async function listDeployments(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string,
): Promise<Deployment[]> {
  const rows = await db
    .selectFrom("deployments")
    .selectAll()
    .where("namespace_id", "=", namespaceId)
    .where("pipeline_id", "=", pipelineId)
    .orderBy("deployment_id", "desc")
    .execute();
  return rows.map(toDeployment);
}

export async function getDeployment(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string,
  deploymentId: number,
): Promise<Deployment | undefined> {
  const row = await db
    .selectFrom("deployments")
    .selectAll()
    .where("namespace_id", "=", namespaceId)
    .where("pipeline_id", "=", pipelineId)
    .where("deployment_id", "=", deploymentId)
    .executeTakeFirst();
  return row && toDeployment(row);
}

export async function nextDeploymentId(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string,
): Promise<number> {
  const row = await db
    .selectFrom("deployments")
    .select((eb) => eb.fn.max("deployment_id").as("last"))
    .where("namespace_id", "=", namespaceId)
    .where("pipeline_id", "=", pipelineId)
    .executeTakeFirst();
  return Number(row?.last ?? 0) + 1;
}

export async function insertDeployment(db: GoferDb, deployment: Deployment): Promise<void> {
  const { logs: _logs, status_reason, ...row } = deployment;
  await db
    .insertInto("deployments")
    .values({ ...row, status_reason_json: toNullableJson(status_reason) })
    .execute();
}
