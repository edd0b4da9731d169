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
