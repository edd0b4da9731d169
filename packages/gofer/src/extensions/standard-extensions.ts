/**
 * The extensions every server offers unless told not to (`extensions.install_std_extensions`): interval and
 * cron, registered at boot when missing. An admin who uninstalls one while the option is on gets it back at the
 * next boot, as in v0; turn the option off to keep it gone.
 */
import type { GoferDb } from "../storage/database.ts";
import { insertExtension } from "../storage/extensions-store.ts";

export const STANDARD_EXTENSIONS = ["interval", "cron"] as const;

/** Registers the missing standard extensions; returns the ids it registered. */
export async function registerStandardExtensions(db: GoferDb, imagePrefix: string): Promise<string[]> {
  const registered: string[] = [];
  for (const id of STANDARD_EXTENSIONS) {
    const now = Date.now();
    const inserted = await insertExtension(db, {
      extension_id: id,
      image: `${imagePrefix}${id}:latest`,
      registry_auth: null,
      settings: {},
      additional_roles: [],
      status: "enabled",
      token_id: null,
      created: now,
      modified: now,
    });
    if (inserted) registered.push(id);
  }
  return registered;
}
