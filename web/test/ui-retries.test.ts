/**
 * Attempts, retries and timeouts in a real browser against a real server and engine: a failed run retried from
 * its page until it succeeds, every attempt on the timeline and each attempt's log readable; a refused retry
 * showing the server's reason; a task stopped at its timeout; the pipeline page's limits.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import {
  deployPipeline,
  pipelineConfig,
  shTask,
  startRun,
  waitForRun,
} from "../../packages/gofer/test/support/pipelines.ts";
import type { TestServer } from "../../packages/gofer/test/support/test-server.ts";
import { openPage, screenshot, signIn, useServerAndBrowser } from "./support/browser.ts";

/** A task stopped at its timeout, a dependent with a retry policy, a run timeout and a concurrency group. */
const sleepy = {
  ...pipelineConfig("sleepy", [
    { ...shTask("nap", "sleep 60"), timeout: "1s" },
    { ...shTask("tidy", "echo tidy", { depends_on: { nap: "any" } }), retries: { limit: 2 } },
  ]),
  timeout: "5m",
  concurrency: { group: "sleepy" },
};

describe("the web UI: attempts, retries, timeouts and declared subscriptions", { timeout: 240_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  useServerAndBrowser(
    [
      pipelineConfig("second-try", [
        // Fails its first attempt only.
        shTask("flaky", 'echo "attempt $GOFER_TASK_ATTEMPT"; [ "$GOFER_TASK_ATTEMPT" -ge 2 ] || exit 3'),
        shTask("after", "echo after", { depends_on: { flaky: "success" } }),
      ]),
      pipelineConfig("refused", [shTask("fail", "exit 1")]),
      sleepy,
    ],
    (started, launched) => {
      server = started;
      browser = launched;
    },
  );

  async function signedInPage() {
    const opened = await openPage(browser);
    await opened.page.goto(server.url);
    await signIn(opened.page, server.token);
    return opened;
  }

  const runState = (page: Page, status: string) =>
    page.locator(`[data-testid="run-state"][data-status="${status}"]`);
  const timelineRow = (page: Page, task: string) =>
    page.locator(`ol[aria-label="Timeline"] li[data-task-id="${task}"]`);
  const taskRow = (page: Page, task: string) =>
    page
      .locator("table.tasks tbody tr")
      .filter({ has: page.getByRole("button", { name: `Show log of ${task}` }) });

  it("retries a failed run from its page: the task's second attempt succeeds, and both attempts stay readable", async () => {
    const { page, context, errors } = await signedInPage();
    const runId = await startRun(server, "second-try");
    await page.goto(`${server.url}/namespaces/default/pipelines/second-try/runs/${runId}`);
    // The page learns of the failure from the event stream.
    await runState(page, "failed").waitFor({ timeout: 60_000 });
    assert.equal(await page.getByRole("button", { name: "Cancel run" }).count(), 0);
    const retry = page.getByRole("button", { name: "Retry run" });
    await retry.waitFor();
    await screenshot(page, "run-failed-retryable");

    await retry.click();
    await runState(page, "successful").waitFor({ timeout: 60_000 });
    assert.equal(await retry.count(), 0, "a successful run cannot be retried");
    assert.equal(await page.getByTestId("run-retries").textContent(), "retried 1 time");
    assert.equal(
      await page
        .locator('svg[aria-label="Pipeline graph"] g[data-task-id="after"]')
        .getAttribute("data-status"),
      "successful",
    );

    // Two bars for the flaky task: the first attempt dimmed, each labelled.
    const bars = timelineRow(page, "flaky").locator(".timeline-bar");
    await bars.nth(1).waitFor();
    assert.equal(await bars.count(), 2);
    assert.deepEqual(await bars.allTextContents(), ["attempt 1", "attempt 2"]);
    assert.match((await bars.first().getAttribute("class")) ?? "", /bar-failed.*bar-earlier/);
    assert.match((await bars.nth(1).getAttribute("class")) ?? "", /bar-successful/);
    assert.doesNotMatch((await bars.nth(1).getAttribute("class")) ?? "", /bar-earlier/);
    assert.equal(await timelineRow(page, "after").locator(".timeline-bar").count(), 1, "its skip never ran");
    assert.match((await taskRow(page, "flaky").locator("td").nth(2).textContent()) ?? "", /^2/);

    // The current attempt's log, then the first attempt's through the selector.
    await page.getByRole("button", { name: "Show log of flaky" }).click();
    const log = page.getByRole("log", { name: "Task log" });
    await log.locator(".log-line", { hasText: "attempt 2" }).waitFor();
    assert.equal(await page.getByTestId("log-attempt").textContent(), "attempt 2");
    const picker = page.getByLabel("Attempt", { exact: true });
    assert.deepEqual(await picker.locator("option").allTextContents(), [
      "attempt 1: failed, exit 3",
      "attempt 2 (current)",
    ]);
    await picker.selectOption("1");
    await log.locator(".log-line", { hasText: "attempt 1" }).waitFor();
    assert.deepEqual(await log.locator(".log-line").allTextContents(), ["attempt 1"]);
    assert.equal(await page.getByTestId("log-attempt").textContent(), "attempt 1");
    await page.locator("p.lead", { hasText: /Attempt 1\s*failed\s*exit 3/ }).waitFor();

    // Clicking the current attempt's bar goes back to its log.
    await bars.nth(1).click();
    await log.locator(".log-line", { hasText: "attempt 2" }).waitFor();
    await bars.first().click();
    await log.locator(".log-line", { hasText: "attempt 1" }).waitFor();
    await screenshot(page, "run-retried");
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("shows the server's reason when it refuses a retry", async () => {
    const { page, context, errors } = await signedInPage();
    const runId = await startRun(server, "refused");
    await waitForRun(server, "refused", runId);
    await page.goto(`${server.url}/namespaces/default/pipelines/refused/runs/${runId}`);
    await runState(page, "failed").waitFor();
    const disabled = await server.api("PATCH", "/api/namespaces/default/pipelines/refused", {
      state: "disabled",
    });
    assert.equal(disabled.status, 204, disabled.text);
    try {
      await page.getByRole("button", { name: "Retry run" }).click();
      await page.getByRole("alert").filter({ hasText: 'Pipeline "refused" is disabled' }).waitFor();
      assert.equal(await runState(page, "failed").count(), 1, "the run is as it was");
    } finally {
      await server.api("PATCH", "/api/namespaces/default/pipelines/refused", { state: "active" });
    }
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("shows a task stopped at its timeout with reason timeout, and the pipeline's limits", async () => {
    const { page, context, errors } = await signedInPage();
    const runId = await startRun(server, "sleepy");
    await page.goto(`${server.url}/namespaces/default/pipelines/sleepy/runs/${runId}`);
    await runState(page, "failed").waitFor({ timeout: 60_000 });
    const reason = taskRow(page, "nap").locator("td.reason [data-reason]");
    assert.equal(await reason.getAttribute("data-reason"), "timeout");
    assert.match((await reason.textContent()) ?? "", /^timeout.*1s timeout/);
    assert.equal(
      await page.locator('.run-reason [data-reason="timeout"]').count(),
      1,
      "the run's reason too",
    );
    await page.getByText("concurrency group sleepy").waitFor();
    assert.match((await taskRow(page, "tidy").locator("td").nth(2).textContent()) ?? "", /^1 of 3$/);
    await screenshot(page, "run-timeout");

    await page.getByRole("link", { name: "sleepy", exact: true }).click();
    await page.getByRole("heading", { name: "Pipeline sleepy" }).waitFor();
    assert.equal(await page.getByTestId("config-timeout").textContent(), "runs time out after 5m");
    assert.match(
      (await page.getByTestId("config-concurrency").textContent()) ?? "",
      /group sleepy; a new run waits/,
    );
    const limits = page.getByRole("table", { name: "Task timeouts and retries" });
    assert.deepEqual(await limits.locator("tbody tr").evaluateAll(rowsText), [
      ["nap", "1s", "–"],
      [
        "tidy",
        "–",
        "up to 2 more attempts, 1s apart (×2, at most 5m), on failure, timeout, scheduler_error, orphaned",
      ],
    ]);
    await screenshot(page, "pipeline-limits");
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("tells subscriptions declared by a config version from those added through the API", async () => {
    const installed = await server.api("POST", "/api/extensions", {
      id: "interval",
      image: "gofer/extension-interval:latest",
      settings: { min_interval: "1s" },
    });
    assert.equal(installed.status, 201, installed.text);
    const declared = {
      ...pipelineConfig("declared", [shTask("hello", "echo hello")]),
      subscriptions: [{ extension_id: "interval", subscription_id: "hourly", settings: { every: "1h" } }],
    };
    const version = await deployPipeline(server, declared);
    const created = await server.api("POST", "/api/namespaces/default/pipelines/declared/subscriptions", {
      extension_id: "interval",
      subscription_id: "by-hand",
      settings: { every: "2h" },
    });
    assert.equal(created.status, 201, created.text);

    const { page, context, errors } = await signedInPage();
    await page.goto(`${server.url}/namespaces/default/pipelines/declared`);
    const subscription = (id: string) => page.locator("li", { hasText: `interval / ${id}` });
    await subscription("hourly").waitFor();
    await subscription("by-hand").waitFor();
    assert.equal(
      await subscription("hourly").getByTestId("subscription-origin").textContent(),
      `declared by config v${version}`,
    );
    assert.equal(
      await subscription("by-hand").getByTestId("subscription-origin").textContent(),
      "added through the API",
    );
    await page.getByText("declares 1 subscription: interval/hourly").waitFor();
    await screenshot(page, "pipeline-subscriptions");
    assert.deepEqual(errors, []);
    await context.close();
  });
});

/** Each row's cell texts; run in the page. */
function rowsText(rows: unknown[]): string[][] {
  type Cell = { textContent: string | null };
  return (rows as { querySelectorAll(selector: string): Iterable<Cell> }[]).map((row) =>
    Array.from(row.querySelectorAll("td"), (cell) => cell.textContent ?? ""),
  );
}
