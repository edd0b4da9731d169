/**
 * The run page telling what happened and letting a person act on it, in a real browser against a real server
 * and engine: a cancellation with its asker and grace period, a run's variables and running it again with them,
 * the start dialog offering recent runs' variables, the config version as a link, the selected task and log line
 * in the address, and a failed run opening on its error.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Locator, Page } from "playwright-core";
import {
  deployPipeline,
  getRun,
  pipelineConfig,
  shTask,
  startRun,
  waitForRun,
  waitForTask,
} from "../../packages/gofer/test/support/pipelines.ts";
import { startTestServer, type TestServer } from "../../packages/gofer/test/support/test-server.ts";
import { launchBrowser, openPage, screenshot, signIn, urlQueryAndHash } from "./support/browser.ts";

/** Long enough to watch the grace period count down. */
const STOP_TIMEOUT_S = 6;

/**
 * 300 lines of output, then the error on stderr when FAIL_TESTS=1. The pause keeps the error last: lines of the
 * two streams are stored in the order they reach the server, which a burst on the other stream can overtake.
 */
const TESTS =
  'seq 1 300; sleep 0.5; if [ "$FAIL_TESTS" = 1 ]; then echo "error: 3 tests failed" >&2; exit 1; fi; echo passed';

describe("the web UI: the run page", { timeout: 300_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    server = await startTestServer({ GOFER_WEB_API__TASK_EXECUTION_STOP_TIMEOUT: String(STOP_TIMEOUT_S) });
    browser = await launchBrowser();
    await deployPipeline(server, pipelineConfig("stubborn", [shTask("hold", "trap '' TERM; sleep 60")]));
    await deployPipeline(
      server,
      pipelineConfig("checks", [
        shTask("lint", "echo lint-1; echo lint-2; echo lint-3"),
        shTask("tests", TESTS),
      ]),
    );
    await deployPipeline(server, pipelineConfig("greeter", [shTask("hello", "echo hello")]));
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function signedInPage() {
    const opened = await openPage(browser);
    await opened.page.goto(server.url);
    await signIn(opened.page, server.token);
    return opened;
  }

  const runPath = (pipeline: string, runId: number) =>
    `/namespaces/default/pipelines/${pipeline}/runs/${runId}`;
  const runState = (page: Page) => page.getByTestId("run-state");
  const log = (page: Page) => page.getByRole("log", { name: "Task log" });
  const historyLength = (page: Page) =>
    page.evaluate(() => (globalThis as unknown as { history: { length: number } }).history.length);

  /** Whether the element is wholly inside both the page's viewport and the scrolled log around it. */
  async function inView(page: Page, element: Locator): Promise<boolean> {
    const box = await element.boundingBox();
    const around = await log(page).boundingBox();
    const viewport = page.viewportSize();
    if (!box || !around || !viewport) return false;
    return (
      box.y >= around.y &&
      box.y + box.height <= around.y + around.height &&
      box.y >= 0 &&
      box.y + box.height <= viewport.height
    );
  }

  it("shows a run as cancelling from the moment it is cancelled, with who asked and the grace period counting down", async () => {
    const { page, context, errors } = await signedInPage();
    const runId = await startRun(server, "stubborn");
    // Opened once the task runs: this tests cancelling, and a page opened while the task starts can show it
    // waiting until the next event.
    await waitForTask(server, "stubborn", runId, "hold", (execution) => execution.state === "running");
    await page.goto(`${server.url}${runPath("stubborn", runId)}`);
    await page.locator('g[data-task-id="hold"][data-state="running"]').waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId("cancelling").count(), 0);

    await page.getByRole("button", { name: "Cancel run" }).click();
    await page.getByTestId("cancelling").waitFor({ timeout: 5000 });
    assert.equal(await runState(page).textContent(), "cancelling");
    const cancelling = page.getByRole("button", { name: "Cancelling…" });
    assert.equal(await cancelling.isDisabled(), true, "no second cancel while the first one runs");
    await page.getByTestId("cancelling").filter({ hasText: "asked by bootstrap" }).waitFor();
    const secondsLeft = async () =>
      Number(/killed in (\d+) s/.exec((await page.getByTestId("grace-left").textContent()) ?? "")?.[1]);
    const first = await secondsLeft();
    assert.ok(first >= 1 && first <= STOP_TIMEOUT_S, `${first} s left of ${STOP_TIMEOUT_S}`);
    await screenshot(page, "run-cancelling");
    await page.waitForTimeout(2100);
    assert.ok((await secondsLeft()) < first, "the grace period counts down");

    await page.locator('[data-testid="run-state"][data-status="cancelled"]').waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId("cancelling").count(), 0);
    assert.match(
      (await page.getByTestId("run-cancelled-by").textContent()) ?? "",
      /^cancellation asked by bootstrap/,
    );
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("shows the variables a run was started with, never a secret's value, and offers them when starting the next run", async () => {
    const failing = await startRun(server, "checks", { FAIL_TESTS: "1" });
    await waitForRun(server, "checks", failing);
    const quiet = await startRun(server, "greeter", { NAME: "world", KEY: "global_secret{{deploy_key}}" });
    await waitForRun(server, "greeter", quiet);
    const { page, context, errors } = await signedInPage();

    await page.goto(`${server.url}${runPath("checks", failing)}`);
    const variables = page.getByRole("table", { name: "Variables" });
    const row = variables.locator('tr[data-variable="FAIL_TESTS"]');
    await row.waitFor();
    assert.deepEqual(await row.locator("td").allTextContents(), ["FAIL_TESTS", "1", "given when started"]);

    await page.goto(`${server.url}${runPath("greeter", quiet)}`);
    const key = page.locator('tr[data-variable="KEY"]');
    await key.waitFor();
    assert.equal(await key.locator("td").nth(1).textContent(), "global secret deploy_key");

    // The pipeline's next run starts from the last run's variables; an earlier run's set is one pick away.
    const plain = await startRun(server, "checks", { FAIL_TESTS: "0", EXTRA: "yes" });
    await waitForRun(server, "checks", plain);
    await page.goto(`${server.url}/namespaces/default/pipelines/checks`);
    await page.getByRole("button", { name: "Start run" }).click();
    const names = () => page.getByLabel("Variable name").evaluateAll(inputValues);
    const values = () => page.getByLabel("Variable value").evaluateAll(inputValues);
    await page.getByLabel("Variable name").first().waitFor();
    assert.deepEqual(await names(), ["FAIL_TESTS", "EXTRA"]);
    assert.deepEqual(await values(), ["0", "yes"]);
    const picker = page.getByLabel("Variables of an earlier run");
    assert.deepEqual(await picker.locator("option").allTextContents(), [
      `run ${plain}: FAIL_TESTS=0, EXTRA=yes`,
      `run ${failing}: FAIL_TESTS=1`,
      "none",
    ]);
    await picker.selectOption(String(failing));
    assert.deepEqual(await names(), ["FAIL_TESTS"]);
    assert.deepEqual(await values(), ["1"]);
    await screenshot(page, "start-run-recent-variables");
    await picker.selectOption("");
    assert.equal(await page.getByLabel("Variable name").count(), 0);
    await page.getByRole("button", { name: "Close" }).click();
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("runs a run again with its variables, beside Retry run, and links its config version", async () => {
    const runId = await startRun(server, "checks", { FAIL_TESTS: "1" });
    await waitForRun(server, "checks", runId);
    const { page, context, errors } = await signedInPage();
    await page.goto(`${server.url}${runPath("checks", runId)}`);
    await page.locator('[data-testid="run-state"][data-status="failed"]').waitFor();
    const actions = page.locator(".page-head .actions");
    assert.deepEqual(await actions.getByRole("button").allTextContents(), ["Run again", "Retry run"]);

    const config = page.getByRole("link", { name: "Config v1" });
    assert.equal(await config.getAttribute("href"), "/namespaces/default/pipelines/checks?config=1");

    await actions.getByRole("button", { name: "Run again" }).click();
    await page
      .getByRole("heading", { name: `Run checks again with the variables of run ${runId}` })
      .waitFor();
    assert.deepEqual(await page.getByLabel("Variable name").evaluateAll(inputValues), ["FAIL_TESTS"]);
    assert.deepEqual(await page.getByLabel("Variable value").evaluateAll(inputValues), ["1"]);
    await page.getByRole("button", { name: "Start", exact: true }).click();
    // The new run's page; if it never comes, the dialog's own account of why in the failure.
    await page
      .waitForURL(new RegExp(`/runs/${runId + 1}$`), { timeout: 30_000 })
      .catch(async (error: Error) => {
        const said = await page.getByRole("dialog").getByRole("alert").allTextContents();
        throw new Error(`${error.message}; the start dialog says: ${said.join(" ") || "nothing"}`);
      });
    await page.getByRole("heading", { name: `Run ${runId + 1}` }).waitFor();
    const again = await getRun(server, "checks", runId + 1);
    assert.deepEqual(again.variables, [{ key: "FAIL_TESTS", value: "1", source: "run_options" }]);
    await waitForRun(server, "checks", runId + 1);

    await page.getByRole("link", { name: "Config v1" }).click();
    await page.waitForURL(/\/pipelines\/checks\?config=1$/);
    await page.getByRole("heading", { name: "Pipeline checks" }).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("opens a failed run on the failing task's last lines, and keeps the selected task and line in the address", async () => {
    const runId = await startRun(server, "checks", { FAIL_TESTS: "1" });
    await waitForRun(server, "checks", runId);
    const { page, context, errors } = await signedInPage();
    await page.goto(`${server.url}${runPath("checks", runId)}`);
    await page.getByRole("heading", { name: /^Log of tests/ }).waitFor();
    const error = log(page).locator(".log-line", { hasText: "error: 3 tests failed" });
    await error.waitFor();
    assert.equal(await inView(page, error), true, "the error is on screen without scrolling");
    await screenshot(page, "run-failed-in-view");

    // Choosing a task and a line writes them into the address, in place: Back still leaves the page.
    const entries = await historyLength(page);
    await page.getByRole("button", { name: "Show log of lint" }).click();
    assert.equal(await urlQueryAndHash(page), "?task=lint");
    await log(page).locator(".log-line", { hasText: "lint-2" }).click();
    assert.equal(await urlQueryAndHash(page), "?task=lint#L2");
    assert.equal(await log(page).locator(".log-selected").textContent(), "lint-2");
    assert.equal(await historyLength(page), entries, "selections replace the address");

    // The shared address opens on the same log and line, a line far down brought into view.
    const shared = await openPage(browser);
    await shared.page.goto(server.url);
    await signIn(shared.page, server.token);
    await shared.page.goto(`${server.url}${runPath("checks", runId)}?task=lint#L2`);
    await log(shared.page).locator(".log-selected", { hasText: "lint-2" }).waitFor();
    assert.match(
      (await shared.page.getByRole("heading", { name: /^Log of/ }).textContent()) ?? "",
      /^Log of lint/,
    );
    await shared.page.goto(`${server.url}${runPath("checks", runId)}?task=tests#L150`);
    const far = log(shared.page).locator('.log-selected[data-line="150"]');
    await far.waitFor();
    assert.equal(await far.textContent(), "150");
    assert.equal(await inView(shared.page, far), true, "the linked line is on screen");
    await screenshot(shared.page, "run-linked-line");
    assert.deepEqual([...errors, ...shared.errors], []);
    await shared.context.close();
    await context.close();
  });
});

/** The values of input elements; run in the page. */
function inputValues(inputs: unknown[]): string[] {
  return (inputs as { value: string }[]).map((input) => input.value);
}
