/**
 * GitHub's webhook signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed with the
 * webhook secret>`. The digest is compared in constant time, and only after the header has been checked to hold
 * exactly one SHA-256 digest, so the comparison always sees two buffers of the same length.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

const SIGNATURE_FORMAT = /^sha256=([0-9a-fA-F]{64})$/;

export type SignatureCheck = { ok: true } | { ok: false; problem: string };

/** `sha256=<hex>` for `body`: what GitHub sends, and what tests sign with. */
export function signBody(secret: string, body: Uint8Array): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export function verifySignature(
  secret: string,
  body: Uint8Array,
  header: string | undefined,
): SignatureCheck {
  if (header === undefined || header === "") {
    return {
      ok: false,
      problem: "the X-Hub-Signature-256 header is missing; is the webhook secret set on GitHub?",
    };
  }
  const match = SIGNATURE_FORMAT.exec(header.trim());
  if (!match?.[1]) {
    return { ok: false, problem: "the X-Hub-Signature-256 header is not sha256= followed by 64 hex digits" };
  }
  const given = Buffer.from(match[1], "hex");
  const expected = createHmac("sha256", secret).update(body).digest();
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return {
      ok: false,
      problem: "the X-Hub-Signature-256 signature does not match the body and the webhook secret",
    };
  }
  return { ok: true };
}
