import { Type } from "typebox";
import { notFound } from "../../domain/errors.ts";
import { requirePipeline } from "../../services/lookups.ts";
import { getDeployment, listDeployments } from "../../storage/deployments-store.ts";
import type { RoutePlugin } from "../api-context.ts";
import { errorResponses, IdentifierParam, PipelineParams } from "../schemas/common.ts";

export const deploymentRoutes: RoutePlugin = (app, { db }) => {
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
    async (request) => {
      const { namespace_id, pipeline_id } = request.params;
      await requirePipeline(db, namespace_id, pipeline_id);
      return { deployments: await listDeployments(db, namespace_id, pipeline_id) };
    },
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
      await requirePipeline(db, namespace_id, pipeline_id);
      const deployment = await getDeployment(db, namespace_id, pipeline_id, deployment_id);
      if (!deployment) throw notFound(`Deployment ${deployment_id} of pipeline "${pipeline_id}"`);
      return { deployment };
    },
  );
};
