/** Pipelines' metadata: read it, enable or disable new runs, delete a pipeline with everything it owns. */
import { badRequest, GoferError, notFound } from "../domain/errors.ts";
import type { PipelineMetadata } from "../domain/models.ts";
import type { PipelineState } from "../domain/states.ts";
import type { EventBus } from "../events/event-bus.ts";
import type { GoferDb } from "../storage/database.ts";
import { deletePipeline, listPipelines, lockPipeline, setPipelineState } from "../storage/pipelines-store.ts";
import { countUnfinishedRuns } from "../storage/runs-store.ts";
import { requireNamespace, requirePipeline } from "./lookups.ts";

export class PipelineService {
  readonly #db: GoferDb;
  readonly #bus: EventBus;

  constructor({ db, bus }: { db: GoferDb; bus: EventBus }) {
    this.#db = db;
    this.#bus = bus;
  }

  async list(namespaceId: string): Promise<PipelineMetadata[]> {
    await requireNamespace(this.#db, namespaceId);
    return listPipelines(this.#db, namespaceId);
  }

  get(namespaceId: string, pipelineId: string): Promise<PipelineMetadata> {
    return requirePipeline(this.#db, namespaceId, pipelineId);
  }

  /** A disabled pipeline refuses new runs; runs already started go on. Setting the current state is a no-op. */
  async setState(
    namespaceId: string,
    pipelineId: string,
    state: PipelineState | null | undefined,
  ): Promise<void> {
    if (!state) throw badRequest('Nothing to update; send `state` ("active" or "disabled")');
    await this.#bus.transaction(async (tx, publish) => {
      const pipeline = await requirePipeline(tx, namespaceId, pipelineId);
      if (pipeline.state === state) return;
      await setPipelineState(tx, namespaceId, pipelineId, state, Date.now());
      const details = { namespace_id: namespaceId, pipeline_id: pipelineId };
      await publish(state === "active" ? "enabled_pipeline" : "disabled_pipeline", details);
    });
  }

  /**
   * Deletes the pipeline with its configs, deployments and runs (foreign keys cascade), refused while any of
   * its runs is unfinished. Check, delete and the `deleted_pipeline` event are one transaction that starts
   * with a write (see `lockPipeline`): a run start either committed before it, and is counted, or comes after
   * and finds no pipeline. Checking outside the transaction let a run start in between, and the cascade then
   * removed that run while its container ran. Log and object files follow from the delivered event, and from
   * the boot sweep when the process stops before they are gone.
   */
  async delete(namespaceId: string, pipelineId: string): Promise<void> {
    await this.#bus.transaction(async (tx, publish) => {
      if (!(await lockPipeline(tx, namespaceId, pipelineId))) {
        await requireNamespace(tx, namespaceId);
        throw notFound(`Pipeline "${pipelineId}" in namespace "${namespaceId}"`);
      }
      const unfinished = await countUnfinishedRuns(tx, namespaceId, pipelineId);
      if (unfinished > 0) {
        throw new GoferError(
          "CONFLICT",
          `Pipeline "${pipelineId}" has ${unfinished} unfinished run(s); cancel them and retry`,
        );
      }
      await deletePipeline(tx, namespaceId, pipelineId);
      await publish("deleted_pipeline", { namespace_id: namespaceId, pipeline_id: pipelineId });
    });
  }
}
