import assert from "node:assert/strict";
import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { TaskLogWriter } from "../src/logs/log-writer.ts";
import { maskSecrets } from "../src/logs/secret-masker.ts";

const mask = (secrets: string[], line: string | Buffer): string =>
  maskSecrets(secrets)(Buffer.isBuffer(line) ? line : Buffer.from(line)).toString("latin1");

describe("secret masker", () => {
  it("masks every occurrence, leaves other text alone and returns clean lines untouched", () => {
    assert.equal(mask(["s3cr3t"], "a s3cr3t and s3cr3ts3cr3t."), "a [masked] and [masked][masked].");
    const clean = Buffer.from("nothing to see");
    assert.equal(maskSecrets(["s3cr3t"])(clean), clean);
    assert.equal(mask([], "s3cr3t"), "s3cr3t");
    assert.equal(mask([""], "s3cr3t"), "s3cr3t");
  });

  it("masks overlapping secrets as one span (longest or first alone would leak a part)", () => {
    assert.equal(mask(["abcd", "bcdefgh"], "xabcdefghy"), "x[masked]y");
    assert.equal(mask(["pass", "password123"], "password123!"), "[masked]!");
  });

  it("masks the standard base64 form and the value embedded at each of the three byte alignments", () => {
    const secret = "correct-horse-battery";
    assert.equal(mask([secret], Buffer.from(secret).toString("base64")), "[masked]");
    for (const prefix of ["", "x", "xy", "user:"]) {
      const encoded = Buffer.from(`${prefix}${secret}!trailing`).toString("base64");
      const masked = mask([secret], `Authorization: Basic ${encoded}`);
      assert.match(masked, /\[masked\]/, `prefix ${JSON.stringify(prefix)}`);
      // What stays visible is the surrounding bytes' encoding plus at most one mixed group on each side: never
      // a group made only of the value's bytes.
      const visible = masked.replace("Authorization: Basic ", "").replace("[masked]", "").length;
      const surrounding = Math.ceil(prefix.length / 3) * 4 + Math.ceil("!trailing".length / 3) * 4;
      assert.ok(visible <= surrounding + 8, `too much left for prefix ${JSON.stringify(prefix)}: ${masked}`);
    }
  });

  it("masks every line of a base64 encoding that `base64` wrapped at 76 characters", () => {
    const alphabet = "Ab3dEf9hIjKlMnOpQrStUvWxYz0123456789abcdefghijklmnopqrstuvwxyz-_";
    const secretOf = (length: number) =>
      Array.from({ length }, (_, index) => alphabet[(index * 7 + length) % alphabet.length]).join("");
    const wrap = (text: string) => text.match(/.{1,76}/g) ?? [];
    /** Every 8-character window of `text`: a visible one of these is a leak. */
    const windows = (text: string) =>
      new Set(Array.from({ length: text.length - 7 }, (_, at) => text.slice(at, at + 8)));
    for (const length of [74, 200]) {
      const secret = secretOf(length);
      const masker = maskSecrets([secret]);
      // The encodings of the value's whole groups at each alignment: what no visible text may contain.
      const groups = [0, 1, 2].map((start) => {
        const whole = Math.floor((length - start) / 3) * 3;
        return Buffer.from(secret)
          .subarray(start, start + whole)
          .toString("base64");
      });
      const cases = [
        // `printf %s "$S" | base64` and `echo "$S" | base64`: the whole encoding is the secret's.
        { payload: secret, strict: true },
        { payload: `${secret}\n`, strict: true },
        // Embedded in a longer payload at each alignment: the surrounding bytes' groups may stay visible.
        { payload: `x${secret}!`, strict: false },
        { payload: `user:${secret}\n`, strict: false },
        { payload: `{"token":"${secret}","more":"text"}`, strict: false },
      ];
      for (const { payload, strict } of cases) {
        const encoded = Buffer.from(payload).toString("base64");
        const lines = wrap(encoded);
        assert.ok(lines.length >= 2, `${length}: the encoding must wrap`);
        const forbidden = strict ? windows(encoded) : new Set(groups.flatMap((text) => [...windows(text)]));
        for (const [index, line] of lines.entries()) {
          const masked = masker(Buffer.from(line)).toString("latin1");
          const where = `${length} bytes, payload ${JSON.stringify(payload.slice(0, 12))}…, line ${index}: ${masked}`;
          assert.match(masked, /\[masked\]/, where);
          for (const visible of masked.split("[masked]")) {
            for (const window of windows(visible)) assert.equal(forbidden.has(window), false, where);
          }
          if (strict) assert.ok(masked.replaceAll("[masked]", "").length <= 4, where);
        }
      }
    }
  });

  it("leaves base64-looking text that is not a secret's encoding alone", () => {
    const masker = maskSecrets([Buffer.from("k".repeat(32)).toString("hex")]);
    const text = "dGhpcyBpcyBub3QgYSBzZWNyZXQ= and ZGVhZGJlZWY= and abcdefghijklmnop";
    assert.equal(masker(Buffer.from(text)).toString(), text);
  });

  it("masks each line of a multi-line secret and works on binary lines", () => {
    const pem = "-----BEGIN KEY-----\nMIIEabcdef\n-----END KEY-----";
    assert.equal(mask([pem], "MIIEabcdef"), "[masked]");
    const binary = Buffer.from([0xff, 0x00, ...Buffer.from("tok3n"), 0xfe]);
    const out = maskSecrets(["tok3n"])(binary);
    assert.deepEqual(out, Buffer.from([0xff, 0x00, ...Buffer.from("[masked]"), 0xfe]));
  });

  it("catches a secret split across writes, because the writer masks complete lines", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gofer-mask-"));
    try {
      const path = join(dir, "task.log");
      const writer = new TaskLogWriter(await open(path, "a"), {
        transformLine: maskSecrets(["hunter2-secret"]),
        onAppend: () => {},
        onClose: () => {},
      });
      for (const piece of [
        "token=hun",
        "ter2-se",
        "cret done\nsecond hunter2",
        "-secret\n",
        "tail hunter2-s",
        "ecret",
      ])
        await writer.write({ stream: "stdout", data: Buffer.from(piece) });
      await writer.write({ stream: "stderr", data: Buffer.from("err hunter") });
      await writer.write({ stream: "stderr", data: Buffer.from("2-secret\n") });
      await writer.close();
      const stored = await readFile(path, "utf8");
      assert.equal(stored.includes("hunter2"), false, stored);
      assert.deepEqual(stored.split("\n").sort(), [
        "",
        "err [masked]",
        "second [masked]",
        "tail [masked]",
        "token=[masked] done",
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
