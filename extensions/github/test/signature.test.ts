import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { signBody, verifySignature } from "../src/signature.ts";
import { fixtureBytes } from "./fixtures.ts";

const secret = "It's a Secret to Everybody";

describe("webhook signature", () => {
  it("matches GitHub's documented example", () => {
    // From GitHub's "Validating webhook deliveries" page.
    const body = new TextEncoder().encode("Hello, World!");
    const header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    assert.equal(signBody(secret, body), header);
    assert.deepEqual(verifySignature(secret, body, header), { ok: true });
  });

  it("accepts a valid signature of a real payload, in any hex case", () => {
    const body = fixtureBytes("push");
    const header = signBody(secret, body);
    assert.deepEqual(verifySignature(secret, body, header), { ok: true });
    assert.deepEqual(verifySignature(secret, body, `sha256=${header.slice(7).toUpperCase()}`), { ok: true });
  });

  it("refuses a missing header", () => {
    const check = verifySignature(secret, fixtureBytes("push"), undefined);
    assert.equal(check.ok, false);
    if (!check.ok) assert.match(check.problem, /missing/);
    assert.equal(verifySignature(secret, fixtureBytes("push"), "").ok, false);
  });

  it("refuses malformed headers", () => {
    const body = fixtureBytes("push");
    const digest = createHmac("sha256", secret).update(body).digest("hex");
    for (const header of [
      digest,
      `sha1=${createHmac("sha1", secret).update(body).digest("hex")}`,
      `sha256:${digest}`,
      `sha256=${digest.replace(/[0-9a-f]$/, "g")}`,
      "sha256=",
    ]) {
      const check = verifySignature(secret, body, header);
      assert.equal(check.ok, false, header);
      if (!check.ok) assert.match(check.problem, /not sha256= followed by 64 hex digits/, header);
    }
  });

  it("refuses a signature of the wrong length without comparing", () => {
    const body = fixtureBytes("push");
    const digest = createHmac("sha256", secret).update(body).digest("hex");
    for (const header of [`sha256=${digest.slice(0, 62)}`, `sha256=${digest}00`]) {
      assert.equal(verifySignature(secret, body, header).ok, false, header);
    }
  });

  it("refuses a wrong secret and a changed body", () => {
    const body = fixtureBytes("push");
    const check = verifySignature(secret, body, signBody("another secret", body));
    assert.equal(check.ok, false);
    if (!check.ok) assert.match(check.problem, /does not match/);
    const changed = Uint8Array.from(body);
    changed[10] = (changed[10] ?? 0) ^ 1;
    assert.equal(verifySignature(secret, changed, signBody(secret, body)).ok, false);
  });
});
