import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { FIRST_LOAD_BUDGET, measureFirstLoad } from "./support/first-load.ts";

const DIST = resolve(import.meta.dirname, "../dist");

describe("the built web UI's first load", () => {
  it("stays under 150 kB gzip, with the terminal emulator left out until someone opens a terminal", () => {
    const { files, lazy, gzipBytes } = measureFirstLoad(DIST);
    assert.ok(
      gzipBytes < FIRST_LOAD_BUDGET,
      `first load is ${gzipBytes} bytes gzip: ${files.map((file) => `${file.name} ${file.gzipBytes}`).join(", ")}`,
    );
    const firstLoadCode = files.map((file) => readFileSync(join(DIST, file.name), "utf8")).join("\n");
    assert.doesNotMatch(firstLoadCode, /xterm-helper-textarea/, "xterm is in the first load");
    assert.ok(
      lazy.some((file) => readFileSync(join(DIST, file.name), "utf8").includes("xterm-helper-textarea")),
      "the terminal chunk exists",
    );
  });
});
