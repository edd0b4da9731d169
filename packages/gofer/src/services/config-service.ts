/**
 * A pipeline's config versions: registering one (which creates the pipeline on its first version), reading
 * them, deleting old ones, and deploying one, which makes it the version new runs execute.
 */
import { type PipelineConfig as PipelineInput, validatePipelineConfig } from "@gofer/sdk";
import { pipelineControls, redactConfig, toStoredTasks } from "../domain/config-conversion.ts";
import { badRequest, GoferError, notFound } from "../domain/errors.ts";
import type { Deployment, PipelineConfig, PipelineMetadata } from "../domain/models.ts";
import type { EventBus, PublishInTransaction } from "../events/event-bus.ts";
import {
  configHasUnfinishedRuns,
  deleteConfig,
  getConfig,
  getLiveConfig,
  insertConfig,
  latestVersion,
  listConfigs,
  setConfigState,
} from "../storage/configs-store.ts";
import type { GoferDb } from "../storage/database.ts";
import { insertDeployment, nextDeploymentId } from "../storage/deployments-store.ts";
import { getPipeline, upsertPipeline } from "../storage/pipelines-store.ts";
import { requireNamespace, requirePipeline } from "./lookups.ts";
import type { SubscriptionService } from "./subscription-service.ts";

/** A registered version as the API shows it: secrets in task variables are redacted. */
export type ShownConfig = ReturnType<typeof redactConfig>;

const missingVersion = (version: number, pipelineId: string) =>
  notFound(`Config version ${version} of pipeline "${pipelineId}"`);

export class ConfigService {
  readonly #db: GoferDb;
  readonly #bus: EventBus;
  /** Called, not held: the subscription service is assembled after this one (it needs the extension supervisor). */
  readonly #subscriptions: () => Pick<SubscriptionService, "reconcileDeclared">;

  constructor({
    db,
    bus,
    subscriptions,
  }: {
    db: GoferDb;
    bus: EventBus;
    subscriptions: () => Pick<SubscriptionService, "reconcileDeclared">;
  }) {
    this.#db = db;
    this.#bus = bus;
    this.#subscriptions = subscriptions;
  }

