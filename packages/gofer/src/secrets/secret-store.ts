/**
 * The secret store: pipeline and global secrets in the main database, each value encrypted on its own
 * (see secret-cipher.ts). Opening the store checks the key against a stored key check value, so a wrong key
 * stops the server at boot with a clear message instead of failing every task that needs a secret.
 */
import { rmSync } from "node:fs";
import { GoferError } from "../domain/errors.ts";
import type { GoferDb } from "../storage/database.ts";
import { listSealedTargetValues, setSealedTargetValues } from "../storage/notifications-store.ts";
import {
  deleteGlobalSecretRow,
  deletePipelineSecretRow,
  getGlobalSecretRow,
  getKeyCheck,
  getPipelineSecretRow,
  listAllSecretValues,
  listGlobalSecretKeys,
  listPipelineSecretKeys,
  putGlobalSecretRow,
  putPipelineSecretRow,
  setGlobalSecretValue,
  setKeyCheck,
  setPipelineSecretValue,
} from "../storage/secrets-store.ts";
import { SecretCipher, SecretDecryptionError } from "./secret-cipher.ts";
import {
  createKeyFile,
  fileExists,
  keyFromText,
  pendingKeyFile,
  readKeyFile,
  replaceFile,
  SecretStoreKeyError,
} from "./secret-key.ts";

/** v0's `Secret`. Pipeline secrets carry no namespace rules: they belong to one pipeline. */
export interface SecretMetadata {
  key: string;
  namespaces: string[];
  created: number;
}

export interface KeySettings {
  /** The configured key, or "" to use the key file. */
  encryption_key: string;
  key_file: string;
}

const KEY_CHECK_MARKER = Buffer.from("gofer secret store key check v1");
const KEY_CHECK_AAD = "key-check";

export const pipelineStoreKey = (namespaceId: string, pipelineId: string, key: string): string =>
  `pipeline/${namespaceId}/${pipelineId}/${key}`;
export const globalStoreKey = (key: string): string => `global/${key}`;
const internalStoreKey = (purpose: string): string => `gofer-internal/${purpose}`;

/**
 * The sealed values that last as long as what holds them (unlike an extension's runtime address): a key rotation
 * re-encrypts these with the secrets.
 */
export const notificationUrlPurpose = (notificationId: string): string =>
  `notification-url/${notificationId}`;
export const notificationSecretPurpose = (notificationId: string): string =>
  `notification-secret/${notificationId}`;

export class SecretStore {
  readonly #db: GoferDb;
  readonly #cipher: SecretCipher;

  constructor(db: GoferDb, cipher: SecretCipher) {
    this.#db = db;
    this.#cipher = cipher;
  }

  /**
   * Encrypts a value Gofer keeps for itself (not a user's secret), bound to `purpose` so it cannot be passed off
   * as another. A key rotation re-encrypts the notification targets' (below); the others are short-lived and
   * rebuilt when unreadable.
   */
  seal(purpose: string, text: string): Buffer {
    return this.#cipher.encrypt(Buffer.from(text, "utf8"), internalStoreKey(purpose));
  }

  /** Throws `SecretDecryptionError` when the value was sealed for another purpose or under another key. */
  unseal(purpose: string, sealed: Uint8Array): string {
    return this.#cipher.decrypt(sealed, internalStoreKey(purpose)).toString("utf8");
  }

