/**
 * Secret references in extension settings, resolved at the last moment like task variables: stored settings
 * keep the reference, so no resolved secret is written to the database or served by the API.
 *
 * - Install settings may hold `global_secret{{key}}` (an extension serves no namespace, so the secret's
 *   namespace rules do not apply; installing is admin-only, and admins manage global secrets anyway).
 * - Subscription settings may hold pipeline secrets, global secrets allowed in the pipeline's namespace, and
 *   pipeline objects, resolved in the subscribing pipeline's scope.
 */
import { parseReference } from "../domain/interpolation.ts";
import type { Subscription } from "../domain/models.ts";
import {
  type ReferenceResolvers,
  resolveVariables,
  UnresolvedReferenceError,
} from "../domain/variable-resolution.ts";
import type { SecretStore } from "../secrets/secret-store.ts";

export function installSettingsResolver(
  secrets: SecretStore,
): (settings: Record<string, string>) => Promise<Record<string, string>> {
  return async (settings) => {
    const resolved: Record<string, string> = {};
    for (const [key, value] of Object.entries(settings)) {
      const reference = parseReference(value);
      if (reference?.kind !== "global_secret") {
        resolved[key] = value;
        continue;
      }
      const secret = await secrets.getGlobalSecret(reference.key.trim());
      if (!secret) throw new UnresolvedReferenceError(key, reference.kind, reference.key);
      resolved[key] = secret.value();
    }
    return resolved;
  };
}

export function subscriptionSettingsResolver(
  resolvers: ReferenceResolvers,
): (subscription: Subscription) => Promise<Record<string, string>> {
  // A subscription belongs to no run, so run objects are not resolvable here (and refused when it is created).
  const { run_object: _runObject, ...scoped } = resolvers;
  return async (subscription) => {
    const variables = Object.entries(subscription.settings).map(([key, value]) => ({
      key,
      value,
      source: "system" as const,
    }));
    const scope = {
      namespace_id: subscription.namespace_id,
      pipeline_id: subscription.pipeline_id,
      run_id: 0,
    };
    return (await resolveVariables(variables, scope, scoped)).env;
  };
}
