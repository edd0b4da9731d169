import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { inspect } from "node:util";
import { SecretCipher, SecretDecryptionError } from "../src/secrets/secret-cipher.ts";

describe("secret cipher (AES-256-GCM)", () => {
  const key = randomBytes(32);
  const cipher = new SecretCipher(key);

  it("round-trips a value and uses a fresh nonce each time", () => {
    const a = cipher.encrypt(Buffer.from("hunter2"), "pipeline/default/p/k");
    const b = cipher.encrypt(Buffer.from("hunter2"), "pipeline/default/p/k");
    assert.notDeepEqual(a.subarray(0, 12), b.subarray(0, 12));
    assert.notDeepEqual(a, b);
    assert.equal(a.length, 12 + 7 + 16);
    assert.equal(cipher.decrypt(a, "pipeline/default/p/k").toString(), "hunter2");
    assert.equal(a.includes(Buffer.from("hunter2")), false);
  });

  it("refuses a ciphertext moved to another store key, a wrong key and a flipped bit", () => {
    const sealed = cipher.encrypt(Buffer.from("value"), "global/a");
    assert.throws(() => cipher.decrypt(sealed, "global/b"), SecretDecryptionError);
    assert.throws(() => new SecretCipher(randomBytes(32)).decrypt(sealed, "global/a"), SecretDecryptionError);
    const tampered = Buffer.from(sealed);
    tampered[14] = (tampered[14] ?? 0) ^ 1;
    assert.throws(() => cipher.decrypt(tampered, "global/a"), SecretDecryptionError);
    assert.throws(() => cipher.decrypt(Buffer.alloc(5), "global/a"), SecretDecryptionError);
  });

  it("takes exactly 32 bytes and never shows the key", () => {
    assert.throws(() => new SecretCipher(randomBytes(31)), /exactly 32 bytes/);
    const text = `${inspect(cipher, { showHidden: true, depth: 5 })}${JSON.stringify(cipher)}`;
    assert.equal(text.includes(key.toString("hex")), false);
    assert.equal(text.includes(key.toString("base64")), false);
    try {
      cipher.decrypt(Buffer.alloc(40), "global/x");
    } catch (error) {
      assert.equal(String((error as Error).message).includes(key.toString("hex")), false);
    }
  });
});