  /** Throws 409 ALREADY_EXISTS when the key exists and `force` is not set. */
  async putPipelineSecret(
    namespaceId: string,
    pipelineId: string,
    key: string,
    content: string,
    force: boolean,
  ): Promise<SecretMetadata> {
    const created = Date.now();
    const value = this.#cipher.encrypt(
      Buffer.from(content, "utf8"),
      pipelineStoreKey(namespaceId, pipelineId, key),
    );
    const stored = await putPipelineSecretRow(
      this.#db,
      { namespace_id: namespaceId, pipeline_id: pipelineId, key, created, value },
      force,
    );
    if (!stored) throw alreadyExists(`Secret "${key}" of pipeline "${pipelineId}"`);
    return { key, namespaces: [], created };
  }

  async getPipelineSecret(
    namespaceId: string,
    pipelineId: string,
    key: string,
  ): Promise<{ metadata: SecretMetadata; value: () => string } | undefined> {
    const row = await getPipelineSecretRow(this.#db, namespaceId, pipelineId, key);
    if (!row) return undefined;
    return {
      metadata: { key: row.key, namespaces: [], created: row.created },
      value: () => this.#open(row.value, pipelineStoreKey(namespaceId, pipelineId, key)),
    };
  }

  async listPipelineSecrets(namespaceId: string, pipelineId: string): Promise<SecretMetadata[]> {
    const rows = await listPipelineSecretKeys(this.#db, namespaceId, pipelineId);
    return rows.map((row) => ({ key: row.key, namespaces: [], created: row.created }));
  }

  deletePipelineSecret(namespaceId: string, pipelineId: string, key: string): Promise<boolean> {
    return deletePipelineSecretRow(this.#db, namespaceId, pipelineId, key);
  }

  async putGlobalSecret(
    key: string,
    content: string,
    namespaces: string[],
    force: boolean,
  ): Promise<SecretMetadata> {
    const created = Date.now();
    const value = this.#cipher.encrypt(Buffer.from(content, "utf8"), globalStoreKey(key));
    if (!(await putGlobalSecretRow(this.#db, { key, namespaces, created, value }, force))) {
      throw alreadyExists(`Global secret "${key}"`);
    }
    return { key, namespaces, created };
  }

  async getGlobalSecret(key: string): Promise<{ metadata: SecretMetadata; value: () => string } | undefined> {
    const row = await getGlobalSecretRow(this.#db, key);
    if (!row) return undefined;
    return {
      metadata: { key: row.key, namespaces: row.namespaces, created: row.created },
      value: () => this.#open(row.value, globalStoreKey(key)),
    };
  }

  listGlobalSecrets(): Promise<SecretMetadata[]> {
    return listGlobalSecretKeys(this.#db);
  }

  deleteGlobalSecret(key: string): Promise<boolean> {
    return deleteGlobalSecretRow(this.#db, key);
  }

  #open(sealed: Uint8Array, storeKey: string): string {
    try {
      return this.#cipher.decrypt(sealed, storeKey).toString("utf8");
    } catch (error) {
      // The key was checked at boot, so this is a damaged or moved row: a server fault, not the caller's.
      if (error instanceof SecretDecryptionError) throw new GoferError("INTERNAL", error.message);
      throw error;
    }
  }
}

const alreadyExists = (what: string): GoferError =>
  new GoferError("ALREADY_EXISTS", `${what} already exists; send force=true to replace it`);

const keyChecks = (cipher: SecretCipher, keyCheck: Uint8Array): boolean => {
  try {
    return cipher.decrypt(keyCheck, KEY_CHECK_AAD).equals(KEY_CHECK_MARKER);
  } catch {
    return false;
  }
};

const describeSource = (settings: KeySettings): string =>
  settings.encryption_key !== ""
    ? "`secret_store.sqlite.encryption_key`"
    : `the key file ${settings.key_file}`;

/**
 * The cipher for the configured key, checked against the database. On first use the key file is created and
 * the key check value stored; an interrupted key-file rotation is finished (see secret-key.ts).
 */
export async function openSecretStore(db: GoferDb, settings: KeySettings): Promise<SecretStore> {
  return new SecretStore(db, await checkedCipher(db, settings));
}

export async function checkedCipher(db: GoferDb, settings: KeySettings): Promise<SecretCipher> {
  const keyCheck = await getKeyCheck(db);
  const usesFile = settings.encryption_key === "";
  const pending = pendingKeyFile(settings.key_file);
  let cipher: SecretCipher;
  if (!usesFile) {
    cipher = new SecretCipher(keyFromText(settings.encryption_key, "`secret_store.sqlite.encryption_key`"));
  } else if (fileExists(settings.key_file)) {
    cipher = new SecretCipher(readKeyFile(settings.key_file));
  } else if (keyCheck) {
    throw new SecretStoreKeyError(
      `the secret store key file ${settings.key_file} is missing, but the database holds secrets encrypted ` +
        "with a key; restore the file from a backup (or set `secret_store.sqlite.encryption_key` to that key)",
    );
  } else {
    cipher = new SecretCipher(createKeyFile(settings.key_file));
  }

  if (!keyCheck) {
    await setKeyCheck(db, cipher.encrypt(KEY_CHECK_MARKER, KEY_CHECK_AAD));
    return cipher;
  }
  if (keyChecks(cipher, keyCheck)) {
    if (usesFile && fileExists(pending)) rmSync(pending);
    return cipher;
  }
  if (usesFile && fileExists(pending)) {
    const rotated = new SecretCipher(readKeyFile(pending));
    if (keyChecks(rotated, keyCheck)) {
      replaceFile(pending, settings.key_file);
      return rotated;
    }
  }
  throw new SecretStoreKeyError(
    `the secret store key (${describeSource(settings)}) is not the key this database's secrets are encrypted ` +
      "with, so the server will not start. Use the key the secrets were stored with (after " +
      "`gofer service rotate-secret-key`, the new one)",
  );
}

export interface RotationResult {
  pipelineSecrets: number;
  globalSecrets: number;
  /** Notification targets whose URL (and signing secret) were re-encrypted. */
  notificationTargets: number;
}

/**
 * Re-encrypts every value and the key check under `next` in one transaction: all or nothing. Every value is
 * decrypted with `current` first, so a damaged row aborts the rotation rather than being lost.
 */
export async function reencryptSecrets(
  db: GoferDb,
  current: SecretCipher,
  next: SecretCipher,
): Promise<RotationResult> {
  return db.transaction().execute(async (tx) => {
    const { pipeline, global } = await listAllSecretValues(tx);
    for (const row of pipeline) {
      const storeKey = pipelineStoreKey(row.namespace_id, row.pipeline_id, row.key);
      const value = next.encrypt(current.decrypt(row.value, storeKey), storeKey);
      await setPipelineSecretValue(tx, { ...row, value });
    }
    for (const row of global) {
      const storeKey = globalStoreKey(row.key);
      await setGlobalSecretValue(tx, row.key, next.encrypt(current.decrypt(row.value, storeKey), storeKey));
    }
    const targets = await listSealedTargetValues(tx);
    for (const row of targets) {
      const reseal = (sealed: Uint8Array, purpose: string) =>
        next.encrypt(current.decrypt(sealed, internalStoreKey(purpose)), internalStoreKey(purpose));
      await setSealedTargetValues(tx, row.notification_id, {
        url_sealed: reseal(row.url_sealed, notificationUrlPurpose(row.notification_id)),
        secret_sealed:
          row.secret_sealed && reseal(row.secret_sealed, notificationSecretPurpose(row.notification_id)),
      });
    }
    await setKeyCheck(tx, next.encrypt(KEY_CHECK_MARKER, KEY_CHECK_AAD));
    return {
      pipelineSecrets: pipeline.length,
      globalSecrets: global.length,
      notificationTargets: targets.length,
    };
  });
}
