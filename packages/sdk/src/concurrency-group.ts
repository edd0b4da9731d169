/**
 * A concurrency group template (`deploy-${BRANCH}`): `${NAME}` stands for the run variable NAME. Shared by the
 * server, which resolves a run's group, and clients, which tell people which variables a run needs.
 */

const REFERENCE = /\$\{([^}]*)\}/g;

/** The run variables a group template uses, each once, in order of first use. */
export function concurrencyGroupVariables(template: string): string[] {
  return [...new Set([...template.matchAll(REFERENCE)].map((match) => match[1] as string))];
}

/** The template with each `${NAME}` replaced by `values[NAME]`; the caller checks every name has a value. */
export function fillConcurrencyGroup(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(REFERENCE, (_match, name: string) => values[name] as string);
}
