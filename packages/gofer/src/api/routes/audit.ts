/** `GET /api/audit` (an extension of v0): the audit trail of every API call that could change something. */
import { Type } from "typebox";
import type { RoutePlugin } from "../api-context.ts";
import { errorResponses, Nullable } from "../schemas/common.ts";

const DEFAULT_LIMIT = 100;
const time = (description: string) =>
  Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description });

const AuditRecord = Type.Object({
  id: Type.Integer({ description: "Increasing with time." }),
  time: Type.Integer({ description: "When the call's row was written, epoch ms." }),
  request_id: Type.String({ description: "As in the answer's `x-request-id` header and error envelope." }),
  token_id: Nullable(Type.String({ description: "The token the call was made with; null without one." })),
  user: Type.String({ description: "The token's user; `anonymous` for calls without a token." }),
  method: Type.String(),
  operation: Type.String({ description: "The operation id, e.g. `delete_pipeline`." }),
  route: Type.String({ description: "The route pattern, e.g. `/api/namespaces/:namespace_id`." }),
  target: Type.String({
    description: "What the call named: its path below `/api/`, e.g. `namespaces/default`.",
  }),
  outcome: Type.Union([Type.Literal("succeeded"), Type.Literal("failed")], {
    description: "`failed` for every answer of 400 or above.",
  }),
  status: Type.Integer({ description: "The HTTP status of the answer (101 for an attached terminal)." }),
  error_code: Nullable(Type.String({ description: "The failure's `error_code`." })),
  client_address: Type.String({
    description:
      "Where the call came from; for a call another replica forwarded, the address that replica saw.",
  }),
  forwarded_for: Nullable(
    Type.String({ description: "`X-Forwarded-For` as proxies in front of Gofer sent it, not verified." }),
  ),
  forwarded_by: Nullable(Type.String({ description: "The replica that forwarded the call to the leader." })),
});

const AuditQuery = Type.Object(
  {
    user: Type.Optional(
      Type.String({ minLength: 1, maxLength: 256, description: "Only this user's calls." }),
    ),
    target: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 4096,
        description:
          "Only calls on this target or below it: `namespaces/default/pipelines/build` finds the pipeline's runs, " +
          "secrets and objects too, but not `build-2`.",
      }),
    ),
    since: Type.Optional(time("Only calls at or after this time (epoch ms).")),
    until: Type.Optional(time("Only calls before this time (epoch ms).")),
    before: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: Number.MAX_SAFE_INTEGER,
        description: "Only rows with a smaller id: pass the last id of a page to get the next one.",
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: DEFAULT_LIMIT })),
  },
  { additionalProperties: false },
);

export const auditRoutes: RoutePlugin = (app, { audit }) => {
  app.get(
    "/api/audit",
    {
      schema: {
        operationId: "list_audit_events",
        tags: ["Audit"],
        summary:
          "The audit trail, newest first: one row per API call that could change something (who, what, when, " +
          "how it ended), written in the transaction of the change. Reads are not recorded.",
        querystring: AuditQuery,
        response: { 200: Type.Object({ audit: Type.Array(AuditRecord) }), ...errorResponses },
      },
    },
    async (request) => {
      const { user, target, since, until, before, limit = DEFAULT_LIMIT } = request.query;
      return { audit: await audit.list({ user, target, since, until, before, limit }) };
    },
  );
};
