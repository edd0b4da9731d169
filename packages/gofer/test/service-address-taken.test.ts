/**
 * `gofer service start` (what ./start.sh runs) on an address another process holds: it fails in one line that
 * names the listener, the setting and the environment variable that move it, with no stack trace.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { after, before, describe, it } from "node:test";
import { assertExit, runGofer, scratchDir, showResult } from "./support/cli.ts";
import { freePort } from "./support/free-port.ts";

function serverEnv(settings: Record<string, string>): Record<string, string> {
  return {
    GOFER_WEB_SERVER__DATA_DIR: scratchDir("gofer-address-taken-"),
    GOFER_WEB_EXTENSIONS__INSTALL_STD_EXTENSIONS: "false",
    GOFER_WEB_API__LOG_LEVEL: "silent",
    ...(process.env.DOCKER_HOST && { DOCKER_HOST: process.env.DOCKER_HOST }),
    ...settings,
  };
}

describe("a server whose address is taken", () => {
  let blocker: Server;
  let taken: number;
  before(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    taken = (blocker.address() as { port: number }).port;
  });
  after(async () => {
    await new Promise((resolve) => blocker.close(resolve));
  });

  it("names server.bind_address and GOFER_WEB_SERVER__BIND_ADDRESS for the API's", async () => {
    const result = await runGofer(["service", "start"], {
      env: serverEnv({
        GOFER_WEB_SERVER__BIND_ADDRESS: `127.0.0.1:${taken}`,
        GOFER_WEB_EXTERNAL_EVENTS__BIND_ADDRESS: "127.0.0.1:0",
      }),
    });
    assertExit(result, 1);
    assert.match(
      result.stderr,
      new RegExp(
        `^error: cannot listen on 127\\.0\\.0\\.1:${taken} for the API and web UI \\(server\\.bind_address\\): ` +
          "another process is already listening there \\(EADDRINUSE\\)$",
        "m",
      ),
      showResult(result),
    );
    assert.match(
      result.stderr,
      new RegExp(`^hint: .*GOFER_WEB_SERVER__BIND_ADDRESS=127\\.0\\.0\\.1:${taken + 10}\\b`, "m"),
      showResult(result),
    );
    assert.doesNotMatch(result.stderr, /^\s+at /m, showResult(result));
  });

  it("names external_events.bind_address and its variable for the webhook listener's", async () => {
    const apiPort = await freePort();
    const result = await runGofer(["service", "start"], {
      env: serverEnv({
        GOFER_WEB_SERVER__BIND_ADDRESS: `127.0.0.1:${apiPort}`,
        GOFER_WEB_EXTERNAL_EVENTS__BIND_ADDRESS: `127.0.0.1:${taken}`,
      }),
    });
    assertExit(result, 1);
    assert.match(
      result.stderr,
      new RegExp(
        `cannot listen on 127\\.0\\.0\\.1:${taken} for external events \\(webhooks\\) \\(external_events`,
      ),
      showResult(result),
    );
    assert.match(result.stderr, /^hint: .*GOFER_WEB_EXTERNAL_EVENTS__BIND_ADDRESS=/m, showResult(result));
    await assert.rejects(fetch(`http://127.0.0.1:${apiPort}/api/system/metadata`), "the API still answers");
  });
});
