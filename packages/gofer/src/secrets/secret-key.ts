/**
 * Where the secret store's key comes from: `secret_store.sqlite.encryption_key` when set, else a key file
 * created once with 32 random bytes, owner-only (0600).
 *
 * Key rotation replaces the key file in two steps around its database commit: the new key is first written and
 * fsynced to `<key_file>.new`, the re-encryption commits, then `.new` is renamed over the key file. A crash
 * before the commit leaves the old key valid (boot deletes the stale `.new`); a crash after it leaves the new key
 * in `.new`, and boot, seeing the old key fail the check and the `.new` key pass it, finishes the rename. At no
 * instant is the only copy of the key that opens the database lost.
 */

import { randomBytes } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { KEY_BYTES } from "./secret-cipher.ts";

/** Why the server cannot use its secret store; the message says what to do and never contains a key. */
export class SecretStoreKeyError extends Error {
  override name = "SecretStoreKeyError";
}

export const pendingKeyFile = (keyFile: string): string => `${keyFile}.new`;

export function fileExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}

/** Reads a key file, refusing one that others can read or that is not exactly 32 bytes. */
export function readKeyFile(path: string): Buffer {
  let mode: number;
  let size: number;
  try {
    ({ mode, size } = statSync(path));
  } catch (error) {
    throw new SecretStoreKeyError(
      `cannot read the secret store key file ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new SecretStoreKeyError(
      `the secret store key file ${path} is readable by other users (mode ${(mode & 0o777).toString(8)}); ` +
        `run \`chmod 600 ${path}\` and start again`,
    );
  }
  if (size !== KEY_BYTES) {
    throw new SecretStoreKeyError(
      `the secret store key file ${path} is corrupt: it holds ${size} bytes, a key is exactly ${KEY_BYTES}. ` +
        "Restore it from a backup; without it the stored secrets cannot be decrypted",
    );
  }
  return readFileSync(path);
}

/** Writes `key` to a new file (fails if it exists), owner-only, and makes the file and its name durable. */
export function writeNewKeyFile(path: string, key: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const fd = openSync(path, "wx", 0o600);
  try {
    writeSync(fd, key);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  syncDirectory(dirname(path));
}

export function createKeyFile(path: string): Buffer {
  const key = randomBytes(KEY_BYTES);
  writeNewKeyFile(path, key);
  return key;
}

/** Atomically replaces `path` with `from` (same folder), durably. */
export function replaceFile(from: string, path: string): void {
  renameSync(from, path);
  syncDirectory(dirname(path));
}

function syncDirectory(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A key given as text (`--new-key`, the config): its UTF-8 bytes, which must be exactly 32. */
export function keyFromText(text: string, what: string): Buffer {
  const key = Buffer.from(text, "utf8");
  if (key.length !== KEY_BYTES) {
    throw new SecretStoreKeyError(`${what} must be exactly ${KEY_BYTES} bytes, got ${key.length}`);
  }
  return key;
}
