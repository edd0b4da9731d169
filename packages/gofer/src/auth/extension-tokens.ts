/**
 * An extension's identity: its system role and the API token it receives at each start. The token's secret is
 * also the shared secret Gofer sends to the extension, so one value proves both directions, as in v0.
 *
 * A fresh token is minted at every start and the previous one deleted, so a secret from a container that was
 * replaced stops working. Only the hash is stored.
 */
import { escapeRegex, type Role } from "../domain/permissions.ts";
import type { GoferDb } from "../storage/database.ts";
import { updateExtension } from "../storage/extensions-store.ts";
import { deleteRole, insertRole, updateRole } from "../storage/roles-store.ts";
import { deleteToken } from "../storage/tokens-store.ts";
import { createToken } from "./tokens.ts";

export const extensionRoleId = (extensionId: string): string => `extension_${extensionId}`;

/** How runs started by an extension name their initiator, as v0 does. */
export const extensionTokenUser = (extensionId: string): string => `${extensionId} (extension)`;

/**
 * What an extension needs: start runs of any pipeline (it acts for whichever pipelines subscribe), read what
 * those runs become, and keep its own objects. v0's role lacked `objects`, so extensions could not use their
 * own store; this one has it.
 */
export function extensionRole(extensionId: string): Role {
  return {
    id: extensionRoleId(extensionId),
    description: `The token of extension ${extensionId}`,
    permissions: [
      {
        resources: [`extensions:${escapeRegex(extensionId)}`, "objects"],
        actions: ["read", "write", "delete"],
      },
      { resources: ["namespaces:.*", "pipelines:.*", "runs"], actions: ["read", "write"] },
      {
        resources: ["configs", "deployments", "events", "subscriptions", "system", "task_executions"],
        actions: ["read"],
      },
    ],
    system_role: true,
  };
}

/** Writes the extension's role as the code defines it (an upgraded server updates an older role). */
export async function ensureExtensionRole(db: GoferDb, extensionId: string): Promise<void> {
  const role = extensionRole(extensionId);
  if (!(await insertRole(db, role))) await updateRole(db, role);
}

/** Mints the extension's token for a new start, retiring the previous one; returns the secret. */
export async function rotateExtensionToken(
  db: GoferDb,
  extension: { extension_id: string; additional_roles: string[]; token_id: string | null },
): Promise<string> {
  const { token, secret } = await createToken(db, {
    user: extensionTokenUser(extension.extension_id),
    roles: [extensionRoleId(extension.extension_id), ...extension.additional_roles],
    expiresMs: 0,
    metadata: { extension_id: extension.extension_id },
  });
  await updateExtension(db, extension.extension_id, { token_id: token.id });
  if (extension.token_id) await deleteToken(db, extension.token_id);
  return secret;
}

/** Deletes the extension's current token (disable): it can call the API no more until its next start. */
export async function revokeExtensionToken(
  db: GoferDb,
  extensionId: string,
  tokenId: string | null,
): Promise<void> {
  if (!tokenId) return;
  await updateExtension(db, extensionId, { token_id: null });
  await deleteToken(db, tokenId);
}

/** Removes everything that gives the extension access: its token and its role. */
export async function revokeExtensionAccess(
  db: GoferDb,
  extensionId: string,
  tokenId: string | null,
): Promise<void> {
  await revokeExtensionToken(db, extensionId, tokenId);
  await deleteRole(db, extensionRoleId(extensionId));
}
