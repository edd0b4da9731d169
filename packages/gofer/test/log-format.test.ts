/**
 * The server's own log: JSON lines when it does not write to a terminal, human-readable lines when it does or
 * when `development.pretty_logging` says so, every line of a request carrying its request id either way.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { formatLine, loggerOption } from "../src/api/log-format.ts";
import { freePort } from "./support/free-port.ts";
import { startServiceOutput } from "./support/service-output.ts";

describe("server log lines", () => {
  it("formats a request's line with its time, level, message and fields, the request id among them", () => {
    const line = JSON.stringify({
      level: 30,
      time: Date.UTC(2026, 11, 7, 8, 3, 4, 567),
      pid: 1,
      hostname: "h",
      reqId: "5b6c-1",
      req: { method: "GET", url: "/api/namespaces", remoteAddress: "127.0.0.1", host: "x" },
      msg: "incoming request",
    });
    assert.equal(
      formatLine(line, false),
      "08:03:04.567 INFO  incoming request  reqId=5b6c-1 method=GET url=/api/namespaces remoteAddress=127.0.0.1",
    );
    const failed = formatLine(
      JSON.stringify({
        level: 50,
        time: 0,
        msg: "could not",
        err: { message: "boom", stack: "Error: boom\n    at x" },
      }),
      true,
    );
    assert.ok(failed.includes("\u001b[31mERROR\u001b[0m could not"), "the level in red on a terminal");
    assert.match(failed, /err="boom"/);
    assert.match(failed, /Error: boom\n {4}at x/);
    assert.equal(formatLine("not json", false), "not json");
  });

  it("chooses by the terminal unless told: auto, true, false, and nothing at all when silent", () => {
    const terminal = Object.assign(new PassThrough(), { isTTY: true }) as unknown as NodeJS.WriteStream;
    const pipe = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream;
    assert.ok(
      (loggerOption("info", "auto", terminal) as { stream?: unknown }).stream,
      "pretty on a terminal",
    );
    assert.deepEqual(loggerOption("info", "auto", pipe), { level: "info" }, "JSON lines into a pipe");
    assert.ok((loggerOption("info", true, pipe) as { stream?: unknown }).stream);
    assert.deepEqual(loggerOption("warn", false, terminal), { level: "warn" });
    assert.equal(loggerOption("silent", true, terminal), false);
  });

  for (const pretty of [false, true]) {
    it(`a real server writes ${pretty ? "human-readable" : "JSON"} lines, each request's with its id`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "gofer-log-format-"));
      const port = await freePort();
      const service = await startServiceOutput([], {
        HOME: dir,
        GOFER_WEB_SERVER__DATA_DIR: dir,
        GOFER_WEB_SERVER__BIND_ADDRESS: `127.0.0.1:${port}`,
        GOFER_WEB_EXTERNAL_EVENTS__ENABLE: "false",
        GOFER_WEB_EXTENSIONS__INSTALL_STD_EXTENSIONS: "false",
        ...(pretty && { GOFER_WEB_DEVELOPMENT__PRETTY_LOGGING: "true" }),
      });
      try {
        const response = await fetch(`http://127.0.0.1:${port}/api/system/metadata`, {
          headers: { "gofer-api-version": "v0" },
        });
        const requestId = response.headers.get("x-request-id") ?? "";
        await response.body?.cancel();
        for (
          let waited = 0;
          !service.output().includes("request completed") && waited < 5_000;
          waited += 50
        ) {
          await new Promise((wake) => setTimeout(wake, 50));
        }
        const lines = service
          .output()
          .split("\n")
          .filter((line) => line.includes(requestId));
        assert.equal(lines.length, 2, `the request's two lines:\n${service.output()}`);
        for (const line of lines) {
          if (pretty) {
            assert.match(line, /^\d\d:\d\d:\d\d\.\d{3} INFO {2}/);
            assert.match(line, new RegExp(`reqId=${requestId}`));
          } else {
            assert.equal(JSON.parse(line).reqId, requestId);
          }
        }
      } finally {
        await service.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
