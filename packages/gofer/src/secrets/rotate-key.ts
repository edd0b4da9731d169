/** `gofer service rotate-secret-key`: re-encrypt every secret under a new key, with the server stopped. */
import { rmSync } from "node:fs";
import type { GoferDb } from "../storage/database.ts";
import { SecretCipher } from "./secret-cipher.ts";
import {
  fileExists,
  pendingKeyFile,
  replaceFile,
  SecretStoreKeyError,
  writeNewKeyFile,
} from "./secret-key.ts";
import { checkedCipher, type KeySettings, type RotationResult, reencryptSecrets } from "./secret-store.ts";

export interface RotationOutcome extends RotationResult {
  /** True when the key file was replaced; false when the configured key must be changed by the operator. */
  keyFileReplaced: boolean;
}

/**
 * With a configured key, only the database changes and the operator updates the configuration. With the key
 * file, the new key goes to `<key_file>.new` before the commit and replaces the key file after it, so a crash
 * anywhere leaves a key that opens the database (boot finishes or discards the pending file; see secret-key.ts).
 */
export async function rotateSecretKey(
  db: GoferDb,
  settings: KeySettings,
  newKey: Uint8Array,
): Promise<RotationOutcome> {
  const current = await checkedCipher(db, settings);
  const next = new SecretCipher(newKey);
  if (current.sameKey(next))
    throw new SecretStoreKeyError("the new key is the key already in use; nothing to do");
  const usesFile = settings.encryption_key === "";
  const pending = pendingKeyFile(settings.key_file);
  if (usesFile) {
    if (fileExists(pending)) rmSync(pending);
    writeNewKeyFile(pending, newKey);
  }
  let result: RotationResult;
  try {
    result = await reencryptSecrets(db, current, next);
  } catch (error) {
    if (usesFile) rmSync(pending, { force: true });
    throw error;
  }
  if (usesFile) replaceFile(pending, settings.key_file);
  return { ...result, keyFileReplaced: usesFile };
}
