/**
 * v0 interpolation: a variable whose whole value is `pipeline_secret{{key}}`, `global_secret{{key}}`,
 * `pipeline_object{{key}}` or `run_object{{key}}` is replaced, when its task starts, by what that key names.
 * The key is the one inside the braces (Gofer looked objects up by the variable's own name: a bug we fix).
 */
export const REFERENCE_KINDS = ["pipeline_secret", "global_secret", "pipeline_object", "run_object"] as const;
export type ReferenceKind = (typeof REFERENCE_KINDS)[number];

export interface Reference {
  kind: ReferenceKind;
  key: string;
}

const REFERENCE = /^(pipeline_secret|global_secret|pipeline_object|run_object)\{\{(.+)\}\}$/s;

/** The reference a variable value makes, or undefined for a plain value. */
export function parseReference(value: string): Reference | undefined {
  const match = REFERENCE.exec(value);
  if (!match) return undefined;
  return { kind: match[1] as ReferenceKind, key: match[2] as string };
}

/** Secrets are masked in logs; objects are data a task may print. */
export const isSecretKind = (kind: ReferenceKind): boolean =>
  kind === "pipeline_secret" || kind === "global_secret";
