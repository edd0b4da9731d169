/**
 * The web UI in a real browser against a real server and engine: starting a DAG run and watching it finish
 * with the right colours, a task's log arriving while it runs, cancelling a long run.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import {
  pipelineConfig,
  shTask,
  startRun,
  waitForRun,
  waitForTask,
} from "../../packages/gofer/test/support/pipelines.ts";
import type { TestServer } from "../../packages/gofer/test/support/test-server.ts";
import {
  bodyBackground,
  computedStyle,
  openPage,
  PHONE,
  SCREENSHOTS,
  screenshot,
  signIn,
  useServerAndBrowser,
} from "./support/browser.ts";

describe("the web UI: runs", () => {
  let server: TestServer;
  let browser: Browser;
  useServerAndBrowser(
    [
      pipelineConfig("release", [
        shTask("checkout", "echo fetching; sleep 1; echo done"),
        shTask("build", "echo compiling; sleep 1", { depends_on: { checkout: "success" } }),
        shTask("test", "echo testing; sleep 1", { depends_on: { checkout: "success" } }),
        shTask("publish", "echo publishing", { depends_on: { build: "success", test: "success" } }),
        shTask("notify", "echo tests failed", { depends_on: { test: "failure" } }),
      ]),
      pipelineConfig("talker", [
        shTask("talk", "for i in 1 2 3 4 5 6 7 8; do echo line-$i; sleep 0.5; done"),
      ]),
      pipelineConfig("forever", [shTask("wait", "sleep 300")]),
      pipelineConfig("chatty", [shTask("count", "seq 1 100000")]),
    ],
    (started, launched) => {
      server = started;
      browser = launched;
      console.log(`screenshots: ${SCREENSHOTS}`);
    },
  );

  async function signedInPage(options: Parameters<typeof openPage>[1] = {}) {
    const opened = await openPage(browser, options);
    await opened.page.goto(server.url);
    await signIn(opened.page, server.token);
    return opened;
  }

  const node = (page: Page, task: string) =>
    page.locator(`svg[aria-label="Pipeline graph"] g[data-task-id="${task}"]`);

  it("starts a DAG run from the pipeline page and shows it finish, each task in its colour", async () => {
    const { page, context, errors } = await signedInPage();
    await page.getByRole("link", { name: "release", exact: true }).click();
    await page.getByRole("heading", { name: "Pipeline release" }).waitFor();
    assert.equal(await page.locator('svg[aria-label="Pipeline graph"] g[data-task-id]').count(), 5);
    await screenshot(page, "pipeline");

    await page.getByRole("button", { name: "Start run" }).click();
    await page.getByRole("button", { name: "Add variable" }).click();
    await page.getByLabel("Variable name").fill("GREETING");
    await page.getByLabel("Variable value").fill("hello");
    await page.getByRole("button", { name: "Start", exact: true }).click();
    await page.waitForURL(/\/namespaces\/default\/pipelines\/release\/runs\/1$/);

    const state = page.getByTestId("run-state");
    await page.locator('[data-testid="run-state"][data-status="successful"]').waitFor({ timeout: 60_000 });
    assert.equal(await state.textContent(), "complete");
    for (const task of ["checkout", "build", "test", "publish"])
      assert.equal(await node(page, task).getAttribute("data-status"), "successful", task);
    assert.equal(await node(page, "notify").getAttribute("data-status"), "skipped");
    // The colours people see come from the status, not just the attribute.
    const fill = (task: string) => computedStyle(node(page, task).locator("rect"), "stroke");
    assert.notEqual(await fill("publish"), await fill("notify"));
    assert.equal(await page.locator('ol[aria-label="Timeline"] li[data-task-id]').count(), 5);
    const run = await server.api("GET", "/api/namespaces/default/pipelines/release/runs/1");
    assert.deepEqual(
      run.json.run.variables.filter((variable: { key: string }) => variable.key === "GREETING"),
      [{ key: "GREETING", value: "hello", source: "run_options" }],
    );
    await screenshot(page, "run");

    // The same page for someone on a phone, and in the dark.
    await page.setViewportSize(PHONE);
    await screenshot(page, "run-phone");
    await context.close();
    const dark = await signedInPage({ colorScheme: "dark" });
    await dark.page.goto(`${server.url}/namespaces/default/pipelines/release/runs/1`);
    await dark.page.getByTestId("run-state").waitFor();
    const background = await bodyBackground(dark.page);
    assert.equal(background, "rgb(13, 17, 23)");
    await screenshot(dark.page, "run-dark");
    await dark.page.goto(`${server.url}/namespaces/default/pipelines/release`);
    await dark.page.getByRole("heading", { name: "Pipeline release" }).waitFor();
    await screenshot(dark.page, "pipeline-dark");
    await dark.context.close();
    assert.deepEqual([...errors, ...dark.errors], []);
  });

  it("shows a task's log while the task is still writing it", async () => {
    const { page, context, errors } = await signedInPage();
    const runId = await startRun(server, "talker");
    await page.goto(`${server.url}/namespaces/default/pipelines/talker/runs/${runId}`);
    const log = page.getByRole("log", { name: "Task log" });
    await log.locator(".log-line", { hasText: "line-2" }).waitFor({ timeout: 30_000 });
    const stillRunning = await node(page, "talk").getAttribute("data-state");
    assert.equal(stillRunning, "running", "the line arrived while the task was running");
    await log.locator(".log-line", { hasText: "line-8" }).waitFor({ timeout: 30_000 });
    assert.deepEqual(await log.locator(".log-line").allTextContents(), [
      "line-1",
      "line-2",
      "line-3",
      "line-4",
      "line-5",
      "line-6",
      "line-7",
      "line-8",
    ]);
    await page.getByLabel("Search log").fill("line-5");
    assert.match((await page.locator(".match-count").textContent()) ?? "", /1 of 1/);
    await waitForRun(server, "talker", runId);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("keeps a 100,000-line log in a handful of DOM rows, and finds any line", async () => {
    const { page, context, errors } = await signedInPage();
    const runId = await startRun(server, "chatty");
    await waitForRun(server, "chatty", runId);
    await page.goto(`${server.url}/namespaces/default/pipelines/chatty/runs/${runId}`);
    await page.getByText("100,000 lines").waitFor({ timeout: 30_000 });
    const log = page.getByRole("log", { name: "Task log" });
    const rendered = await log.locator(".log-line").count();
    assert.ok(rendered > 0 && rendered < 200, `${rendered} rows in the DOM for 100,000 lines`);
    const started = Date.now();
    await page.getByLabel("Search log").fill("99999");
    await page.getByLabel("Search log").press("Enter");
    await log.locator(".log-current", { hasText: /^99999$/ }).waitFor();
    const searchMs = Date.now() - started;
    assert.ok((await log.locator(".log-line").count()) < 200);
    console.log(`100,000-line log: ${rendered} rows rendered; search and jump in ${searchMs} ms`);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("cancels a long run from the run page", async () => {
    const { page, context, errors } = await signedInPage();
    const runId = await startRun(server, "forever");
    // Opened once the task runs: this tests cancelling, and a page opened while the task starts can show it
    // waiting until the next event.
    await waitForTask(server, "forever", runId, "wait", (execution) => execution.state === "running");
    await page.goto(`${server.url}/namespaces/default/pipelines/forever/runs/${runId}`);
    await page.locator('g[data-task-id="wait"][data-state="running"]').waitFor({ timeout: 30_000 });
    await page.getByRole("button", { name: "Cancel run" }).click();
    await page.locator('[data-testid="run-state"][data-status="cancelled"]').waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId("run-state").textContent(), "complete");
    assert.equal(await node(page, "wait").getAttribute("data-status"), "cancelled");
    assert.equal(await page.getByRole("button", { name: "Cancel run" }).count(), 0);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
