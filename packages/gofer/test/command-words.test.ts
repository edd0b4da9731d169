import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { splitCommandWords } from "../src/api/command-words.ts";
import { GoferError } from "../src/domain/errors.ts";

describe("splitting an attach command into words", () => {
  it("splits as a shell would, without expanding anything", () => {
    const cases: [string, string[]][] = [
      ["/bin/sh", ["/bin/sh"]],
      ["  ls   -la  ", ["ls", "-la"]],
      ["sh -c 'wc -l; exit 7'", ["sh", "-c", "wc -l; exit 7"]],
      ['echo "a \\"b\\" c" d\\ e', ["echo", 'a "b" c', "d e"]],
      ["echo '$HOME' \"$HOME\"", ["echo", "$HOME", "$HOME"]],
      ["printf ''", ["printf", ""]],
      ["a'b'\"c\"", ["abc"]],
    ];
    for (const [line, words] of cases) assert.deepEqual(splitCommandWords(line), words, line);
  });

  it("refuses an empty command and an unclosed quote with a 400 that says what is wrong", () => {
    for (const [line, pattern] of [
      ["   ", /empty/],
      ["sh -c 'echo", /unclosed ' quote/],
      ['echo "hi', /unclosed " quote/],
    ] as const) {
      assert.throws(
        () => splitCommandWords(line),
        (error: unknown) =>
          error instanceof GoferError && error.code === "BAD_REQUEST" && pattern.test(error.message),
      );
    }
  });
});
