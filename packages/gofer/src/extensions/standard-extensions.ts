/**
 * The extensions every server offers unless told not to (`extensions.install_std_extensions`): interval and
 * cron, registered at boot when missing. An admin who uninstalls one while the option is on gets it back at the
 * next boot, as in v0; turn the option off to keep it gone.
 */
import type { StoredExtension } from "../storage/extensions-store.ts";

export const STANDARD_EXTENSIONS = ["interval", "cron"] as const;

/** The standard extensions' registrations: images `<prefix><id>:latest`, no settings, no extra roles. */
export function standardRegistrations(imagePrefix: string, now: number): StoredExtension[] {
  return STANDARD_EXTENSIONS.map((id) => ({
    extension_id: id,
    image: `${imagePrefix}${id}:latest`,
    registry_auth: null,
    settings: {},
    additional_roles: [],
    status: "enabled",
    token_id: null,
    created: now,
    modified: now,
  }));
}
