// In domain/ (pure): the orchestrator, the secret and object resolvers, extensions and API routes use it.
/**
 * Turns a task's stored variables into the environment its container gets, resolving secret and object
 * references at the last moment. Stored variables keep the references, so no resolved secret is ever written
 * to the database or served by the API.
 */
import { isSecretKind, parseReference, type ReferenceKind } from "../domain/interpolation.ts";
import type { Variable } from "../domain/models.ts";

export interface ResolutionScope {
  namespace_id: string;
  pipeline_id: string;
  run_id: number;
}

/** Looks up one kind of reference; `undefined` means "no such key" (the task then fails before it starts). */
export interface ReferenceResolver {
  resolve(scope: ResolutionScope, key: string): Promise<string | undefined>;
}

export type ReferenceResolvers = Partial<Record<ReferenceKind, ReferenceResolver>>;

/** A reference that names nothing: the task fails with `failed_precondition` and this message. */
export class UnresolvedReferenceError extends Error {
  override name = "UnresolvedReferenceError";
  readonly variable: string;
  readonly kind: ReferenceKind;
  readonly key: string;

  constructor(variable: string, kind: ReferenceKind, key: string, detail?: string) {
    super(
      `variable ${variable} refers to ${kind.replace("_", " ")} "${key}", which ${detail ?? "does not exist"}`,
    );
    this.variable = variable;
    this.kind = kind;
    this.key = key;
  }
}

/** Thrown by a resolver for a key that exists but cannot become a variable; `message` ends "which …" (why). */
export class ReferenceRefusedError extends Error {
  override name = "ReferenceRefusedError";
}

export interface ResolvedEnvironment {
  env: Record<string, string>;
  /** The resolved secret values, for masking the task's logs. */
  secrets: string[];
}

/**
 * Kinds without a resolver pass through as literal text, so a server without that store behaves as before the
 * store existed rather than failing every task that mentions one.
 */
export async function resolveVariables(
  variables: Variable[],
  scope: ResolutionScope,
  resolvers: ReferenceResolvers,
): Promise<ResolvedEnvironment> {
  const env: Record<string, string> = {};
  const secrets: string[] = [];
  for (const variable of variables) {
    const reference = parseReference(variable.value);
    const resolver = reference && resolvers[reference.kind];
    if (!reference || !resolver) {
      env[variable.key] = variable.value;
      continue;
    }
    let value: string | undefined;
    try {
      value = await resolver.resolve(scope, reference.key);
    } catch (error) {
      if (!(error instanceof ReferenceRefusedError)) throw error;
      throw new UnresolvedReferenceError(variable.key, reference.kind, reference.key, error.message);
    }
    if (value === undefined) throw new UnresolvedReferenceError(variable.key, reference.kind, reference.key);
    env[variable.key] = value;
    if (isSecretKind(reference.kind) && value !== "") secrets.push(value);
  }
  return { env, secrets };
}
