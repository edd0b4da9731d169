/**
 * `gofer service rotate-secret-key`, offline: opens the configured database, re-encrypts every secret under the
 * new key, and closes it. Here rather than in the CLI so the CLI reaches storage only through `service/`.
 */
import type { Config } from "../config/index.ts";
import { type RotationOutcome, rotateSecretKey } from "../secrets/rotate-key.ts";
import { openDatabase } from "../storage/database.ts";
import { countOtherLiveReplicas } from "../storage/replicas-store.ts";

export async function rotateInstallationSecretKey(
  config: Config,
  newKey: Uint8Array,
): Promise<RotationOutcome> {
  const db = await openDatabase(config.server);
  try {
    if (config.server.database_url !== "") {
      // Running replicas keep the old key in memory: what they encrypt afterwards would be unreadable.
      const running = await countOtherLiveReplicas(db, "", config.server.lease_timeout_ms);
      if (running > 0) {
        throw new Error(
          `${running} Gofer replica(s) are running on this database (heard from within the last ` +
            `${config.server.lease_timeout_ms / 1000} s): stop every replica, then rotate the key`,
        );
      }
    }
    return await rotateSecretKey(db, config.secret_store.sqlite, newKey);
  } finally {
    await db.destroy();
  }
}
