/**
 * Resolves `pipeline_secret{{key}}` and `global_secret{{key}}` when a task starts. A pipeline secret is looked
 * up in the task's own pipeline only; a global secret only if one of its namespace rules matches the task's
 * whole namespace id.
 */
import { namespaceAllowed } from "../domain/secrets.ts";
import { ReferenceRefusedError, type ReferenceResolvers } from "../domain/variable-resolution.ts";
import type { SecretStore } from "./secret-store.ts";

export function secretResolvers(store: SecretStore): ReferenceResolvers {
  return {
    pipeline_secret: {
      async resolve(scope, key) {
        const secret = await store.getPipelineSecret(scope.namespace_id, scope.pipeline_id, key.trim());
        return secret?.value();
      },
    },
    global_secret: {
      async resolve(scope, key) {
        const secret = await store.getGlobalSecret(key.trim());
        if (!secret) return undefined;
        if (!namespaceAllowed(secret.metadata.namespaces, scope.namespace_id)) {
          throw new ReferenceRefusedError(
            `is not allowed in namespace "${scope.namespace_id}" (its namespaces: ${secret.metadata.namespaces.join(", ")})`,
          );
        }
        return secret.value();
      },
    },
  };
}
