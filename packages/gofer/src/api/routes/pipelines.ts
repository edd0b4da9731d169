import { Type } from "typebox";
import type { RoutePlugin } from "../api-context.ts";
import { errorResponses, Literals, NamespaceParams, PipelineParams } from "../schemas/common.ts";

export const pipelineRoutes: RoutePlugin = (app, { pipelines }) => {
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
    async (request) => ({ pipelines: await pipelines.list(request.params.namespace_id) }),
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
      pipeline: await pipelines.get(request.params.namespace_id, request.params.pipeline_id),
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
      await pipelines.setState(namespace_id, pipeline_id, request.body.state);
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
      await pipelines.delete(request.params.namespace_id, request.params.pipeline_id);
      return reply.code(204).send(null);
    },
  );
};
