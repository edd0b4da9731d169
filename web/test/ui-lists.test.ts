/**
 * The web UI's lists in a real browser against a real server and engine: the config compare opening on what the
 * last deployment changed (or on a version named in the address), folded and scrolling inside its own box; a
 * pipeline's runs a page at a time and by status; events a page at a time from the oldest shown (never re-read
 * from the newest), filtered, each linking what it names, a click's reading bounded and read on from there;
 * the pipelines list searched by name and description, with when each last ran; deployments in words. No page is
 * ever wider than the window, on a desktop or a phone.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { insertEvent } from "../../packages/gofer/src/storage/events-store.ts";
import { storeFinishedRuns } from "../../packages/gofer/test/support/finished-runs.ts";
import {
  deployPipeline,
  pipelineConfig,
  shTask,
  startRun,
  waitForRun,
} from "../../packages/gofer/test/support/pipelines.ts";
import { storedEvents } from "../../packages/gofer/test/support/stored-events.ts";
import type { TestServer } from "../../packages/gofer/test/support/test-server.ts";
import { DESKTOP, openPage, PHONE, screenshot, signIn, useServerAndBrowser } from "./support/browser.ts";

/** Task variables long enough that their JSON lines are wider than any window. */
const LONG = "x".repeat(400);

/** Six tasks; `changed` alters one variable of the fourth, so the diff has unchanged stretches on both sides. */
const evolving = (changed: string) => ({
  ...pipelineConfig(
    "evolving",
    ["fetch", "lint", "build", "test", "package", "publish"].map((id) =>
      shTask(id, "true", { variables: { MODE: id === "test" ? changed : "steady", NOTE: LONG } }),
    ),
  ),
  name: "Evolving service",
  description: "Builds the evolving service and ships it to production",
});

interface PageWindow {
  innerWidth: number;
  document: { documentElement: { scrollWidth: number } };
}

/** The page's width against the window's: wider means the person scrolls the whole page sideways. */
async function assertNoOverflow(page: Page, what: string): Promise<void> {
  const { scrollWidth, innerWidth } = await page.evaluate(() => {
    const window = globalThis as unknown as PageWindow;
    return { scrollWidth: window.document.documentElement.scrollWidth, innerWidth: window.innerWidth };
  });
  assert.ok(
    scrollWidth <= innerWidth,
    `${what}: the page is ${scrollWidth} px wide in a ${innerWidth} px window`,
  );
}

/** The history streams a page opens (`/api/events?history=true…`), each with the events it received. */
function historyRequests(page: Page): { url: string; frames: number }[] {
  const requests: { url: string; frames: number }[] = [];
  page.on("websocket", (socket) => {
    if (!socket.url().includes("history=true")) return;
    const request = { url: socket.url(), frames: 0 };
    requests.push(request);
    socket.on("framereceived", () => {
      request.frames += 1;
    });
  });
  return requests;
}

