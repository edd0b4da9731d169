import { Type } from "typebox";
import type { RoutePlugin } from "../api-context.ts";
import { errorResponses, IdentifierParam, PipelineParams } from "../schemas/common.ts";

export const deploymentRoutes: RoutePlugin = (app, { deployments }) => {
  app.get(
    "/api/namespaces/:namespace_id/pipelines/:pipeline_id/deployments",
    {
      schema: {
        operationId: "list_deployments",
        tags: ["Deployments"],
        summary: "List a pipeline's deployments, newest first.",
        params: PipelineParams,
        response: {
          200: Type.Object({ deployments: Type.Array(Type.Ref("Deployment")) }),
          ...errorResponses,
        },
      },
    },
    async (request) => ({
      deployments: await deployments.list(request.params.namespace_id, request.params.pipeline_id),
    }),
  );

  app.get(
    "/api/namespaces/:namespace_id/pipelines/:pipeline_id/deployments/:deployment_id",
    {
      schema: {
        operationId: "get_deployment",
        tags: ["Deployments"],
        summary: "Get one deployment.",
        params: Type.Object({
          namespace_id: IdentifierParam,
          pipeline_id: IdentifierParam,
          deployment_id: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
        }),
        response: { 200: Type.Object({ deployment: Type.Ref("Deployment") }), ...errorResponses },
      },
    },
    async (request) => {
      const { namespace_id, pipeline_id, deployment_id } = request.params;
      return { deployment: await deployments.get(namespace_id, pipeline_id, deployment_id) };
    },
  );
};
