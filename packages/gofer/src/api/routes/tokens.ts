/** `/api/tokens`: the bootstrap token, and tokens an admin hands out with roles and an expiry. */
import { Type } from "typebox";
import { createToken } from "../../auth/tokens.ts";
import { badRequest, GoferError, notFound } from "../../domain/errors.ts";
import { requireKnownRoles } from "../../services/lookups.ts";
import { claimBootstrap } from "../../storage/system-store.ts";
import { deleteToken, getToken, listTokens, setTokenDisabled } from "../../storage/tokens-store.ts";
import type { RoutePlugin } from "../api-context.ts";
import { errorResponses, Nullable, StringMap } from "../schemas/common.ts";

const TokenParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
const TokenEnvelope = Type.Object({ token: Type.Ref("Token") });
const TokenWithSecret = Type.Object({ token_details: Type.Ref("Token"), secret: Type.String() });
/** 100 years: longer is a typo, and keeps expiry arithmetic far from the integer limits. */
const MAX_EXPIRY_SECONDS = 100 * 365 * 24 * 60 * 60;

export const tokenRoutes: RoutePlugin = (app, { db }) => {
  app.post(
    "/api/tokens/bootstrap",
    {
      schema: {
        operationId: "create_bootstrap_token",
        tags: ["Tokens"],
        summary: "Create the one-time root token. Every later call answers 409.",
        response: {
          201: TokenWithSecret,
          ...errorResponses,
        },
      },
    },
    async (_request, reply) => {
      const created = await db.transaction().execute(async (tx) => {
        if (!(await claimBootstrap(tx))) return undefined;
        return createToken(tx, { user: "bootstrap", roles: ["bootstrap"], expiresMs: 0, metadata: {} });
      });
      if (!created) {
        throw new GoferError(
          "ALREADY_EXISTS",
          "The bootstrap token was already created; ask its holder for a token, or reset the server's database",
        );
      }
      return reply.code(201).send({ token_details: created.token, secret: created.secret });
    },
  );

  app.get(
    "/api/tokens/whoami",
    {
      schema: {
        operationId: "whoami",
        tags: ["Tokens"],
        summary: "The token this request was made with.",
        response: { 200: Type.Object({ token: Type.Ref("Token") }), ...errorResponses },
      },
    },
    async (request) => {
      const token = request.principal.token;
      if (!token)
        throw new GoferError(
          "UNAUTHENTICATED",
          "No token was sent (authentication is bypassed on this server)",
        );
      return { token };
    },
  );

  app.get(
    "/api/tokens",
    {
      schema: {
        operationId: "list_tokens",
        tags: ["Tokens"],
        summary: "List every token (never their secrets).",
        response: { 200: Type.Object({ tokens: Type.Array(Type.Ref("Token")) }), ...errorResponses },
      },
    },
    async () => ({ tokens: await listTokens(db) }),
  );

  app.post(
    "/api/tokens",
    {
      schema: {
        operationId: "create_token",
        tags: ["Tokens"],
        summary:
          "Create a token for a user with roles. `expires` is in seconds, 0 for never. The secret is in this " +
          "answer only; the server keeps its SHA-256 hash.",
        body: Type.Object(
          {
            user: Type.String({ minLength: 1, maxLength: 256 }),
            roles: Type.Array(Type.String({ minLength: 1 })),
            expires: Type.Integer({ minimum: 0, maximum: MAX_EXPIRY_SECONDS }),
            metadata: Type.Optional(Nullable(StringMap)),
          },
          { additionalProperties: false },
        ),
        response: { 201: TokenWithSecret, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { user, expires, metadata } = request.body;
      const roles = [...new Set(request.body.roles)];
      if (roles.includes("bootstrap")) {
        throw new GoferError(
          "FORBIDDEN",
          "The `bootstrap` role belongs to the bootstrap token only; use `admin`",
        );
      }
      await requireKnownRoles(db, roles);
      const created = await createToken(db, {
        user,
        roles,
        expiresMs: expires * 1000,
        metadata: metadata ?? {},
      });
      return reply.code(201).send({ token_details: created.token, secret: created.secret });
    },
  );

  app.get(
    "/api/tokens/:id",
    {
      schema: {
        operationId: "get_token_by_id",
        tags: ["Tokens"],
        summary: "Get one token's details.",
        params: TokenParams,
        response: { 200: TokenEnvelope, ...errorResponses },
      },
    },
    async (request) => {
      const token = await getToken(db, request.params.id);
      if (!token) throw notFound(`Token "${request.params.id}"`);
      return { token };
    },
  );

  app.patch(
    "/api/tokens/:id",
    {
      schema: {
        operationId: "update_token",
        tags: ["Tokens"],
        summary: "Disable or enable a token. A token cannot disable itself (409).",
        params: TokenParams,
        body: Type.Object(
          { disabled: Type.Optional(Nullable(Type.Boolean())) },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { disabled } = request.body;
      if (disabled === undefined || disabled === null) {
        throw badRequest("Nothing to update; send `disabled` (true or false)");
      }
      if (request.params.id === request.principal.token?.id) {
        throw new GoferError("CONFLICT", "A token cannot enable or disable itself; use another admin token");
      }
      if (!(await setTokenDisabled(db, request.params.id, disabled)))
        throw notFound(`Token "${request.params.id}"`);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    "/api/tokens/:id",
    {
      schema: {
        operationId: "delete_token",
        tags: ["Tokens"],
        summary: "Delete a token; requests made with it are refused from then on.",
        params: TokenParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      if (!(await deleteToken(db, request.params.id))) throw notFound(`Token "${request.params.id}"`);
      return reply.code(204).send(null);
    },
  );
};
