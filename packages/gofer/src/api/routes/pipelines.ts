import { Type } from "typebox";
import { badRequest, GoferError } from "../../domain/errors.ts";
import { requireNamespace, requirePipeline } from "../../services/lookups.ts";
import { deletePipeline, listPipelines, setPipelineState } from "../../storage/pipelines-store.ts";
import { listUnfinishedRuns } from "../../storage/runs-store.ts";
import type { RoutePlugin } from "../api-context.ts";
import { errorResponses, Literals, NamespaceParams, PipelineParams } from "../schemas/common.ts";

export const pipelineRoutes: RoutePlugin = (app, { db, bus }) => {
  app.get(
    "/api/namespaces/:namespace_id/pipelines",
    {
      schema: {
        operationId: "list_pipelines",
        tags: ["Pipelines"],
        summary: "List the pipelines of a namespace.",
        params: NamespaceParams,
        response: { 200: Type.Object({ pipelines: Type.Array(Type.Ref("Metadata")) }), ...errorResponses },
      },
    },
    async (request) => {
      await requireNamespace(db, request.params.namespace_id);
      return { pipelines: await listPipelines(db, request.params.namespace_id) };
    },
  );

  app.get(
    "/api/namespaces/:namespace_id/pipelines/:pipeline_id",
    {
      schema: {
        operationId: "get_pipeline",
        tags: ["Pipelines"],
        summary: "Get a pipeline's metadata.",
        params: PipelineParams,
        response: { 200: Type.Object({ pipeline: Type.Ref("Metadata") }), ...errorResponses },
      },
    },
    async (request) => ({
      pipeline: await requirePipeline(db, request.params.namespace_id, request.params.pipeline_id),
    }),
  );

  app.patch(
    "/api/namespaces/:namespace_id/pipelines/:pipeline_id",
    {
      schema: {
        operationId: "update_pipeline",
        tags: ["Pipelines"],
        summary: "Enable or disable a pipeline. A disabled pipeline refuses new runs.",
        params: PipelineParams,
        body: Type.Object(
          { state: Type.Optional(Type.Union([Literals(["active", "disabled"]), Type.Null()])) },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { namespace_id, pipeline_id } = request.params;
      const state = request.body.state;
      if (!state) throw badRequest('Nothing to update; send `state` ("active" or "disabled")');
      const pipeline = await requirePipeline(db, namespace_id, pipeline_id);
      if (pipeline.state !== state) {
        await setPipelineState(db, namespace_id, pipeline_id, state, Date.now());
        await bus.publish(state === "active" ? "enabled_pipeline" : "disabled_pipeline", {
          namespace_id,
          pipeline_id,
        });
      }
      return reply.code(204).send(null);
    },
  );

  app.delete(
    "/api/namespaces/:namespace_id/pipelines/:pipeline_id",
    {
      schema: {
        operationId: "delete_pipeline",
        tags: ["Pipelines"],
        summary: "Delete a pipeline with its configs and runs. Refused while any of its runs is unfinished.",
        params: PipelineParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { namespace_id, pipeline_id } = request.params;
      await requirePipeline(db, namespace_id, pipeline_id);
      const busy = (await listUnfinishedRuns(db)).filter(
        (run) => run.namespace_id === namespace_id && run.pipeline_id === pipeline_id,
      );
      if (busy.length > 0) {
        throw new GoferError(
          "CONFLICT",
          `Pipeline "${pipeline_id}" has ${busy.length} unfinished run(s); cancel them and retry`,
        );
      }
      await deletePipeline(db, namespace_id, pipeline_id);
      await bus.publish("deleted_pipeline", { namespace_id, pipeline_id });
      return reply.code(204).send(null);
    },
  );
};
