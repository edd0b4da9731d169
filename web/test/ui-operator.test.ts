/**
 * The web UI's operator controls and its answers to people without permission, in a real browser against a
 * real server: pausing and resuming new runs, a terminal into a running task, anonymous and limited tokens.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { pipelineConfig, shTask, startRun, waitForRun } from "../../packages/gofer/test/support/pipelines.ts";
import type { TestServer } from "../../packages/gofer/test/support/test-server.ts";
import {
  DESKTOP,
  openPage,
  PHONE,
  screenshot,
  signIn,
  storedToken,
  urlQueryAndHash,
  useServerAndBrowser,
} from "./support/browser.ts";

describe("the web UI: operator controls and permissions", () => {
  let server: TestServer;
  let browser: Browser;
  useServerAndBrowser(
    [
      pipelineConfig("quick", [shTask("hello", "echo hello")]),
      pipelineConfig("service", [shTask("serve", "trap 'exit 0' TERM; while true; do sleep 0.2; done")]),
    ],
    (started, launched) => {
      server = started;
      browser = launched;
    },
  );

  it("pauses new runs with a banner on every page, refuses a start while paused, and resumes", async () => {
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${server.url}/namespaces/default/pipelines/quick`);
    await signIn(page, server.token);
    // Pausing affects the whole server, so it sits in the menu, apart from everyday buttons, and asks first.
    await page.getByRole("button", { name: "Menu" }).click();
    await page.getByRole("button", { name: "Pause runs…" }).click();
    const confirm = page.getByRole("dialog");
    await confirm.getByText(/any namespace/).waitFor();
    await confirm.getByRole("button", { name: "Pause new runs" }).click();
    const banner = page.getByRole("alert").filter({ hasText: "New runs are paused" });
    await banner.waitFor();
    assert.equal((await server.api("GET", "/api/system")).json.ignore_pipeline_run_events, true);
    await screenshot(page, "paused");

    await page.getByRole("button", { name: "Start run" }).click();
    await page.getByRole("button", { name: "Start", exact: true }).click();
    await page
      .getByRole("dialog")
      .getByRole("alert")
      .filter({ hasText: /paused/ })
      .waitFor();
    assert.equal(
      (await server.api("GET", "/api/namespaces/default/pipelines/quick/runs")).json.runs.length,
      0,
    );
    await page.getByRole("button", { name: "Close" }).click();

    // The banner follows the person to other pages and survives a reload.
    await page.goto(`${server.url}/events`);
    await banner.waitFor();

    await page.getByRole("button", { name: "Resume runs" }).click();
    await banner.waitFor({ state: "detached" });
    await page.goto(`${server.url}/namespaces/default/pipelines/quick`);
    await page.getByRole("button", { name: "Start run" }).click();
    await page.getByRole("button", { name: "Start", exact: true }).click();
    await page.waitForURL(/\/runs\/1$/);
    await waitForRun(server, "quick", 1);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("opens a terminal into a running task and runs a command through it", async () => {
    const { page, context, errors } = await openPage(browser);
    const runId = await startRun(server, "service");
    await page.goto(`${server.url}/namespaces/default/pipelines/service/runs/${runId}`);
    await signIn(page, server.token);
    await page.locator('g[data-task-id="serve"][data-state="running"]').waitFor({ timeout: 30_000 });
    await page.getByRole("button", { name: "Attach" }).click();
    const terminal = page.getByRole("region", { name: "Terminal" });
    await terminal.getByText("Connected").waitFor();
    await terminal.locator(".xterm-rows").getByText("#").first().waitFor();
    await terminal.locator(".xterm").click();
    // The shell computes the answer, so seeing it proves the command ran rather than that input was echoed.
    await page.keyboard.type("echo hello-from-$((6*7))");
    await page.keyboard.press("Enter");
    await terminal.locator(".xterm-rows").getByText("hello-from-42").waitFor();
    await screenshot(page, "terminal");
    await page.keyboard.type("exit");
    await page.keyboard.press("Enter");
    await terminal.locator(".terminal-status", { hasText: "Session ended (exited 0)" }).waitFor();

    const task = await server.api(
      "GET",
      `/api/namespaces/default/pipelines/service/runs/${runId}/tasks/serve`,
    );
    assert.equal(task.json.task_execution.state, "running", "leaving the shell leaves the task running");
    await server.api("DELETE", `/api/namespaces/default/pipelines/service/runs/${runId}`);
    await waitForRun(server, "service", runId);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("streams events as they happen, and pages refetch only what an event touches instead of polling", async () => {
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${server.url}/events`);
    await signIn(page, server.token);
    await page.locator(".stream-live").waitFor();
    const events = page.getByRole("log", { name: "Events" });
    const first = await startRun(server, "quick");
    await events.getByText(new RegExp(`pipeline_id=quick\\s+run_id=${first}\\s+status=successful`)).waitFor();
    await screenshot(page, "events");

    await page.goto(`${server.url}/namespaces/default/pipelines/quick`);
    await page.getByRole("link", { name: `#${first}` }).waitFor();
    await page.locator(".stream-live").waitFor();
    const requests: string[] = [];
    page.on("request", (request) => {
      const { pathname, search } = new URL(request.url());
      if (pathname.startsWith("/api/")) requests.push(`${request.method()} ${pathname}${search}`);
    });
    await page.waitForTimeout(3000);
    assert.deepEqual(requests, [], "an idle page asks the server nothing");

    const second = await startRun(server, "quick");
    await page.getByRole("link", { name: `#${second}` }).waitFor();
    await waitForRun(server, "quick", second);
    assert.ok(requests.length > 0);
    for (const request of requests) {
      assert.match(request, /^GET \/api\/namespaces\/default\/pipelines\/quick(\/runs\?|$)/, request);
    }
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("tells an anonymous visitor and a token without permission what they cannot see, and why", async () => {
    const { page, context, errors } = await openPage(browser);
    // Anonymous: v0 lets anyone read the default namespace's pipelines and runs, not its events.
    await page.goto(`${server.url}/namespaces/default`);
    await page.getByRole("link", { name: "quick", exact: true }).waitFor();
    await page.goto(`${server.url}/events`);
    await page
      .getByRole("alert")
      .filter({ hasText: /sign in/i })
      .waitFor();

    // A token that is not known at all is refused at sign-in, and nothing is kept.
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByLabel("API token").fill("not-a-real-token");
    await page.locator("form.signin").getByRole("button", { name: "Sign in" }).click();
    await page
      .locator("form.signin")
      .getByRole("alert")
      .filter({ hasText: /unknown/ })
      .waitFor();
    assert.equal(await storedToken(page), null);

    // The `user` role works in the default namespace only: another team's page says so instead of showing nothing.
    const team = await server.api("POST", "/api/namespaces", {
      id: "payments",
      name: "Payments",
      description: "",
    });
    assert.equal(team.status, 201, team.text);
    const user = await server.api("POST", "/api/tokens", { user: "dev", roles: ["user"], expires: 0 });
    await page.getByLabel("API token").fill(user.json.secret);
    await page.locator("form.signin").getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    // On a wide screen a non-admin has no menu at all; on a phone it opens without the operator's section.
    assert.equal(
      await page.getByRole("button", { name: "Menu" }).isVisible(),
      false,
      "no menu on a wide screen",
    );
    await page.setViewportSize(PHONE);
    await page.getByRole("button", { name: "Menu" }).click();
    await page.locator("#header-menu").getByRole("button", { name: "Sign out" }).waitFor();
    assert.equal(await page.getByRole("button", { name: /Pause runs/ }).count(), 0, "no operator controls");
    await page.keyboard.press("Escape");
    await page.setViewportSize(DESKTOP);
    await page.goto(`${server.url}/namespaces/payments`);
    await page
      .getByRole("alert")
      .filter({ hasText: /may not read/ })
      .waitFor();
    await screenshot(page, "forbidden");
    assert.equal(await urlQueryAndHash(page), "", "the token never enters a URL");
    assert.deepEqual(errors, []);
    await context.close();
  });
});
