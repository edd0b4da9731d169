import { Type } from "typebox";
import { createToken } from "../../auth/tokens.ts";
import { GoferError } from "../../domain/errors.ts";
import { claimBootstrap } from "../../storage/system-store.ts";
import type { RoutePlugin } from "../api-context.ts";
import { errorResponses } from "../schemas/common.ts";

export const tokenRoutes: RoutePlugin = (app, { db }) => {
  app.post(
    "/api/tokens/bootstrap",
    {
      schema: {
        operationId: "create_bootstrap_token",
        tags: ["Tokens"],
        summary: "Create the one-time root token. Every later call answers 409.",
        response: {
          201: Type.Object({ token_details: Type.Ref("Token"), secret: Type.String() }),
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
};
