import { Type } from "typebox";
import type { RoutePlugin } from "../api-context.ts";
import { errorResponses } from "../schemas/common.ts";

const SystemPreferences = Type.Object({
  bootstrap_token_created: Type.Boolean(),
  ignore_pipeline_run_events: Type.Boolean({
    description: "While true every new run is refused (503 RUNS_PAUSED); runs already started go on.",
  }),
});

const ReplicaSummary = Type.Object({
  id: Type.String(),
  url: Type.String({ description: "Where the other replicas reach it (server.replica_url)." }),
  hostname: Type.String(),
  pid: Type.Integer(),
  version: Type.String(),
  started: Type.Integer(),
  heartbeat: Type.Integer({ description: "Its last heartbeat, epoch ms by the database's clock." }),
  state: Type.Union(
    ["leader", "taking_over", "follower", "silent", "stopped"].map((state) => Type.Literal(state)),
    {
      description:
        "`leader` runs the work; `taking_over` holds the lease and is adopting what the previous leader left; " +
        "`silent`: no heartbeat for longer than the lease timeout (likely dead); `stopped`: stopped cleanly.",
    },
  ),
  self: Type.Boolean({ description: "True for the replica that answered this request." }),
  owns: Type.Optional(
    Type.Object(
      {
        runs_in_flight: Type.Integer(),
        tasks_in_flight: Type.Integer(),
        extensions: Type.Integer({ description: "Enabled extensions it supervises." }),
      },
      { description: "What the leader has in hand; the other replicas own nothing." },
    ),
  ),
});

const ReplicaListing = Type.Object({
  storage: Type.Union([Type.Literal("sqlite"), Type.Literal("postgres")]),
  lease_timeout_ms: Type.Integer(),
  lease: Type.Union([
    Type.Object({
      holder: Type.String(),
      term: Type.Integer({ description: "Increases each time the lease changes hands." }),
      acquired: Type.Integer(),
      expires: Type.Integer(),
      serving: Type.Boolean(),
    }),
    Type.Null(),
  ]),
  replicas: Type.Array(ReplicaSummary),
});

export const systemRoutes: RoutePlugin = (app, { system, replicas }) => {
  app.get(
    "/api/system/replicas",
    {
      schema: {
        operationId: "list_replicas",
        tags: ["System"],
        summary:
          "The servers sharing this installation's database (replicas): their heartbeats, which one leads and " +
          "what it has in hand. On SQLite, this one server.",
        response: { 200: ReplicaListing, ...errorResponses },
      },
    },
    async () => replicas.list(),
  );

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
