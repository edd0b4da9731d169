import { Type } from "typebox";
import type { RoutePlugin } from "../api-context.ts";
import { errorResponses } from "../schemas/common.ts";

export const systemRoutes: RoutePlugin = (app, { version }) => {
  app.get(
    "/api/system/metadata",
    {
      schema: {
        operationId: "get_system_metadata",
        tags: ["System"],
        summary: "The server's version.",
        response: { 200: Type.Object({ commit: Type.String(), semver: Type.String() }), ...errorResponses },
      },
    },
    async () => version,
  );
};
