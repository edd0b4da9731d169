/**
 * AES-256-GCM for secret values. Each value gets a fresh random 12-byte nonce, stored in front of the
 * ciphertext, and the 16-byte tag after it. The value's store key (`pipeline/<ns>/<pipeline>/<key>`,
 * `global/<key>`) is the additional authenticated data, so a ciphertext copied onto another key's row fails to
 * decrypt instead of handing one pipeline's secret to another.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

export const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** The key stays in a private field: it never reaches JSON, `util.inspect`, logs or error messages. */
export class SecretCipher {
  readonly #key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== KEY_BYTES) {
      throw new Error(`a secret store key must be exactly ${KEY_BYTES} bytes, got ${key.length}`);
    }
    this.#key = Buffer.from(key);
  }

  encrypt(plaintext: Uint8Array, aad: string): Buffer {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, "utf8"));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([nonce, body, cipher.getAuthTag()]);
  }

  /** Throws `SecretDecryptionError` for a wrong key, a wrong store key or a damaged value. */
  decrypt(sealed: Uint8Array, aad: string): Buffer {
    const data = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    if (data.length < NONCE_BYTES + TAG_BYTES) throw new SecretDecryptionError(aad);
    const decipher = createDecipheriv("aes-256-gcm", this.#key, data.subarray(0, NONCE_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(aad, "utf8"));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new SecretDecryptionError(aad);
    }
  }

  /** Whether `other` holds the same key, without exposing either. */
  sameKey(other: SecretCipher): boolean {
    return other.#key.equals(this.#key);
  }
}

/** Names the value, never the key or the plaintext. */
export class SecretDecryptionError extends Error {
  override name = "SecretDecryptionError";
  constructor(storeKey: string) {
    super(`could not decrypt secret ${storeKey}: wrong key, or the stored value was altered`);
  }
}
