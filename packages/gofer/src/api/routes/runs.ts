import { Type } from "typebox";
import { badRequest } from "../../domain/errors.ts";
import { requirePipeline, requireRun } from "../../services/lookups.ts";
import { listRuns, publicRun } from "../../storage/runs-store.ts";
import type { RoutePlugin } from "../api-context.ts";
import { errorResponses, PipelineParams, RunParams, StringMap } from "../schemas/common.ts";

const MAX_RUN_VARIABLES = 1000;
const MAX_VARIABLE_VALUE_BYTES = 64 * 1024;

export const runRoutes: RoutePlugin = (app, { db, orchestrator }) => {
  app.get(
    "/api/namespaces/:namespace_id/pipelines/:pipeline_id/runs",
    {
      schema: {
        operationId: "list_runs",
        tags: ["Runs"],
        summary: "List a pipeline's runs, oldest first unless `reverse=true`.",
        params: PipelineParams,
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
          offset: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 })),
          reverse: Type.Optional(Type.Boolean({ default: false })),
        }),
        response: { 200: Type.Object({ runs: Type.Array(Type.Ref("Run")) }), ...errorResponses },
      },
    },
    async (request) => {
      const { namespace_id, pipeline_id } = request.params;
      await requirePipeline(db, namespace_id, pipeline_id);
      const { limit = 50, offset = 0, reverse = false } = request.query;
      const runs = await listRuns(db, namespace_id, pipeline_id, { limit, offset, reverse });
      return { runs: runs.map(publicRun) };
    },
  );

  app.post(
    "/api/namespaces/:namespace_id/pipelines/:pipeline_id/runs",
    {
      schema: {
        operationId: "start_run",
        tags: ["Runs"],
        summary:
          "Start a run of the pipeline's live config. Returns at once; over a parallelism limit the run waits in " +
          "state `pending`.",
        params: PipelineParams,
        body: Type.Object({ variables: Type.Optional(StringMap) }, { additionalProperties: false }),
        response: { 201: Type.Object({ run: Type.Ref("Run") }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { namespace_id, pipeline_id } = request.params;
      const variables = request.body.variables ?? {};
      checkRunVariables(variables);
      const run = await orchestrator.startRun(
        namespace_id,
        pipeline_id,
        variables,
        request.principal.initiator,
      );
      return reply.code(201).send({ run });
    },
  );

  app.get(
    "/api/namespaces/:namespace_id/pipelines/:pipeline_id/runs/:run_id",
    {
      schema: {
        operationId: "get_run",
        tags: ["Runs"],
        summary: "Get one run.",
        params: RunParams,
        response: { 200: Type.Object({ run: Type.Ref("Run") }), ...errorResponses },
      },
    },
    async (request) => {
      const { namespace_id, pipeline_id, run_id } = request.params;
      return { run: publicRun(await requireRun(db, namespace_id, pipeline_id, run_id)) };
    },
  );

  app.delete(
    "/api/namespaces/:namespace_id/pipelines/:pipeline_id/runs/:run_id",
    {
      schema: {
        operationId: "cancel_run",
        tags: ["Runs"],
        summary:
          "Cancel a run: running tasks are stopped gracefully (then killed after `api.task_execution_stop_timeout`), " +
          "tasks not yet started end `cancelled`.",
        params: RunParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { namespace_id, pipeline_id, run_id } = request.params;
      await requireRun(db, namespace_id, pipeline_id, run_id);
      await orchestrator.cancelRun({ namespace_id, pipeline_id, run_id }, request.principal.initiator);
      return reply.code(204).send(null);
    },
  );
};

function checkRunVariables(variables: Record<string, string>): void {
  const keys = Object.keys(variables);
  if (keys.length > MAX_RUN_VARIABLES)
    throw badRequest(`Too many variables (${keys.length}); at most ${MAX_RUN_VARIABLES}`);
  for (const key of keys) {
    if (key === "" || key.includes("=") || key.includes("\0") || key.length > 256) {
      throw badRequest(
        `Invalid variable name ${JSON.stringify(key.slice(0, 64))}: 1–256 characters, no "=" or NUL`,
      );
    }
    if (Buffer.byteLength(variables[key] ?? "") > MAX_VARIABLE_VALUE_BYTES) {
      throw badRequest(`Variable ${key} is larger than ${MAX_VARIABLE_VALUE_BYTES} bytes`);
    }
  }
}
