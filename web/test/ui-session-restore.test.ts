/**
 * A reload with a stored token loads each page once: pages wait for the token's check instead of loading as
 * nobody and again as the user (pages are keyed by the signed-in user).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { pipelineConfig, shTask } from "../../packages/gofer/test/support/pipelines.ts";
import type { TestServer } from "../../packages/gofer/test/support/test-server.ts";
import { openPage, signIn, useServerAndBrowser } from "./support/browser.ts";

describe("the web UI: a reload with a stored token", () => {
  let server: TestServer;
  let browser: Browser;
  useServerAndBrowser([pipelineConfig("reloaded", [shTask("one", "true")])], (started, launched) => {
    server = started;
    browser = launched;
  });

  it("opens each page's streams and reads once", async () => {
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${server.url}/events`);
    await signIn(page, server.token);
    // Signing in reloads the page as the user: let that settle before counting what the reload opens.
    await page.waitForTimeout(1_500);

    const histories: string[] = [];
    page.on("websocket", (socket) => {
      if (socket.url().includes("history=true")) histories.push(socket.url());
    });
    const pipelineReads: string[] = [];
    page.on("request", (request) => {
      if (new URL(request.url()).pathname === "/api/namespaces/default/pipelines/reloaded")
        pipelineReads.push(request.url());
    });

    await page.reload();
    await page.getByRole("heading", { name: "Events" }).waitFor();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    await page.waitForTimeout(1_500);
    assert.equal(histories.length, 1, `history streams opened: ${histories.join(", ")}`);

    await page.goto(`${server.url}/namespaces/default/pipelines/reloaded`);
    await page
      .getByRole("heading", { name: /reloaded/ })
      .first()
      .waitFor();
    await page.waitForTimeout(1_500);
    assert.equal(pipelineReads.length, 1, `pipeline reads: ${pipelineReads.length}`);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
