/**
 * Notification targets of a namespace and of a pipeline (an extension of v0), under both owners' paths with the
 * same shapes. Each route parses, calls one method of the notification service (which holds the rules) and
 * serialises. Answers never carry a target's URL beyond its origin, nor its signing secret, except the secret
 * Gofer made, in the create answer.
 */
import { type TObject, Type } from "typebox";
import type { NotificationScope, NotificationService } from "../../services/notification-service.ts";
import type { GoferApp } from "../api-context.ts";
import {
  EpochMs,
  errorResponses,
  IdentifierParam,
  NamespaceParams,
  Nullable,
  PipelineParams,
} from "../schemas/common.ts";

export interface NotificationRouteServices {
  notifications: NotificationService;
}

const EVENTS_DESCRIPTION =
  "run_successful, run_failed, run_cancelled (a run ended so), task_failed (a task ended failed after its last attempt).";

const NotificationEvent = Type.Union([
  Type.Literal("run_successful"),
  Type.Literal("run_failed"),
  Type.Literal("run_cancelled"),
  Type.Literal("task_failed"),
]);

const Notification = Type.Object(
  {
    notification_id: Type.String(),
    namespace_id: Type.String(),
    pipeline_id: Nullable(Type.String({ description: "null for a namespace's target." })),
    url_origin: Type.String({ description: "Scheme, host and port of the URL; the rest is kept encrypted." }),
    format: Type.Union([Type.Literal("json"), Type.Literal("slack")]),
    events: Type.Array(NotificationEvent, { description: EVENTS_DESCRIPTION }),
    description: Type.String(),
    signed: Type.Boolean({ description: "Deliveries carry X-Gofer-Timestamp and X-Gofer-Signature-256." }),
    state: Type.Union([Type.Literal("enabled"), Type.Literal("disabled")]),
    state_reason: Nullable(
      Type.Object({
        reason: Type.Union([Type.Literal("disabled_by_user"), Type.Literal("failing")]),
        description: Type.String(),
      }),
    ),
    failures_in_a_row: Type.Integer({
      minimum: 0,
      description:
        "Failed deliveries since the last that succeeded; at the server's limit the target is disabled.",
    }),
    created: EpochMs,
    modified: EpochMs,
  },
  { description: "Where a namespace or pipeline is told of its runs (an extension of v0)." },
);

const Attempt = Type.Object({
  attempt: Type.Integer({ minimum: 1 }),
  started: EpochMs,
  duration_ms: Type.Integer({ minimum: 0 }),
  response_status: Nullable(Type.Integer({ description: "null when no answer came." })),
  response_body: Type.String({ description: "The start of the answer (at most 1 KiB)." }),
  error: Nullable(Type.String({ description: "Why the attempt failed; null when it succeeded." })),
});

const Delivery = Type.Object(
  {
    delivery_id: Type.String({ description: "Sent as X-Gofer-Delivery, the same on every attempt." }),
    notification_id: Type.String(),
    event: Type.Union([NotificationEvent, Type.Literal("test")]),
    event_id: Nullable(Type.String({ description: "The Gofer event it was made for; null for a test." })),
    pipeline_id: Nullable(Type.String()),
    run_id: Nullable(Type.Integer()),
    task_execution_id: Nullable(Type.String()),
    state: Type.Union([
      Type.Literal("pending"),
      Type.Literal("succeeded"),
      Type.Literal("failed"),
      Type.Literal("skipped"),
    ]),
    state_reason: Nullable(Type.String()),
    attempts: Type.Array(Attempt),
    next_attempt: EpochMs,
    created: EpochMs,
    completed: EpochMs,
  },
  { description: "One notification sent (or being sent) to a target, with each attempt's answer." },
);