  /** Newest first. */
  async list(namespaceId: string, pipelineId: string): Promise<ShownConfig[]> {
    await requirePipeline(this.#db, namespaceId, pipelineId);
    return (await listConfigs(this.#db, namespaceId, pipelineId)).map(redactConfig);
  }

  /** Version 0 means the latest registered. */
  async get(namespaceId: string, pipelineId: string, version: number): Promise<ShownConfig> {
    await requirePipeline(this.#db, namespaceId, pipelineId);
    const config = await getConfig(this.#db, namespaceId, pipelineId, version);
    if (!config) throw missingVersion(version, pipelineId);
    return redactConfig(config);
  }

  /**
   * Stores the request body's `config` as the pipeline's next version, `unreleased`: it runs only once
   * deployed. The first version creates the pipeline, announced by `created_pipeline`. The body is checked
   * here, by the SDK's validator, so that server and SDK refuse a config with the same messages.
   */
  async register(
    namespaceId: string,
    pipelineId: string,
    body: unknown,
  ): Promise<{ metadata: PipelineMetadata; config: ShownConfig }> {
    const input = parseRegistration(body, pipelineId);
    await requireNamespace(this.#db, namespaceId);
    const { tasks, order } = toStoredTasks(input);
    const { metadata, config } = await this.#bus.transaction(async (tx, publish) => {
      const now = Date.now();
      const existed = (await getPipeline(tx, namespaceId, pipelineId)) !== undefined;
      await upsertPipeline(tx, namespaceId, pipelineId, now);
      const config: PipelineConfig = {
        namespace_id: namespaceId,
        pipeline_id: pipelineId,
        version: (await latestVersion(tx, namespaceId, pipelineId)) + 1,
        parallelism: input.parallelism,
        name: input.name,
        description: input.description ?? "",
        tasks,
        state: "unreleased",
        registered: now,
        deprecated: 0,
        ...pipelineControls(input),
      };
      await insertConfig(tx, config, order);
      if (!existed) {
        await publish("created_pipeline", { namespace_id: namespaceId, pipeline_id: pipelineId });
      }
      const metadata = await requirePipeline(tx, namespaceId, pipelineId);
      return { metadata, config };
    });
    return { metadata, config: redactConfig(config) };
  }

  /**
   * Makes `version` live, so new runs execute it, and deprecates the version live before. Deployments complete
   * at once here (there is nothing to roll out), so one transaction records the whole deployment, together with
   * the reconciliation of the subscriptions the version declares (see `SubscriptionService.reconcileDeclared`):
   * a subscription its extension cannot take fails the deploy, and the previous version stays live.
   */
  async deploy(namespaceId: string, pipelineId: string, version: number): Promise<Deployment> {
    await requirePipeline(this.#db, namespaceId, pipelineId);
    const target = await getConfig(this.#db, namespaceId, pipelineId, version);
    if (!target) throw missingVersion(version, pipelineId);
    return this.#subscriptions().reconcileDeclared(
      {
        namespace_id: namespaceId,
        pipeline_id: pipelineId,
        version: target.version,
        // None for a v0 config: deploying one removes what an earlier version declared.
        declared: target.subscriptions ?? [],
      },
      (tx, publish) => this.#deployIn(tx, publish, namespaceId, pipelineId, target.version),
    );
  }

  /** The deployment's own writes, in the reconciliation's transaction; the version is read again there. */
  async #deployIn(
    tx: GoferDb,
    publish: PublishInTransaction,
    namespaceId: string,
    pipelineId: string,
    version: number,
  ): Promise<Deployment> {
    await requirePipeline(tx, namespaceId, pipelineId);
    const target = await getConfig(tx, namespaceId, pipelineId, version);
    if (!target) throw missingVersion(version, pipelineId);
    const live = await getLiveConfig(tx, namespaceId, pipelineId);
    const now = Date.now();
    const range = {
      namespace_id: namespaceId,
      pipeline_id: pipelineId,
      start_version: live?.version ?? target.version,
      end_version: target.version,
    };
    await publish("started_deployment", range);
    if (live && live.version !== target.version) {
      await setConfigState(tx, namespaceId, pipelineId, live.version, "deprecated", now);
    }
    await setConfigState(tx, namespaceId, pipelineId, target.version, "live", 0);
    const deployment: Deployment = {
      ...range,
      deployment_id: await nextDeploymentId(tx, namespaceId, pipelineId),
      started: now,
      ended: now,
      state: "Complete",
      status: "Successful",
      status_reason: null,
      logs: [],
    };
    await insertDeployment(tx, deployment);
    await publish("completed_deployment", range);
    return deployment;
  }

  /**
   * Deletes an old version. The latest stays (the next version number comes from it), the live one stays (runs
   * start from it), and so does one with unfinished runs (they read their tasks from it). One transaction, so
   * a deploy or a run start cannot change the answer between the checks and the delete.
   */
  async delete(namespaceId: string, pipelineId: string, version: number): Promise<void> {
    await this.#db.transaction().execute(async (tx) => {
      await requirePipeline(tx, namespaceId, pipelineId);
      const config = await getConfig(tx, namespaceId, pipelineId, version);
      if (!config || version === 0) throw missingVersion(version, pipelineId);
      if (config.version === (await latestVersion(tx, namespaceId, pipelineId))) {
        throw badRequest(
          `Cannot delete version ${version}: it is the latest version; register a newer one first`,
        );
      }
      if (config.state === "live") {
        throw badRequest(`Cannot delete version ${version}: it is live; deploy another version first`);
      }
      if (await configHasUnfinishedRuns(tx, namespaceId, pipelineId, version)) {
        throw new GoferError(
          "CONFLICT",
          `Cannot delete version ${version}: runs of it are still in progress`,
        );
      }
      await deleteConfig(tx, namespaceId, pipelineId, version);
    });
  }
}

/**
 * The registration body, validated: `{config}` and nothing else, a valid config, and the id the URL names. The
 * validator refuses an id that breaks the identifier rule, so the URL's id, equal to it, is valid too.
 */
function parseRegistration(body: unknown, pipelineId: string): PipelineInput {
  if (typeof body !== "object" || body === null || Array.isArray(body) || !("config" in body)) {
    throw badRequest("Body must be a JSON object with a `config` field holding the pipeline");
  }
  const extra = Object.keys(body).filter((key) => key !== "config");
  if (extra.length > 0) throw badRequest(`Unknown field(s) in body: ${extra.join(", ")}`);
  const result = validatePipelineConfig((body as { config: unknown }).config);
  if (!result.ok) {
    const lines = result.problems.map((problem) =>
      problem.path ? `${problem.path}: ${problem.message}` : problem.message,
    );
    throw new GoferError("INVALID_PIPELINE_CONFIG", `Invalid pipeline config: ${lines.join("; ")}`);
  }
  if (result.config.id !== pipelineId) {
    throw badRequest(
      `The config's id "${result.config.id}" does not match the pipeline "${pipelineId}" in the URL`,
    );
  }
  return result.config;
}
