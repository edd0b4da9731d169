/**
 * A pipeline's concurrency group (an extension of v0): runs that resolve to the same group within a namespace
 * run one at a time, in order of arrival. The config names the group with a template in which `${NAME}` stands
 * for the run variable NAME, so `deploy-${BRANCH}` keeps deploys of one branch apart from another's.
 *
 * Only the variables the run was started with are used: the group must be known when the run is accepted, and a
 * run variable is the only value a caller chooses per run. A `$` not followed by `{` is kept as it is.
 */
import { concurrencyGroupVariables, fillConcurrencyGroup } from "@gofer/sdk";
import { badRequest } from "./errors.ts";

/**
 * The group a run belongs to. A template naming a variable the run was not given refuses the run (400): it
 * cannot say which group the run is in, and guessing (an empty value, say) would queue it behind the wrong runs,
 * or cancel them.
 */
export function resolveConcurrencyGroup(
  template: string,
  variables: Readonly<Record<string, string>>,
): string {
  const missing = concurrencyGroupVariables(template).filter((name) => !Object.hasOwn(variables, name));
  if (missing.length > 0) {
    const names = missing.map((name) => (name === "" ? '""' : name)).join(", ");
    const example = JSON.stringify(Object.fromEntries(missing.map((name) => [name, "..."])));
    throw badRequest(
      `The pipeline's concurrency group "${template}" needs the run ${missing.length === 1 ? "variable" : "variables"} ${names}, which the run was not given; start it with "variables": ${example} (gofer run start … ${missing.map((name) => `-v ${name}=…`).join(" ")})`,
    );
  }
  return fillConcurrencyGroup(template, variables);
}
