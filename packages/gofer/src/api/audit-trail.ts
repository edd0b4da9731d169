/**
 * Opens the audit scope of every authorised API call that may change something: any method but GET, HEAD and
 * OPTIONS, and routes that need write or delete access whatever their method (attaching a terminal to a task).
 * The handler runs inside the scope, so the call's first committed write carries its row
 * (storage/audited-dialect.ts); when the answer goes out without one, the row is written then, with the
 * answer's status and error code. Calls refused by authentication or authorisation never open a scope: they
 * changed nothing and name no trustworthy user.
 *
 * The row never holds the body, the query string or a header's value other than the forwarding addresses, so
 * no secret value, token secret or object content can reach it.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { accessFor } from "../auth/route-access.ts";
import type { AuditService } from "../services/audit-service.ts";
import type { AuditOutcome } from "../storage/audit-store.ts";
import { type AuditDraft, AuditScope, runInAuditScope } from "../support/audit-scope.ts";
import type { GoferApp } from "./api-context.ts";
import { FORWARDED_HEADER } from "./replica-forwarding.ts";

const READS = new Set(["GET", "HEAD", "OPTIONS"]);
/** What an accepted WebSocket upgrade is answered with. */
const SWITCHING_PROTOCOLS = 101;

export interface AuditTrailOptions {
  audit: AuditService;
  /**
   * Whether replicas share the database: only then is a request that says another replica forwarded it
   * believed, and its client taken from the `X-Forwarded-For` entry that replica added.
   */
  replicated: boolean;
}

/** Whether a call of this operation may change something, and so is audited. */
export function isAudited(method: string, operationId: string): boolean {
  const access = accessFor(operationId);
  return !READS.has(method) || (access.kind === "resources" && access.action !== "read");
}

/**
 * Installs the hooks. Call it after the hook that authorises requests (its `onRequest` hook must run after that
 * one) and before any route is added (WebSocket routes are wrapped as they are added).
 */
export function auditCalls(app: GoferApp, options: AuditTrailOptions): void {
  const scopes = new WeakMap<FastifyRequest, AuditScope>();

  const answer = async (request: FastifyRequest, outcome: AuditOutcome): Promise<void> => {
    const scope = scopes.get(request);
    if (!scope) return;
    scopes.delete(request);
    try {
      await options.audit.answered(scope, outcome);
    } catch (error) {
      request.log.error({ err: error }, "could not write the audit row of this request");
    }
  };

  app.addHook("onRequest", async (request) => {
    const operationId = request.routeOptions.schema?.operationId;
    if (!operationId || !isAudited(request.method, operationId)) return;
    scopes.set(request, new AuditScope(draftOf(request, operationId, options.replicated)));
  });

  // A callback hook: the rest of the request (route hooks, the handler) runs inside the scope.
  app.addHook("preHandler", (request, _reply, done) => {
    const scope = scopes.get(request);
    if (scope) runInAuditScope(scope, done);
    else done();
  });

  // Before the answer leaves, so a client that reads the audit trail after an answer finds the call's row.
  app.addHook("onSend", async (request, reply, payload) => {
    await answer(request, outcomeOf(reply, payload));
    return payload;
  });

  // An answer that never passed onSend (the client went away) still ends its scope with a row.
  app.addHook("onResponse", async (request, reply) => {
    await answer(request, outcomeOf(reply, undefined));
  });

  // An accepted upgrade is answered by the WebSocket plugin, past every reply hook: its row is written here.
  app.addHook("onRoute", (route) => {
    if (!route.wsHandler) return;
    const handler = route.handler;
    route.handler = function (this: unknown, request, reply) {
      if (request.ws)
        void answer(request, { outcome: "succeeded", status: SWITCHING_PROTOCOLS, error_code: null });
      return handler.call(this as never, request, reply);
    };
  });
}

function draftOf(request: FastifyRequest, operation: string, replicated: boolean): AuditDraft {
  const route = request.routeOptions.url ?? "";
  return {
    request_id: request.id,
    token_id: request.principal.token?.id ?? null,
    user: request.principal.initiator.user,
    method: request.method,
    operation,
    route,
    target: targetOf(route, request.params as Record<string, unknown>),
    ...addressesOf(request, replicated),
    success_status: successStatus(request),
  };
}

/** The route with its parameters filled in, below `/api/`: `namespaces/default/pipelines/build/runs/7`. */
export function targetOf(route: string, params: Record<string, unknown>): string {
  return route
    .replace(/^\/api\//, "")
    .replace(/:(\w+)/g, (_match, name: string) => encodeURIComponent(String(params[name] ?? "")));
}

function addressesOf(
  request: FastifyRequest,
  replicated: boolean,
): Pick<AuditDraft, "client_address" | "forwarded_for" | "forwarded_by"> {
  // Only the direct peer's address is known for sure: headers can be sent by anyone, and a client that reaches the
  // leader directly could claim to be a follower. So they are kept as claimed, beside it.
  const chain = headerOf(request, "x-forwarded-for")?.trim();
  const forwardedBy = replicated ? headerOf(request, FORWARDED_HEADER) : undefined;
  return {
    client_address: request.ip,
    forwarded_for: chain ? chain : null,
    forwarded_by: forwardedBy ?? null,
  };
}

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

/** The 2xx status the route declares; WebSocket routes declare none and answer 101. */
function successStatus(request: FastifyRequest): number {
  const responses = (request.routeOptions.schema?.response ?? {}) as Record<string, unknown>;
  const declared = Object.keys(responses).find((status) => /^2\d\d$/.test(status));
  return declared !== undefined ? Number(declared) : SWITCHING_PROTOCOLS;
}

function outcomeOf(reply: FastifyReply, payload: unknown): AuditOutcome {
  const status = reply.statusCode;
  if (status < 400) return { outcome: "succeeded", status, error_code: null };
  return { outcome: "failed", status, error_code: errorCodeOf(payload) };
}

/** The `error_code` of the error envelope, which Gofer sends serialised. */
function errorCodeOf(payload: unknown): string | null {
  if (typeof payload !== "string") return null;
  try {
    const code = (JSON.parse(payload) as { error_code?: unknown }).error_code;
    return typeof code === "string" ? code : null;
  } catch {
    return null;
  }
}
