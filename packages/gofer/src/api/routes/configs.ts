import { Type } from "typebox";
import type { RoutePlugin } from "../api-context.ts";
import { errorResponses, PipelineParams } from "../schemas/common.ts";
import { PipelineInput } from "../schemas/pipeline-input.ts";

const VersionParams = Type.Object({
  namespace_id: Type.String(),
  pipeline_id: Type.String(),
  version: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
});

export const configRoutes: RoutePlugin = (app, { configs }) => {
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
    async (request) => ({
      configs: await configs.list(request.params.namespace_id, request.params.pipeline_id),
    }),
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
      // The config service checks the body with the SDK's validator so that server and SDK give the same
      // messages; the path parameters are plain strings, checked there against the body's id.
      validatorCompiler: () => () => true,
    },
    async (request, reply) => {
      const { namespace_id, pipeline_id } = request.params;
      const pipeline = await configs.register(namespace_id, pipeline_id, request.body as unknown);
      return reply.code(201).send({ pipeline });
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
      return { config: await configs.get(namespace_id, pipeline_id, version) };
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
      const { namespace_id, pipeline_id, version } = request.params;
      return reply.code(201).send({ deployment: await configs.deploy(namespace_id, pipeline_id, version) });
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
      await configs.delete(namespace_id, pipeline_id, version);
      return reply.code(204).send(null);
    },
  );
};