describe("the web UI: lists, the config compare, links", () => {
  let server: TestServer;
  let browser: Browser;
  useServerAndBrowser([], (started, launched) => {
    server = started;
    browser = launched;
  });

  before(async () => {
    // Versions 1 and 2 registered, 1 deployed first, then 3 deployed: 2 was never live.
    const base = "/api/namespaces/default/pipelines/evolving/configs";
    await deployPipeline(server, evolving("first"));
    assert.equal((await server.api("POST", base, { config: evolving("second") })).status, 201);
    await deployPipeline(server, evolving("third"));

    // Run 1 really fails; runs 2..31 are stored as the orchestrator stores finished runs, after it.
    const many = {
      ...pipelineConfig("many", [shTask("work", 'test "$OUTCOME" != fail')]),
      description: "Runs often",
    };
    await deployPipeline(server, many);
    const failed = await startRun(server, "many", { OUTCOME: "fail" });
    await waitForRun(server, "many", failed);
    await storeFinishedRuns(server, "many", 30);
    await deployPipeline(server, pipelineConfig("idle", [shTask("nothing", "true")]));
  });

  async function signedInPage() {
    const opened = await openPage(browser);
    await opened.page.goto(server.url);
    await signIn(opened.page, server.token);
    return opened;
  }

  it("compares the version before the live one with the live one, folded, inside the page's width", async () => {
    const { page, context, errors } = await signedInPage();
    await page.goto(`${server.url}/namespaces/default/pipelines/evolving`);
    const from = page.getByLabel("Compare version", { exact: true });
    const to = page.getByLabel("with version", { exact: true });
    await page
      .getByTestId("diff-summary")
      .filter({ hasText: /removed|added/ })
      .waitFor();
    assert.equal(await from.inputValue(), "2");
    assert.equal(await to.inputValue(), "3");
    assert.equal(await page.getByTestId("diff-summary").textContent(), "1 removed, 1 added");
    const diff = page.getByRole("region", { name: "Changes from v2 to v3" });
    const changes = await diff.locator(".diff-removed, .diff-added").allTextContents();
    assert.equal(changes.length, 2, changes.join("\n"));
    assert.match(changes[0] ?? "", /^- +"value": "second",?$/);
    assert.match(changes[1] ?? "", /^\+ +"value": "third",?$/);
    const folds = diff.getByRole("button", { name: /^\d+ unchanged lines$/ });
    assert.equal(await folds.count(), 2);
    const shownBefore = await diff.locator(".diff-line").count();
    const hidden = Number((await folds.first().textContent())?.split(" ")[0]);
    await folds.first().click();
    assert.equal(await diff.locator(".diff-line").count(), shownBefore + hidden);
    assert.equal(await folds.count(), 1);

    // The long lines scroll inside the diff; the page keeps the window's width.
    const { scrollWidth, clientWidth } = await diff.evaluate((element) => {
      const box = element as unknown as { scrollWidth: number; clientWidth: number };
      return { scrollWidth: box.scrollWidth, clientWidth: box.clientWidth };
    });
    assert.ok(scrollWidth > clientWidth, "the long lines are wider than the diff's box");
    await assertNoOverflow(page, "pipeline page, desktop");
    const deployments = page.locator("section[aria-labelledby='deployments-title'] li");
    assert.deepEqual(
      (await deployments.allTextContents()).map((text) => text.replace(/\s+(complete|successful).*$/, "")),
      ["#2: deployed v3, replacing v1", "#1: deployed v1"],
    );
    await screenshot(page, "config-compare");
    await page.setViewportSize(PHONE);
    await assertNoOverflow(page, "pipeline page, phone");
    await screenshot(page, "config-compare-phone");

    // Picking two versions by hand compares those.
    await page.setViewportSize(DESKTOP);
    await from.selectOption("1");
    await page.getByRole("region", { name: "Changes from v1 to v3" }).waitFor();
    await assertNoOverflow(page, "pipeline page, versions picked");
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("opens on the config version the address names, against the live one", async () => {
    const { page, context, errors } = await signedInPage();
    await page.setViewportSize(PHONE);
    await page.goto(`${server.url}/namespaces/default/pipelines/evolving?config=1`);
    await page.getByRole("region", { name: "Changes from v1 to v3" }).waitFor();
    assert.equal(await page.getByLabel("Compare version", { exact: true }).inputValue(), "1");
    assert.equal(await page.getByLabel("with version", { exact: true }).inputValue(), "3");
    assert.match((await page.locator("#graph-title").textContent()) ?? "", /version 1 \(v3 is live\)/);
    await assertNoOverflow(page, "a named version, phone");

    // The versions list names each version the same way, and back returns to the one before.
    await page.getByRole("link", { name: "v2", exact: true }).click();
    await page.getByRole("region", { name: "Changes from v2 to v3" }).waitFor();
    assert.match(page.url(), /\?config=2$/);
    await page.goBack();
    await page.getByRole("region", { name: "Changes from v1 to v3" }).waitFor();

    await page.goto(`${server.url}/namespaces/default/pipelines/evolving?config=9`);
    await page.getByRole("alert").filter({ hasText: "no config version 9" }).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("pages through a pipeline's runs to the oldest, and narrows them by status", async () => {
    const { page, context, errors } = await signedInPage();
    await page.goto(`${server.url}/namespaces/default/pipelines/many`);
    const runs = page.locator("section[aria-labelledby='runs-title'] tbody tr");
    await page.getByRole("link", { name: "#31", exact: true }).waitFor();
    assert.equal(await runs.count(), 25);
    assert.equal(await page.getByTestId("run-positions").textContent(), "runs 1–25, newest first");
    await page.getByRole("button", { name: "Older" }).click();
    await page.getByRole("link", { name: "#1", exact: true }).waitFor();
    assert.equal(await runs.count(), 6);
    assert.equal(await page.getByTestId("run-positions").textContent(), "runs 26–31, newest first");
    assert.equal(await page.getByRole("button", { name: "Older" }).isDisabled(), true);
    await page.getByRole("button", { name: "Newer" }).click();
    await page.getByRole("link", { name: "#31", exact: true }).waitFor();

    await page.getByLabel("Run status", { exact: true }).selectOption("failed");
    await page.getByRole("link", { name: "#31", exact: true }).waitFor({ state: "detached" });
    assert.deepEqual(await runs.locator("td:first-child").allTextContents(), ["#1"]);
    await page.getByLabel("Run status", { exact: true }).selectOption("cancelled");
    await page.getByText("No cancelled runs.").waitFor();
    await page.setViewportSize(PHONE);
    await assertNoOverflow(page, "runs, phone");
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("reads older events a page at a time, filters them by pipeline, and links what each names", async () => {
    // Enough events that the first page cannot hold them all; the runs' events are the oldest.
    for (let i = 0; i < 60; i++) {
      for (const state of ["disabled", "active"])
        await server.api("PATCH", "/api/namespaces/default/pipelines/idle", { state });
    }
    const { page, context, errors } = await signedInPage();
    const history = historyRequests(page);
    await page.goto(`${server.url}/events`);
    const rows = page.getByRole("log", { name: "Events" }).locator("li");
    await rows.nth(99).waitFor();
    await page.getByRole("button", { name: "Older events" }).waitFor();
    assert.equal(await rows.count(), 100);
    const oldestShown = (await rows.nth(99).getAttribute("data-event-id")) ?? "";
    history.length = 0;
    await page.getByRole("button", { name: "Older events" }).click();
    await page.getByText("That is every stored event.").waitFor();
    const all = await rows.count();
    assert.ok(all > 120, `${all} events after reading older ones`);
    const ids = (await rows.locator(".event-id").allTextContents()).map((id) => Number(id.slice(1)));
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => b - a),
      "newest first, with no gap or repeat",
    );
    assert.equal(new Set(ids).size, ids.length);
    // "Older" asked for the page below the oldest shown, and read only what it added.
    assert.deepEqual(
      history.map((request) => new URL(request.url).search),
      [`?history=true&reverse=true&limit=100&before=${oldestShown}`],
    );
    assert.equal(history[0]?.frames, all - 100);

    // A filter reached from the address reads as far back as it must.
    await page.goto(`${server.url}/events?namespace=default&pipeline=many&run=1`);
    const completed = rows.filter({ hasText: "completed_run" });
    await completed.waitFor();
    // The details read as before, links and all: `key=value` pairs a search for the text still finds.
    await rows.getByText(/pipeline_id=many\s+run_id=1\s+status=failed/).waitFor();
    for (const text of await rows.locator(".event-details").allTextContents())
      assert.match(text, /pipeline_id=many\s+run_id=1\b/);
    assert.equal(await page.getByLabel("Pipeline", { exact: true }).inputValue(), "default/many");
    const task = rows.filter({ hasText: "completed_task_execution" }).getByRole("link", { name: "work" });
    assert.equal(await task.getAttribute("href"), "/namespaces/default/pipelines/many/runs/1?task=work");
    assert.equal(
      await completed.getByRole("link", { name: "many" }).getAttribute("href"),
      "/namespaces/default/pipelines/many",
    );
    await screenshot(page, "events-filtered");
    await page.setViewportSize(PHONE);
    await assertNoOverflow(page, "events, phone");

    // Choosing another pipeline changes the address; a run link opens the run.
    await page.getByLabel("Pipeline", { exact: true }).selectOption("default/idle");
    await page.waitForURL(/\/events\?namespace=default&pipeline=idle$/);
    await page.getByRole("button", { name: "Clear filter" }).click();
    await page.waitForURL(/\/events$/);
    await page.goto(`${server.url}/events?namespace=default&pipeline=many`);
    await rows.filter({ hasText: "completed_run" }).getByRole("link", { name: "1", exact: true }).click();
    await page.waitForURL(/\/namespaces\/default\/pipelines\/many\/runs\/1$/);

    // Behind more newer events than one click reads, a filter's events are reached by reading on where it
    // stopped, each event read once.
    await server.service.db.transaction().execute(async (tx) => {
      for (let index = 0; index < 10_050; index += 1)
        await insertEvent(tx, "created_namespace", { namespace_id: `bulk-${index}` }, Date.now());
    });
    const stored = (await storedEvents(server)).length;
    await page.goto(`${server.url}/events?namespace=default&pipeline=many&run=1`);
    await page.getByRole("status").filter({ hasText: "Stopped after reading 10,000 older events" }).waitFor();
    assert.equal(await rows.count(), 0);
    history.length = 0;
    await page.getByRole("button", { name: "Older events" }).click();
    await page.getByText("That is every stored event.").waitFor();
    await rows.filter({ hasText: "completed_run" }).waitFor();
    assert.ok(
      history.every((request) => /&before=\d+$/.test(request.url)),
      JSON.stringify(history),
    );
    assert.equal(
      history.reduce((sum, request) => sum + request.frames, 0),
      stored - 10_000,
      "the second click read on from where the first stopped, every stored event received once",
    );
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("finds pipelines by name and description, and says when each last ran", async () => {
    const { page, context, errors } = await signedInPage();
    await page.goto(`${server.url}/namespaces/default`);
    const row = (id: string) => page.locator(`tr[data-pipeline-id="${id}"]`);
    await row("evolving").getByText("Evolving service", { exact: true }).waitFor();
    assert.match((await row("evolving").textContent()) ?? "", /ships it to production/);
    await row("many").locator("[data-testid=last-run] time").waitFor();
    assert.equal(await row("evolving").getByTestId("last-run").textContent(), "never");
    assert.match((await row("many").getByTestId("last-run").textContent()) ?? "", /min ago|just now/);

    const search = page.getByLabel("Search pipelines");
    await search.fill("PRODUCTION");
    await row("many").waitFor({ state: "detached" });
    assert.equal(await page.locator("tr[data-pipeline-id]").count(), 1);
    await search.fill("runs often");
    await row("many").waitFor();
    assert.equal(await page.locator("tr[data-pipeline-id]").count(), 1);
    await search.fill("nothing like this");
    await page.getByText("No pipeline matches").waitFor();
    await search.fill("");
    assert.equal(await page.locator("tr[data-pipeline-id]").count(), 3);
    await assertNoOverflow(page, "pipelines, desktop");
    await page.setViewportSize(PHONE);
    await assertNoOverflow(page, "pipelines, phone");
    await screenshot(page, "pipelines-phone");
    assert.deepEqual(errors, []);
    await context.close();
  });
});
