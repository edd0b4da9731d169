/**
 * A page reads what it shows only once its event stream is live, so a change made while the stream is still
 * connecting is never lost. The stream's connection is held back here (Playwright routes the page's WebSocket and
 * connects it to the server only when told) until a run has moved on: the run page must show where the run is
 * now, not where it was when the page opened. A stream that never connects delays a page by seconds, not for good.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Browser } from "playwright-core";
import {
  pipelineConfig,
  shTask,
  startRun,
  waitForTask,
} from "../../packages/gofer/test/support/pipelines.ts";
import type { TestServer } from "../../packages/gofer/test/support/test-server.ts";
import { openPage, signIn, useServerAndBrowser } from "./support/browser.ts";

const CHAIN = pipelineConfig("chain", [
  shTask("first", "sleep 2"),
  { ...shTask("second", "trap 'exit 0' TERM; sleep 60 & wait"), depends_on: { first: "success" } },
]);

describe("the web UI: a page opened while its event stream connects", () => {
  let server: TestServer;
  let browser: Browser;
  useServerAndBrowser([CHAIN], (started, launched) => {
    server = started;
    browser = launched;
  });

  it("shows the run as it is once the stream is live, not as it was when the page opened", async () => {
    const { page, context, errors } = await openPage(browser);
    await page.goto(server.url);
    await signIn(page, server.token);

    const runId = await startRun(server, "chain");
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.routeWebSocket(/\/api\/events$/, async (socket) => {
      await released;
      socket.connectToServer();
    });
    // A new page load, so the held stream is the one the run page opens.
    await page.goto(`${server.url}/namespaces/default/pipelines/chain/runs/${runId}`);
    await page.getByRole("heading", { name: /Run/ }).first().waitFor();
    // The run moves on while the page's stream is still connecting.
    await waitForTask(server, "chain", runId, "second", (task) => task.state === "running", 30_000);
    release();
    await page
      .locator('svg[aria-label="Pipeline graph"] g[data-task-id="second"][data-state="running"]')
      .waitFor({ timeout: 10_000 });
    assert.equal(
      await page
        .locator('svg[aria-label="Pipeline graph"] g[data-task-id="first"]')
        .getAttribute("data-status"),
      "successful",
    );
    await server.api("DELETE", `/api/namespaces/default/pipelines/chain/runs/${runId}`);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("does not hold a page on a stream that never connects", async () => {
    const { page, context, errors } = await openPage(browser);
    await page.goto(server.url);
    await signIn(page, server.token);
    // The events stream is held for good: neither opened nor refused.
    await page.routeWebSocket(/\/api\/events$/, () => undefined);
    const opened = Date.now();
    await page.goto(`${server.url}/namespaces/default/pipelines/chain`);
    await page.getByRole("link", { name: `#1` }).first().waitFor({ timeout: 10_000 });
    const waited = Date.now() - opened;
    assert.ok(waited < 8_000, `the page showed its runs after ${waited} ms`);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
