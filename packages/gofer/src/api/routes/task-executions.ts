import type { FastifyRequest } from "fastify";
import { Type } from "typebox";
import type { WebSocket } from "ws";
import type { TaskExecutionKey } from "../../domain/task-execution-key.ts";
import { lineObjects } from "../../logs/line-objects.ts";
import type { RoutePlugin } from "../api-context.ts";
import { abortOnClose, sendLineObjects, sendPlainText, streamToSocket } from "../log-streams.ts";
import { errorResponses, RunParams, TaskParams } from "../schemas/common.ts";

const TASKS_URL = "/api/namespaces/:namespace_id/pipelines/:pipeline_id/runs/:run_id/tasks";

/** `lines`: one JSON object per line with its stream and time (an extension of v0); `text`, the default, is v0's. */
const LogQuery = Type.Object({
  follow: Type.Optional(Type.Boolean()),
  format: Type.Optional(
    Type.Union([Type.Literal("text"), Type.Literal("lines")], {
      description:
        '`lines` answers one JSON object per line, `{"line", "stream", "time"}` (NDJSON over HTTP, one ' +
        "text frame each over WebSocket); `stream` (`stdout` or `stderr`) and `time` (Unix epoch ms the line " +
        "arrived, to a tenth of a second) are absent where unknown. An extension of v0; `text` (the default) " +
        "is v0's plain text.",
    }),
  ),
});

type LogQuery = Type.Static<typeof LogQuery>;

const AttemptParams = Type.Object({
  ...TaskParams.properties,
  attempt: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
});

declare module "fastify" {
  interface FastifyRequest {
    /** The attempt whose log a log route serves, settled before any byte is sent. */
    logAttempt: number;
  }
}

export const taskExecutionRoutes: RoutePlugin = (app, { taskExecutions }) => {
  app.decorateRequest("logAttempt", 0);
  app.get(
    TASKS_URL,
    {
      schema: {
        operationId: "list_task_executions",
        tags: ["Tasks"],
        summary: "List the task executions of a run.",
        params: RunParams,
        response: {
          200: Type.Object({ task_executions: Type.Array(Type.Ref("TaskExecution")) }),
          ...errorResponses,
        },
      },
    },
    async (request) => ({ task_executions: await taskExecutions.list(request.params) }),
  );

  app.get(
    `${TASKS_URL}/:task_id`,
    {
      schema: {
        operationId: "get_task_execution",
        tags: ["Tasks"],
        summary: "Get one task execution.",
        params: TaskParams,
        response: { 200: Type.Object({ task_execution: Type.Ref("TaskExecution") }), ...errorResponses },
      },
    },
    async (request) => ({ task_execution: await taskExecutions.get(request.params) }),
  );

  app.delete(
    `${TASKS_URL}/:task_id`,
    {
      schema: {
        operationId: "cancel_task_execution",
        tags: ["Tasks"],
        summary:
          "Cancel one task: its container gets SIGTERM, then SIGKILL after `wait_for` seconds (0 = at once). " +
          "Dependents that have not started end `cancelled`.",
        params: TaskParams,
        querystring: Type.Object({
          wait_for: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400 })),
        }),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await taskExecutions.cancel(request.params, request.query.wait_for, request.principal.initiator);
      return reply.code(204).send(null);
    },
  );

  /** The latest attempt's log at `…/logs`, one attempt's at `…/attempts/{attempt}/logs`: served alike. */
  const logRoute = (url: string, operationId: string, summary: string, params: typeof TaskParams) => {
    const attemptOf = (request: FastifyRequest) => (request.params as { attempt?: number }).attempt;
    app.route({
      method: "GET",
      url,
      schema: {
        operationId,
        tags: ["Tasks"],
        summary,
        params,
        querystring: LogQuery,
        response: { ...errorResponses },
      },
      preHandler: async (request) => {
        request.logAttempt = await taskExecutions.requireLog(
          request.params as TaskExecutionKey,
          attemptOf(request),
        );
      },
      handler: async (request, reply) => {
        const abort = abortOnClose(reply);
        const query = request.query as LogQuery;
        const key = request.params as TaskExecutionKey;
        const blocks = taskExecutions.readLog(key, request.logAttempt, query.follow === true, abort.signal);
        return query.format === "lines"
          ? sendLineObjects(reply, lineObjects(blocks))
          : sendPlainText(reply, blocks);
      },
      wsHandler: (socket: WebSocket, request: FastifyRequest) => {
        const key = request.params as TaskExecutionKey;
        const abort = new AbortController();
        socket.on("close", () => abort.abort());
        const blocks = taskExecutions.readLog(key, request.logAttempt, true, abort.signal);
        const frames = (request.query as LogQuery).format === "lines" ? lineObjects(blocks) : blocks;
        void streamToSocket(socket, frames, abort.signal, request.raw.socket);
      },
    });
  };

  logRoute(
    `${TASKS_URL}/:task_id/logs`,
    "get_logs",
    "A task's log (its latest attempt's), one line per WebSocket text frame (closed once the task is complete and " +
      "the log read); without an Upgrade header, plain text: the log so far, or with `follow=true` streamed until " +
      "the task ends.",
    TaskParams,
  );

  app.get(
    `${TASKS_URL}/:task_id/attempts`,
    {
      schema: {
        operationId: "list_task_attempts",
        tags: ["Tasks"],
        summary:
          "Every attempt of a task, oldest first, with exit codes, reasons and times; the last is the current " +
          "one (an extension of v0).",
        params: TaskParams,
        response: { 200: Type.Object({ attempts: Type.Array(Type.Ref("TaskAttempt")) }), ...errorResponses },
      },
    },
    async (request) => ({ attempts: await taskExecutions.attempts(request.params) }),
  );

  logRoute(
    `${TASKS_URL}/:task_id/attempts/:attempt/logs`,
    "get_attempt_logs",
    "One attempt's log, served as `…/logs` serves the latest (an extension of v0).",
    AttemptParams,
  );

  app.delete(
    `${TASKS_URL}/:task_id/logs`,
    {
      schema: {
        operationId: "delete_logs",
        tags: ["Tasks"],
        summary: "Delete a completed task's log.",
        params: TaskParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await taskExecutions.deleteLog(request.params);
      return reply.code(204).send(null);
    },
  );
};
