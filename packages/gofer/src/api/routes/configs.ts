import { validatePipelineConfig } from "@gofer/sdk";
import { Type } from "typebox";
import { redactConfig, toStoredTasks } from "../../domain/config-conversion.ts";
import { badRequest, GoferError, notFound } from "../../domain/errors.ts";
import type { Deployment, GoferEvent, PipelineConfig } from "../../domain/models.ts";
import { requireNamespace, requirePipeline } from "../../services/lookups.ts";
import {
  configHasUnfinishedRuns,
  deleteConfig,
  getConfig,
  getLiveConfig,
  insertConfig,
  latestVersion,
  listConfigs,
  setConfigState,
} from "../../storage/configs-store.ts";
import { insertDeployment, nextDeploymentId } from "../../storage/deployments-store.ts";
import { getPipeline, upsertPipeline } from "../../storage/pipelines-store.ts";
import type { RoutePlugin } from "../api-context.ts";
import { requireIdentifier } from "../guards.ts";
import { errorResponses, PipelineParams } from "../schemas/common.ts";
import { PipelineInput } from "../schemas/pipeline-input.ts";

const VersionParams = Type.Object({
  namespace_id: Type.String(),
  pipeline_id: Type.String(),
  version: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
});

export const configRoutes: RoutePlugin = (app, { db, bus }) => {
  app.get(
    "/api/namespaces/:namespace_id/pipelines/:pipeline_id/configs",
    {
      schema: {
        operationId: "list_configs",
        tags: ["Configs"],
        summary: "List every config version of a pipeline, newest first.",
        params: PipelineParams,
        response: { 200: Type.Object({ configs: Type.Array(Type.Ref("Config")) }), ...errorResponses },
      },
    },
    async (request) => {
      const { namespace_id, pipeline_id } = request.params;
      await requirePipeline(db, namespace_id, pipeline_id);
      return { configs: (await listConfigs(db, namespace_id, pipeline_id)).map(redactConfig) };
    },
  );

  app.post(
    "/api/namespaces/:namespace_id/pipelines/:pipeline_id/configs",
    {
      schema: {
        operationId: "register_config",
        tags: ["Configs"],
        summary:
          "Register a new config version (latest + 1, state `unreleased`). It runs only once deployed. " +
          "The DAG is validated: identifiers, duplicate tasks, unknown dependencies and cycles are refused.",
        params: PipelineParams,
        body: Type.Object({ config: PipelineInput }, { additionalProperties: false }),
        response: {
          201: Type.Object({
            pipeline: Type.Object({ metadata: Type.Ref("Metadata"), config: Type.Ref("Config") }),
          }),
          ...errorResponses,
        },
      },
      // The SDK's validator checks the body (below) so that server and SDK give the same messages; the path
      // parameters are plain strings that the handler checks itself.
      validatorCompiler: () => () => true,
    },
    async (request, reply) => {
      const { namespace_id, pipeline_id } = request.params;
      const body = request.body as unknown;
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
      const input = result.config;
      if (input.id !== pipeline_id) {
        throw badRequest(
          `The config's id "${input.id}" does not match the pipeline "${pipeline_id}" in the URL`,
        );
      }
      requireIdentifier(pipeline_id, "pipeline id");
      await requireNamespace(db, namespace_id);

      const { tasks, order } = toStoredTasks(input);
      const { config, events } = await db.transaction().execute(async (tx) => {
        const now = Date.now();
        const events: GoferEvent[] = [];
        const existed = (await getPipeline(tx, namespace_id, pipeline_id)) !== undefined;
        await upsertPipeline(tx, namespace_id, pipeline_id, now);
        const config: PipelineConfig = {
          namespace_id,
          pipeline_id,
          version: (await latestVersion(tx, namespace_id, pipeline_id)) + 1,
          parallelism: input.parallelism,
          name: input.name,
          description: input.description ?? "",
          tasks,
          state: "unreleased",
          registered: now,
          deprecated: 0,
        };
        await insertConfig(tx, config, order);
        if (!existed) events.push(await bus.publish("created_pipeline", { namespace_id, pipeline_id }, tx));
        return { config, events };
      });
      for (const event of events) bus.deliver(event);
      const metadata = await requirePipeline(db, namespace_id, pipeline_id);
      return reply.code(201).send({ pipeline: { metadata, config: redactConfig(config) } });
    },
  );

  app.get(
    "/api/namespaces/:namespace_id/pipelines/:pipeline_id/configs/:version",
    {
      schema: {
        operationId: "get_config",
        tags: ["Configs"],
        summary: "Get one config version; version 0 means the latest registered.",
        params: VersionParams,
        response: { 200: Type.Object({ config: Type.Ref("Config") }), ...errorResponses },
      },
    },
    async (request) => {
      const { namespace_id, pipeline_id, version } = request.params;
      await requirePipeline(db, namespace_id, pipeline_id);
      const config = await getConfig(db, namespace_id, pipeline_id, version);
      if (!config) throw notFound(`Config version ${version} of pipeline "${pipeline_id}"`);
      return { config: redactConfig(config) };
    },
  );

  app.post(
    "/api/namespaces/:namespace_id/pipelines/:pipeline_id/configs/:version",
    {
      schema: {
        operationId: "deploy_config",
        tags: ["Configs"],
        summary:
          "Deploy a config version: it becomes `live` and new runs execute it; the previous live one is deprecated.",
        params: VersionParams,
        response: { 201: Type.Object({ deployment: Type.Ref("Deployment") }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { namespace_id, pipeline_id } = request.params;
      await requirePipeline(db, namespace_id, pipeline_id);
      const { deployment, events } = await db.transaction().execute(async (tx) => {
        const target = await getConfig(tx, namespace_id, pipeline_id, request.params.version);
        if (!target) throw notFound(`Config version ${request.params.version} of pipeline "${pipeline_id}"`);
        const live = await getLiveConfig(tx, namespace_id, pipeline_id);
        const now = Date.now();
        const range = {
          namespace_id,
          pipeline_id,
          start_version: live?.version ?? target.version,
          end_version: target.version,
        };
        const events = [await bus.publish("started_deployment", range, tx)];
        if (live && live.version !== target.version) {
          await setConfigState(tx, namespace_id, pipeline_id, live.version, "deprecated", now);
        }
        await setConfigState(tx, namespace_id, pipeline_id, target.version, "live", 0);
        const deployment: Deployment = {
          ...range,
          deployment_id: await nextDeploymentId(tx, namespace_id, pipeline_id),
          started: now,
          ended: now,
          state: "Complete",
          status: "Successful",
          status_reason: null,
          logs: [],
        };
        await insertDeployment(tx, deployment);
        events.push(await bus.publish("completed_deployment", range, tx));
        return { deployment, events };
      });
      for (const event of events) bus.deliver(event);
      return reply.code(201).send({ deployment });
    },
  );

  app.delete(
    "/api/namespaces/:namespace_id/pipelines/:pipeline_id/configs/:version",
    {
      schema: {
        operationId: "delete_config",
        tags: ["Configs"],
        summary:
          "Delete a config version. The latest, the live one and one with unfinished runs cannot be deleted.",
        params: VersionParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { namespace_id, pipeline_id, version } = request.params;
      await requirePipeline(db, namespace_id, pipeline_id);
      const config = await getConfig(db, namespace_id, pipeline_id, version);
      if (!config || version === 0) throw notFound(`Config version ${version} of pipeline "${pipeline_id}"`);
      if (config.version === (await latestVersion(db, namespace_id, pipeline_id))) {
        throw badRequest(
          `Cannot delete version ${version}: it is the latest version; register a newer one first`,
        );
      }
      if (config.state === "live") {
        throw badRequest(`Cannot delete version ${version}: it is live; deploy another version first`);
      }
      if (await configHasUnfinishedRuns(db, namespace_id, pipeline_id, version)) {
        throw new GoferError(
          "CONFLICT",
          `Cannot delete version ${version}: runs of it are still in progress`,
        );
      }
      await deleteConfig(db, namespace_id, pipeline_id, version);
      return reply.code(204).send(null);
    },
  );
};