const CreateBody = Type.Object(
  {
    url: Type.String({
      description:
        "http or https URL the POST goes to, without user:password. Stored encrypted; answers show its origin only.",
    }),
    // Checked in the service, so a wrong value gets a message naming those allowed.
    events: Type.Array(Type.String(), { description: EVENTS_DESCRIPTION }),
    format: Type.Optional(
      Type.String({
        description: 'json (default): the event as JSON, signed with HMAC-SHA256; slack: {"text": "…"}.',
      }),
    ),
    secret: Type.Optional(
      Type.String({
        description:
          "For json: the signing key (16-256 characters). Omitted, Gofer makes one and answers it once.",
      }),
    ),
    description: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

const UpdateBody = Type.Object(
  {
    state: Type.Optional(Nullable(Type.String({ description: '"enabled" or "disabled"' }))),
  },
  { additionalProperties: false },
);

const DeliveriesQuery = Type.Object({
  limit: Type.Integer({
    minimum: 1,
    maximum: 200,
    default: 50,
    description: "Newest first, at most this many.",
  }),
});

interface Owner {
  /** Names the operations: `list_<owner>_notifications`. */
  owner: "namespace" | "pipeline";
  path: string;
  params: TObject;
}

const OWNERS: Owner[] = [
  { owner: "namespace", path: "/api/namespaces/:namespace_id/notifications", params: NamespaceParams },
  {
    owner: "pipeline",
    path: "/api/namespaces/:namespace_id/pipelines/:pipeline_id/notifications",
    params: PipelineParams,
  },
];

interface RawParams {
  namespace_id: string;
  pipeline_id?: string;
  notification_id?: string;
}

const scopeOf = (params: unknown): NotificationScope => {
  const { namespace_id, pipeline_id } = params as RawParams;
  return { namespace_id, pipeline_id: pipeline_id ?? null };
};
const idOf = (params: unknown): string => (params as RawParams).notification_id ?? "";

export function notificationRoutes(app: GoferApp, { notifications }: NotificationRouteServices): void {
  for (const { owner, path, params } of OWNERS) {
    const whose =
      owner === "namespace" ? "the namespace's (fired by every pipeline in it)" : "the pipeline's";
    const one = `${path}/:notification_id`;
    const oneParams = Type.Object({ ...params.properties, notification_id: IdentifierParam });
    const tags = ["Notifications"];

    app.get(
      path,
      {
        schema: {
          operationId: `list_${owner}_notifications`,
          tags,
          summary: `List ${whose} notification targets.`,
          params,
          response: { 200: Type.Object({ notifications: Type.Array(Notification) }), ...errorResponses },
        },
      },
      async (request) => ({ notifications: await notifications.list(scopeOf(request.params)) }),
    );

    app.post(
      path,
      {
        schema: {
          operationId: `create_${owner}_notification`,
          tags,
          summary:
            `Add a notification target to ${whose}: Gofer POSTs to the URL when a run ends or a task fails, ` +
            "as the events say. Failed deliveries are retried; a target that keeps failing is disabled.",
          params,
          body: CreateBody,
          response: {
            201: Type.Object({
              notification: Notification,
              secret: Nullable(
                Type.String({ description: "The signing secret Gofer made: shown in this answer only." }),
              ),
            }),
            ...errorResponses,
          },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await notifications.create(scopeOf(request.params), request.body)),
    );

    app.get(
      one,
      {
        schema: {
          operationId: `get_${owner}_notification`,
          tags,
          summary: `One of ${whose} notification targets.`,
          params: oneParams,
          response: { 200: Type.Object({ notification: Notification }), ...errorResponses },
        },
      },
      async (request) => ({
        notification: await notifications.get(scopeOf(request.params), idOf(request.params)),
      }),
    );

    app.patch(
      one,
      {
        schema: {
          operationId: `update_${owner}_notification`,
          tags,
          summary:
            "Enable or disable a notification target. Enabling clears its count of failures (and the reason " +
            "Gofer disabled it for).",
          params: oneParams,
          body: UpdateBody,
          response: { 200: Type.Object({ notification: Notification }), ...errorResponses },
        },
      },
      async (request) => ({
        notification: await notifications.setState(
          scopeOf(request.params),
          idOf(request.params),
          request.body.state,
        ),
      }),
    );

    app.delete(
      one,
      {
        schema: {
          operationId: `delete_${owner}_notification`,
          tags,
          summary: "Delete a notification target and its deliveries.",
          params: oneParams,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        await notifications.delete(scopeOf(request.params), idOf(request.params));
        return reply.code(204).send(null);
      },
    );

    app.get(
      `${one}/deliveries`,
      {
        schema: {
          operationId: `list_${owner}_notification_deliveries`,
          tags,
          summary:
            "What was delivered to the target (the newest 200 are kept), newest first, with the answers.",
          params: oneParams,
          querystring: DeliveriesQuery,
          response: { 200: Type.Object({ deliveries: Type.Array(Delivery) }), ...errorResponses },
        },
      },
      async (request) => ({
        deliveries: await notifications.deliveries(
          scopeOf(request.params),
          idOf(request.params),
          request.query.limit,
        ),
      }),
    );

    app.post(
      `${one}/test`,
      {
        schema: {
          operationId: `test_${owner}_notification`,
          tags,
          summary:
            "Send a test delivery now, once, even to a disabled target, and answer with its outcome. It is not " +
            "retried and does not change the target.",
          params: oneParams,
          response: { 200: Type.Object({ delivery: Delivery }), ...errorResponses },
        },
      },
      async (request) => ({
        delivery: await notifications.test(scopeOf(request.params), idOf(request.params)),
      }),
    );
  }
}
