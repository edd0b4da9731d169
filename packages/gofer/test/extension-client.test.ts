import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { externalEventJson } from "../src/extensions/extension-client.ts";

describe("external event encoding", () => {
  it("writes every byte value as the JSON number the extension interface expects", () => {
    const body = Uint8Array.from({ length: 512 }, (_, index) => index % 256);
    const headers = { "x-github-event": "push", quote: 'say "hi"' };
    const parsed = JSON.parse(externalEventJson(headers, body).toString("utf8"));
    assert.deepEqual(parsed, { headers, body: Array.from(body) });
  });

  it("encodes an empty body and a large one without building an array", () => {
    assert.equal(externalEventJson({}, new Uint8Array()).toString(), '{"headers":{},"body":[]}');
    const large = new Uint8Array(4 * 1024 * 1024).fill(255);
    const encoded = externalEventJson({}, large);
    assert.equal(encoded.length, '{"headers":{},"body":[]}'.length + large.length * 4 - 1);
  });
});
