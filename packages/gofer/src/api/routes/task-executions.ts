import type { FastifyRequest } from "fastify";
import { Type } from "typebox";
import type { WebSocket } from "ws";
import { redactTask } from "../../domain/config-conversion.ts";
import { badRequest, GoferError } from "../../domain/errors.ts";
import { logKeyOf } from "../../orchestrator/task-launcher.ts";
import { requireRun, requireTaskExecution } from "../../services/lookups.ts";
import type { GoferDb } from "../../storage/database.ts";
import {
  getTaskExecution,
  listTaskExecutions,
  publicTaskExecution,
  type StoredTaskExecution,
  type TaskExecutionKey,
  updateTaskExecution,
} from "../../storage/task-executions-store.ts";
import type { ApiServices, RoutePlugin } from "../api-context.ts";
import { abortOnClose, sendPlainText, streamToSocket } from "../log-streams.ts";
import { errorResponses, RunParams, TaskParams } from "../schemas/common.ts";

const TASKS_URL = "/api/namespaces/:namespace_id/pipelines/:pipeline_id/runs/:run_id/tasks";

const present = (execution: StoredTaskExecution) => {
  const wire = publicTaskExecution(execution);
  return { ...wire, task: redactTask(wire.task) };
};

export const taskExecutionRoutes: RoutePlugin = (app, services) => {
  const { db, orchestrator, logs } = services;

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
    async (request) => {
      const { namespace_id, pipeline_id, run_id } = request.params;
      await requireRun(db, namespace_id, pipeline_id, run_id);
      return {
        task_executions: (await listTaskExecutions(db, namespace_id, pipeline_id, run_id)).map(present),
      };
    },
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
    async (request) => ({ task_execution: present(await requireTaskExecution(db, request.params)) }),
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
      await requireTaskExecution(db, request.params);
      const waitForMs =
        request.query.wait_for === undefined ? services.stopTimeoutMs : request.query.wait_for * 1000;
      await orchestrator.cancelTask(request.params, waitForMs, request.principal.initiator);
      return reply.code(204).send(null);
    },
  );

  app.route({
    method: "GET",
    url: `${TASKS_URL}/:task_id/logs`,
    schema: {
      operationId: "get_logs",
      tags: ["Tasks"],
      summary:
        "A task's log, one line per WebSocket text frame (closed once the task is complete and the log read); " +
        "without an Upgrade header, plain text: the log so far, or with `follow=true` streamed until the task ends.",
      params: TaskParams,
      querystring: Type.Object({ follow: Type.Optional(Type.Boolean()) }),
      response: { ...errorResponses },
    },
    preHandler: async (request) => {
      const execution = await requireTaskExecution(db, request.params as TaskExecutionKey);
      if (execution.logs_removed) {
        throw new GoferError("LOGS_REMOVED", `The logs of task "${execution.task_id}" were removed`);
      }
    },
    handler: async (request, reply) => {
      const key = request.params;
      const abort = abortOnClose(reply);
      return sendPlainText(reply, readLog(services, key, request.query.follow === true, abort.signal));
    },
    wsHandler: (socket: WebSocket, request: FastifyRequest) => {
      const key = request.params as TaskExecutionKey;
      const abort = new AbortController();
      socket.on("close", () => abort.abort());
      const blocks = readLog(services, key, true, abort.signal);
      void streamToSocket(socket, blocks, abort.signal, request.raw.socket);
    },
  });

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
      const execution = await requireTaskExecution(db, request.params);
      if (execution.state !== "complete") {
        throw badRequest(
          `Task "${execution.task_id}" is still ${execution.state}; its log can be deleted once it completes`,
        );
      }
      await logs.remove(logKeyOf(execution));
      await updateTaskExecution(db, request.params, { logs_removed: true });
      return reply.code(204).send(null);
    },
  );
};

/** The log as blocks of whole lines, the shape both ways of serving it take. */
function readLog(services: ApiServices, key: TaskExecutionKey, follow: boolean, signal: AbortSignal) {
  const logKey = logKeyOf(key);
  if (!follow) return services.logs.read(logKey, { follow: false, signal });
  return services.logs.read(logKey, {
    follow: true,
    signal,
    isFinished: () => isSettled(services.db, key),
  });
}

/** A task is settled once complete; a task that was never found is settled too, so nothing waits forever. */
async function isSettled(db: GoferDb, key: TaskExecutionKey): Promise<boolean> {
  const execution = await getTaskExecution(db, key);
  return execution === undefined || execution.state === "complete";
}
