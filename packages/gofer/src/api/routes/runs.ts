import { RUN_LIST_STATUSES } from "@gofer/sdk/client";
import { Type } from "typebox";
import type { RoutePlugin } from "../api-context.ts";
import { errorResponses, PipelineParams, RunParams, StringMap } from "../schemas/common.ts";

export const runRoutes: RoutePlugin = (app, { runs }) => {
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
          // A string checked by the service, so that a word it does not know is answered with those it knows.
          status: Type.Optional(
            Type.String({
              description:
                `Only the runs in this state or with this status, one of ${RUN_LIST_STATUSES.join(", ")} ` +
                "(an extension of v0): `pending` and `running` runs have not ended, the others ended so.",
            }),
          ),
        }),
        response: { 200: Type.Object({ runs: Type.Array(Type.Ref("Run")) }), ...errorResponses },
      },
    },
    async (request) => {
      const { namespace_id, pipeline_id } = request.params;
      const { limit = 50, offset = 0, reverse = false, status } = request.query;
      const page = { limit, offset, reverse, ...(status !== undefined && { status }) };
      return { runs: await runs.list(namespace_id, pipeline_id, page) };
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
      const run = await runs.start(namespace_id, pipeline_id, variables, request.principal.initiator);
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
    async (request) => ({ run: await runs.get(request.params) }),
  );

  app.post(
    "/api/namespaces/:namespace_id/pipelines/:pipeline_id/runs/:run_id/retry",
    {
      schema: {
        operationId: "retry_run",
        tags: ["Runs"],
        summary:
          "Run a failed or cancelled run again, in place (an extension of v0): the tasks that did not succeed, and " +
          "those skipped or cancelled because of them, start over as a new attempt each; successful tasks and " +
          "their logs are kept. The run queues again under the same limits and ends with a new status.",
        params: RunParams,
        response: { 200: Type.Object({ run: Type.Ref("Run") }), ...errorResponses },
      },
    },
    async (request) => ({ run: await runs.retry(request.params) }),
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
      await runs.cancel(request.params, request.principal.initiator);
      return reply.code(204).send(null);
    },
  );
};
