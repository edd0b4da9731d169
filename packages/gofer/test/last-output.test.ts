/** What is kept of an extension's last container output, and how a failure reason quotes it. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LastOutputs, quotedTail } from "../src/extensions/last-output.ts";

describe("an extension's last output", () => {
  it("is kept per extension and forgotten on purpose", () => {
    const outputs = new LastOutputs();
    outputs.keep("hello", "starting\ncrashed\n");
    assert.equal(outputs.get("hello"), "starting\ncrashed\n");
    outputs.forget("hello");
    assert.equal(outputs.get("hello"), undefined);
  });

  it("is not kept again when it was read before an uninstall forgot it", () => {
    const outputs = new LastOutputs();
    const readSince = outputs.forgets;
    // The uninstall comes while the engine is still answering the read.
    outputs.forget("hello");
    assert.equal(outputs.keep("hello", "late output\n", readSince), "late output\n");
    assert.equal(outputs.get("hello"), undefined);
  });

  it("quotes a Node stack trace whose window starts blank, without Node's own frames", () => {
    const output = [
      "",
      "file:///extension/main.mjs:3",
      "  throw new Error('no greeting configured');",
      "  ^",
      "",
      "Error: no greeting configured",
      "    at setup (file:///extension/main.mjs:3:9)",
      "    at ModuleJob.run (node:internal/modules/esm/module_job:271:25)",
      "",
      "",
      "Node.js v24.21.0",
      "",
    ].join("\n");
    assert.equal(
      quotedTail(output),
      [
        "file:///extension/main.mjs:3",
        "  throw new Error('no greeting configured');",
        "  ^",
        "",
        "Error: no greeting configured",
        "    at setup (file:///extension/main.mjs:3:9)",
        "",
        "Node.js v24.21.0",
      ].join("\n"),
    );
  });
});
