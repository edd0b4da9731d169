/**
 * `gofer service rotate-secret-key`, offline: opens the configured database, re-encrypts every secret under the
 * new key, and closes it. Here rather than in the CLI so the CLI reaches storage only through `service/`.
 */
import type { Config } from "../config/index.ts";
import { type RotationOutcome, rotateSecretKey } from "../secrets/rotate-key.ts";
import { openDatabase } from "../storage/database.ts";

export async function rotateInstallationSecretKey(
  config: Config,
  newKey: Uint8Array,
): Promise<RotationOutcome> {
  const db = await openDatabase(config.server);
  try {
    return await rotateSecretKey(db, config.secret_store.sqlite, newKey);
  } finally {
    await db.destroy();
  }
}
