/**
 * `GET .../tasks/{task_id}/attach`: a terminal into a running task's container over a WebSocket (v0's attach).
 * Everything that can be refused is refused before the upgrade, so a client gets an HTTP status and the v0 error
 * envelope instead of a socket that opens and closes at once.
 */
import type { FastifyRequest } from "fastify";
import { Type } from "typebox";
import type { WebSocket } from "ws";
import type { TaskExecutionKey } from "../../domain/task-execution-key.ts";
import type { RoutePlugin } from "../api-context.ts";
import { splitCommandWords } from "../command-words.ts";
import { errorResponses, TaskParams } from "../schemas/common.ts";
import { relayTerminal } from "../terminal-relay.ts";
import { refusePlainHttp } from "../websocket-routes.ts";

const DEFAULT_COMMAND = "/bin/sh";
const Dimension = Type.Integer({ minimum: 1, maximum: 1000 });
const AttachQuery = Type.Object({
  command: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 4096,
      description:
        "Command to run (default `/bin/sh`), split into words as a shell would: quotes and backslashes work, nothing is expanded.",
    }),
  ),
  columns: Type.Optional(Dimension),
  rows: Type.Optional(Dimension),
  tty: Type.Optional(
    Type.Boolean({
      description:
        "Run the command with a terminal (default). false gives plain pipes, for scripted input: send the " +
        '`\\u0000{"eof":true}` control message to close its stdin.',
    }),
  ),
});

interface AttachQueryValue {
  command?: string;
  columns?: number;
  rows?: number;
  tty?: boolean;
}

export const taskAttachRoutes: RoutePlugin = (app, { taskExecutions }) => {
  app.route({
    method: "GET",
    url: "/api/namespaces/:namespace_id/pipelines/:pipeline_id/runs/:run_id/tasks/:task_id/attach",
    schema: {
      operationId: "attach_task_execution",
      tags: ["Tasks"],
      summary:
        "WebSocket terminal into a running task: runs `command` (default `/bin/sh`) in its container with a " +
        "TTY. Frames from the client are stdin; a text frame starting with NUL is a control message: " +
        '`\\u0000{"resize":{"columns":C,"rows":R}}` or `\\u0000{"eof":true}` (closes stdin). Output arrives as binary frames; when the command exits ' +
        "the socket closes with code 1000 and reason `exited <code>`. Turned off by `api.task_attach = false`.",
      params: TaskParams,
      querystring: AttachQuery,
      response: { ...errorResponses },
    },
    preHandler: async (request) => {
      commandOf(request.query as AttachQueryValue);
      await taskExecutions.requireAttachable(request.params as TaskExecutionKey);
    },
    handler: refusePlainHttp,
    wsHandler: (socket: WebSocket, request: FastifyRequest) => {
      const query = request.query as AttachQueryValue;
      const key = request.params as TaskExecutionKey;
      const command = commandOf(query);
      request.log.info(
        { task: key, by: request.principal.initiator.user, command },
        "terminal attached to task",
      );
      // The task may end between the check and the exec, or the engine may refuse: the relay closes with why.
      const starting = taskExecutions.attach(key, command, query.tty ?? true).then(async (session) => {
        if (query.columns && query.rows)
          await session.resize(query.columns, query.rows).catch(() => undefined);
        return session;
      });
      void relayTerminal(socket, starting);
    },
  });
};

const commandOf = (query: AttachQueryValue): string[] => splitCommandWords(query.command ?? DEFAULT_COMMAND);
