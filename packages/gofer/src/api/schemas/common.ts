/** Building blocks shared by every v0 schema. */
import { type TSchema, Type } from "typebox";
import { ERROR_CODES, type ErrorCode } from "../../domain/errors.ts";

/** OpenAPI 3.0 has no `type: null`; v0 documents optional objects as `nullable`. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const EpochMs = Type.Integer({ minimum: 0, description: "Epoch milliseconds; 0 means not set." });

/** Every code with its status and what it means, one per line: what a client reads to handle an `error_code`. */
const errorCodeDescription = [
  "Which failure this is: a stable code from Gofer's one registry, each answered with exactly one HTTP status.",
  "Clients may branch on it; new codes may be added, so treat an unknown one by its HTTP status.",
  "",
  ...Object.entries(ERROR_CODES).map(([code, { status, doc }]) => `- \`${code}\` (${status}): ${doc}`),
].join("\n");

export const ErrorResponse = Type.Object(
  {
    request_id: Type.String(),
    message: Type.String(),
    // Optional as in v0, whose server omits it; this one always sends it.
    error_code: Type.Optional(
      Type.Enum(Object.keys(ERROR_CODES) as ErrorCode[], {
        type: "string",
        description: errorCodeDescription,
      }),
    ),
  },
  { $id: "Error", description: "Error information from a response." },
);

/** Every JSON route answers errors with the v0 envelope; listing the classes once keeps each route short. */
export const errorResponses = {
  "4XX": Type.Ref("Error"),
  "5XX": Type.Ref("Error"),
};

export const IdentifierParam = Type.String({
  minLength: 1,
  maxLength: 64,
  description: "Alphanumeric characters and hyphens.",
});

export const NamespaceParams = Type.Object({ namespace_id: IdentifierParam });
export const PipelineParams = Type.Object({ namespace_id: IdentifierParam, pipeline_id: IdentifierParam });
export const RunParams = Type.Object({
  namespace_id: IdentifierParam,
  pipeline_id: IdentifierParam,
  run_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
});
export const TaskParams = Type.Object({
  namespace_id: IdentifierParam,
  pipeline_id: IdentifierParam,
  run_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  task_id: Type.String({ minLength: 1, maxLength: 64 }),
});

export const StringMap = Type.Record(Type.String(), Type.String());

export const VariableSource = Type.Union(
  ["unknown", "pipeline_config", "system", "run_options", "extension"].map((value) => Type.Literal(value)),
);

export const Variable = Type.Object({
  key: Type.String(),
  value: Type.String(),
  source: VariableSource,
});

export const StatusReason = (reasons: string[]) =>
  Nullable(
    Type.Object({
      reason: Type.Union(reasons.map((value) => Type.Literal(value))),
      description: Type.String(),
    }),
  );

/** A task's CPU and memory limits: an extension of v0, absent when the task declares none. */
export const TaskResources = Type.Object(
  {
    cpu: Type.Optional(
      Type.String({
        description: "CPU cores, as in Kubernetes: 0.5, 2 or millicores such as 500m; 10m to 1024.",
      }),
    ),
    memory: Type.Optional(
      Type.String({
        description:
          "Memory, as in Kubernetes: bytes, or with a suffix Ki, Mi, Gi, Ti, Pi (powers of 1024) or k, M, G, T, P " +
          "(powers of 1000), such as 256Mi or 1G; 6Mi to 1Pi.",
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "CPU and memory limits (an extension of v0, ignored by servers and clients that predate it). Docker " +
      "applies them as limits; Kubernetes as requests and limits. An absent field sets no limit.",
  },
);

export const Literals = (values: string[]) => Type.Union(values.map((value) => Type.Literal(value)));

/** A Go-style duration as written in a config: an extension of v0. */
export const Duration = (description: string) =>
  Type.String({ description: `${description} A Go-style duration such as 90s, 10m or 1h30m.` });

const RETRY_CAUSES = ["failure", "timeout", "scheduler_error", "orphaned"];
const retriesDescription =
  "Try the task again when an attempt ends in one of the listed ways (an extension of v0). Attempt n + 1 " +
  "starts delay × factor^(n − 1), at most max_delay, after attempt n ended.";

/** A task's retry policy as stored and served: every field present (the validator fills the defaults). */
export const TaskRetries = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 10, description: "Attempts after the first." }),
    delay: Duration("Before the first retry."),
    factor: Type.Number({ minimum: 1, description: "Each further delay is the previous one times this." }),
    max_delay: Duration("The longest delay."),
    on: Type.Array(Literals(RETRY_CAUSES), {
      description:
        "Which endings are retried: failure (non-zero exit), timeout, scheduler_error, orphaned (container lost).",
    }),
  },
  {
    additionalProperties: false,
    description: retriesDescription,
  },
);

/** What a registration may give for `retries`: only `limit` is required; the others have defaults. */
export const TaskRetriesInput = Type.Object(
  {
    limit: TaskRetries.properties.limit,
    delay: Type.Optional(Duration("Before the first retry; default 1s.")),
    factor: Type.Optional(
      Type.Number({
        minimum: 1,
        description: "Each further delay is the previous one times this; default 2.",
      }),
    ),
    max_delay: Type.Optional(Duration("The longest delay; default 5m.")),
    on: Type.Optional(
      Type.Array(Literals(RETRY_CAUSES), { description: "Which endings are retried; default all of them." }),
    ),
  },
  { additionalProperties: false, description: retriesDescription },
);

const concurrencyGroup = Type.String({
  minLength: 1,
  description: `The group's name; \${NAME} is replaced by the run variable NAME (letters, digits, _), e.g. deploy-\${BRANCH}.`,
});
const concurrencyDescription =
  "Runs of one resolved group run one at a time, in order of arrival (an extension of v0).";
const cancelDescription =
  "A new run cancels the older queued and running runs of its group (reason superseded).";

export const RunConcurrency = Type.Object(
  { group: concurrencyGroup, cancel_in_progress: Type.Boolean({ description: cancelDescription }) },
  { additionalProperties: false, description: concurrencyDescription },
);

export const RunConcurrencyInput = Type.Object(
  {
    group: concurrencyGroup,
    cancel_in_progress: Type.Optional(Type.Boolean({ description: `${cancelDescription} Default false.` })),
  },
  { additionalProperties: false, description: concurrencyDescription },
);

const subscriptionsDescription =
  "Subscriptions the version declares (an extension of v0): deploying it creates or updates them and removes " +
  "those an earlier deployed version declared and this one does not.";

export const DeclaredSubscription = Type.Object(
  { extension_id: Type.String(), subscription_id: Type.String(), settings: StringMap },
  { additionalProperties: false },
);

export const DeclaredSubscriptions = Type.Array(DeclaredSubscription, {
  description: subscriptionsDescription,
});

export const DeclaredSubscriptionsInput = Type.Array(
  Type.Object(
    {
      extension_id: Type.String(),
      subscription_id: Type.String(),
      settings: Type.Optional(StringMap),
    },
    { additionalProperties: false },
  ),
  { description: subscriptionsDescription },
);
