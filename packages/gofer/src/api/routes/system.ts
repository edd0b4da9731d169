import { Type } from "typebox";
import type { RoutePlugin } from "../api-context.ts";
import { errorResponses } from "../schemas/common.ts";

const SystemPreferences = Type.Object({
  bootstrap_token_created: Type.Boolean(),
  ignore_pipeline_run_events: Type.Boolean({
    description: "While true every new run is refused (503 RUNS_PAUSED); runs already started go on.",
  }),
});

export const systemRoutes: RoutePlugin = (app, { system }) => {
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
    async () => system.metadata(),
  );

  app.get(
    "/api/system",
    {
      schema: {
        operationId: "get_system_preferences",
        tags: ["System"],
        summary:
          "Server-wide switches: whether the bootstrap token was given out and whether new runs are paused.",
        response: { 200: SystemPreferences, ...errorResponses },
      },
    },
    async () => system.preferences(),
  );

  app.patch(
    "/api/system",
    {
      schema: {
        operationId: "update_system_preferences",
        tags: ["System"],
        summary:
          "Pause (`ignore_pipeline_run_events: true`) or resume new runs server-wide. Answers the preferences " +
          "as they now are (v0 answered `{}`; clients that ignore the body are unaffected).",
        body: Type.Object(
          { ignore_pipeline_run_events: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])) },
          { additionalProperties: false },
        ),
        response: { 200: SystemPreferences, ...errorResponses },
      },
    },
    async (request) => system.updatePreferences(request.body, request.principal.initiator, request.log),
  );
};
