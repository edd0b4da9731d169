/** `/api/tokens`: the bootstrap token, and tokens an admin hands out with roles and an expiry. */
import { Type } from "typebox";
import type { RoutePlugin } from "../api-context.ts";
import { errorResponses, Nullable, StringMap } from "../schemas/common.ts";

const TokenParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
const TokenEnvelope = Type.Object({ token: Type.Ref("Token") });
const TokenWithSecret = Type.Object({ token_details: Type.Ref("Token"), secret: Type.String() });
/** 100 years: longer is a typo, and keeps expiry arithmetic far from the integer limits. */
const MAX_EXPIRY_SECONDS = 100 * 365 * 24 * 60 * 60;

export const tokenRoutes: RoutePlugin = (app, { tokens }) => {
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
      const created = await tokens.bootstrap();
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
    async (request) => ({ token: tokens.whoami(request.principal) }),
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
    async () => ({ tokens: await tokens.list() }),
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
      const created = await tokens.create(request.body);
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
    async (request) => ({ token: await tokens.get(request.params.id) }),
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
      await tokens.setDisabled(request.params.id, request.body.disabled, request.principal);
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
      await tokens.delete(request.params.id);
      return reply.code(204).send(null);
    },
  );
};
