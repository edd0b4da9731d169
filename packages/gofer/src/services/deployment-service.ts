/** A pipeline's deployment history. Deployments are made by `ConfigService.deploy`; here they are only read. */
import { notFound } from "../domain/errors.ts";
import type { Deployment } from "../domain/models.ts";
import type { GoferDb } from "../storage/database.ts";
import { getDeployment, listDeployments } from "../storage/deployments-store.ts";
import { requirePipeline } from "./lookups.ts";

export class DeploymentService {
  readonly #db: GoferDb;

  constructor({ db }: { db: GoferDb }) {
    this.#db = db;
  }

  /** Newest first. */
  async list(namespaceId: string, pipelineId: string): Promise<Deployment[]> {
    await requirePipeline(this.#db, namespaceId, pipelineId);
    return listDeployments(this.#db, namespaceId, pipelineId);
  }

  async get(namespaceId: string, pipelineId: string, deploymentId: number): Promise<Deployment> {
    await requirePipeline(this.#db, namespaceId, pipelineId);
    const deployment = await getDeployment(this.#db, namespaceId, pipelineId, deploymentId);
    if (!deployment) throw notFound(`Deployment ${deploymentId} of pipeline "${pipelineId}"`);
    return deployment;
  }
}
