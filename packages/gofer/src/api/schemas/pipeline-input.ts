/**
 * The registration body as v0 documents it (SDK output: tasks as a list, PascalCase `depends_on`). It is used
 * for the OpenAPI document; the SDK's `validatePipelineConfig` checks bodies, so that the server and the
 * SDK refuse the same configs with the same messages.
 */
import { Type } from "typebox";
import {
  DeclaredSubscriptionsInput,
  Duration,
  Literals,
  Nullable,
  RunConcurrencyInput,
  StringMap,
  TaskResources,
  TaskRetriesInput,
} from "./common.ts";

export const TaskInput = Type.Object(
  {
    id: Type.String(),
    description: Type.Optional(Nullable(Type.String())),
    image: Type.String(),
    registry_auth: Type.Optional(Nullable(Type.Object({ user: Type.String(), pass: Type.String() }))),
    depends_on: Type.Record(Type.String(), Literals(["Any", "Success", "Failure", "Unknown"])),
    variables: StringMap,
    entrypoint: Type.Optional(Nullable(Type.Array(Type.String()))),
    command: Type.Optional(Nullable(Type.Array(Type.String()))),
    inject_api_token: Type.Boolean(),
    always_pull_newest_image: Type.Boolean(),
    resources: Type.Optional(Nullable(TaskResources)),
    timeout: Type.Optional(
      Nullable(Duration("The longest one attempt may run (an extension of v0); at most 168h.")),
    ),
    retries: Type.Optional(Nullable(TaskRetriesInput)),
  },
  { additionalProperties: false },
);

export const PipelineInput = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Type.Optional(Nullable(Type.String())),
    parallelism: Type.Integer({ minimum: 0 }),
    tasks: Type.Array(TaskInput),
    timeout: Type.Optional(
      Nullable(Duration("The longest a whole run may take (an extension of v0); at most 168h.")),
    ),
    concurrency: Type.Optional(Nullable(RunConcurrencyInput)),
    subscriptions: Type.Optional(Nullable(DeclaredSubscriptionsInput)),
  },
  { additionalProperties: false },
);
