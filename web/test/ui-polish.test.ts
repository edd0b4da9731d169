/**
 * The rough edges a newcomer found, in a real browser against a real server and engine: a short log's box sized
 * to its lines and counted in the singular, the Timestamps box beside its label, a linked line past the end of a
 * log said rather than ignored, the log's heading and buttons each on one line on a phone, the `examples/dag`
 * graph's edge labels clear of each other and of the nodes, and a section's heading level with the picker beside
 * it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Browser, Locator, Page } from "playwright-core";
import dag from "../../examples/dag/pipeline.ts";
import { pipelineConfig, shTask, startRun, waitForRun } from "../../packages/gofer/test/support/pipelines.ts";
import type { TestServer } from "../../packages/gofer/test/support/test-server.ts";
import { DESKTOP, openPage, PHONE, screenshot, signIn, useServerAndBrowser } from "./support/browser.ts";
import { graphBoxes, horizontalOverflow, intersect, lineCount, type Rect } from "./support/look.ts";

const ROW_HEIGHT = 18;
/**
 * Half the edge labels' halo (styles.css: a 4 px stroke in the background colour): what a label paints reaches
 * this far past its glyphs' box, and two halos that meet hide each other's letters.
 */
const HALO = 2;
/** The log box's height while lines may still come, and its most once they have all come. */
const LOG_HEIGHT = 420;

describe("the web UI: a newcomer's last rough edges", { timeout: 240_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  useServerAndBrowser(
    [
      dag.finish(),
      pipelineConfig("brief", [
        shTask("one", "echo only-line"),
        shTask("two", "echo first; echo second"),
        shTask("sixty", "seq 1 60"),
      ]),
      // Stops at once when cancelled, so the test does not wait out the stop timeout.
      pipelineConfig("waiting", [shTask("hold", "trap 'exit 0' TERM; echo holding; sleep 120 & wait")]),
    ],
    (started, launched) => {
      server = started;
      browser = launched;
    },
  );

  async function signedInPage(viewport = DESKTOP) {
    const opened = await openPage(browser);
    await opened.page.goto(server.url);
    await signIn(opened.page, server.token);
    await opened.page.setViewportSize(viewport);
    return opened;
  }

  const log = (page: Page) => page.getByRole("log", { name: "Task log" });
  const runPath = (pipeline: string, runId: number) =>
    `/namespaces/default/pipelines/${pipeline}/runs/${runId}`;

  /** The element's box on screen; fails the test when it is not drawn. */
  async function box(locator: Locator) {
    const found = await locator.boundingBox();
    assert.ok(found, "the element is drawn");
    return found;
  }

  it("sizes a short log's box to its lines, says '1 line', and keeps the Timestamps box beside its label", async () => {
    const runId = await startRun(server, "brief");
    const { tasks } = await waitForRun(server, "brief", runId, 60_000);
    assert.equal(tasks.one.status, "successful");
    const { page, context, errors } = await signedInPage();

    await page.goto(`${server.url}${runPath("brief", runId)}?task=one`);
    await log(page).locator(".log-line", { hasText: "only-line" }).waitFor();
    assert.equal(await page.locator(".line-count").textContent(), "1 line");
    const one = await box(log(page));
    assert.ok(one.height >= ROW_HEIGHT && one.height <= 2 * ROW_HEIGHT + 4, `one line: ${one.height} px`);

    // The checkbox sits beside its word, as a checkbox does: its box (the mark is drawn in its middle) is a
    // checkbox's size and ends just before the word.
    const toggle = page.locator(".log-timestamps-toggle");
    const { width, gap } = await toggle.evaluate((label) => {
      const element = label as unknown as {
        querySelector(selector: string): { getBoundingClientRect(): { right: number; width: number } };
        lastChild: unknown;
        ownerDocument: {
          createRange(): {
            selectNodeContents(node: unknown): void;
            getBoundingClientRect(): { left: number };
          };
        };
      };
      const range = element.ownerDocument.createRange();
      range.selectNodeContents(element.lastChild);
      const checkbox = element.querySelector("input").getBoundingClientRect();
      return { width: checkbox.width, gap: range.getBoundingClientRect().left - checkbox.right };
    });
    assert.ok(width <= 24, `the checkbox is ${width} px wide`);
    assert.ok(gap >= 0 && gap <= 10, `the checkbox ends ${gap} px before "Timestamps"`);
    await screenshot(page, "polish-one-line");

    await page.goto(`${server.url}${runPath("brief", runId)}?task=two`);
    await log(page).locator(".log-line", { hasText: "second" }).waitFor();
    assert.equal(await page.locator(".line-count").textContent(), "2 lines");
    const two = await box(log(page));
    assert.ok(
      two.height >= 2 * ROW_HEIGHT && two.height <= 3 * ROW_HEIGHT + 4,
      `two lines: ${two.height} px`,
    );

    // A long log keeps the box at its usual height and scrolls inside it.
    await page.goto(`${server.url}${runPath("brief", runId)}?task=sixty`);
    await log(page).locator(".log-line", { hasText: /^1$/ }).waitFor();
    assert.equal(await page.locator(".line-count").textContent(), "60 lines");
    assert.equal(Math.round((await box(log(page))).height), LOG_HEIGHT);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("says a linked line is past the end of the log and shows its last lines", async () => {
    const runId = await startRun(server, "brief");
    await waitForRun(server, "brief", runId, 60_000);
    const { page, context, errors } = await signedInPage();
    await page.goto(`${server.url}${runPath("brief", runId)}?task=sixty#L9999`);
    const note = page.getByTestId("log-past-end");
    await note.waitFor();
    assert.equal(
      await note.textContent(),
      "Line 9,999 is past the end: this log has only 60 lines; showing the last.",
    );
    const last = log(page).locator('.log-line[data-line="60"]');
    await last.waitFor();
    const shown = await box(last);
    const around = await box(log(page));
    assert.ok(
      shown.y >= around.y && shown.y + shown.height <= around.y + around.height,
      "the last line is in the log's view",
    );
    assert.equal(await log(page).locator('.log-line[data-line="1"]').count(), 0, "not the first lines");
    await screenshot(page, "polish-past-end");

    // Choosing a line that is there ends the note.
    await last.click();
    await note.waitFor({ state: "detached" });
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("keeps the log's heading and its buttons on one line each on a phone", async () => {
    const runId = await startRun(server, "waiting");
    const { page, context, errors } = await signedInPage(PHONE);
    try {
      await page.goto(`${server.url}${runPath("waiting", runId)}`);
      const cancel = page.getByRole("button", { name: "Cancel task" });
      await cancel.waitFor({ timeout: 30_000 });
      await log(page).locator(".log-line", { hasText: "holding" }).waitFor({ timeout: 30_000 });
      const heading = page.locator("#log-title");
      assert.equal(await heading.textContent(), "Log of hold attempt 1");
      assert.equal(await lineCount(heading), 1, "the heading is one line");
      assert.equal(await lineCount(cancel), 1, "Cancel task is one line");
      assert.equal(await lineCount(page.getByRole("button", { name: "Attach" })), 1, "Attach is one line");
      const { scrollWidth, innerWidth } = await horizontalOverflow(page);
      assert.ok(scrollWidth <= innerWidth, `the page is ${scrollWidth} px wide in ${innerWidth} px`);
      await screenshot(page, "polish-log-head-phone");
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      await server.api("DELETE", `/api/namespaces/default/pipelines/waiting/runs/${runId}`);
      await waitForRun(server, "waiting", runId, 60_000);
    }
  });

  it("keeps the dag example's edge labels apart and off its nodes, on a desktop and on a phone", async () => {
    const { page, context, errors } = await signedInPage();
    const problems: string[] = [];
    for (const viewport of [DESKTOP, PHONE]) {
      await page.setViewportSize(viewport);
      await page.goto(`${server.url}/namespaces/default/pipelines/dag`);
      await page.locator('svg[aria-label="Pipeline graph"] text.edge-label').first().waitFor();
      const found = await graphBoxes(page);
      const labels = found.labels.map(({ text, box }) => ({ text, box: grown(box, HALO) }));
      const { nodes } = found;
      assert.equal(labels.length, 7, "every edge is labelled");
      for (const [index, label] of labels.entries()) {
        for (const other of labels.slice(index + 1))
          if (intersect(label.box, other.box))
            problems.push(
              `${viewport.width} px: "${label.text}" ${show(label.box)} and "${other.text}" ${show(other.box)} overlap`,
            );
        for (const node of nodes)
          if (intersect(label.box, node.box))
            problems.push(`${viewport.width} px: "${label.text}" covers ${node.id}`);
      }
      await screenshot(page, `polish-dag-${viewport.width}`);
    }
    assert.deepEqual(problems, []);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("puts a section's heading level with the picker beside it", async () => {
    const { page, context, errors } = await signedInPage();
    await page.goto(`${server.url}/namespaces/default/pipelines/dag`);
    const heading = page.getByRole("heading", { name: "Runs", exact: true });
    const picker = page.getByLabel("Run status");
    await picker.waitFor();
    const middle = (found: { y: number; height: number }) => found.y + found.height / 2;
    const offset = middle(await box(heading)) - middle(await box(picker));
    assert.ok(Math.abs(offset) <= 2, `"Runs" sits ${offset} px below the Status picker`);
    assert.deepEqual(errors, []);
    await context.close();
  });
});

function grown(rect: Rect, by: number): Rect {
  return {
    left: rect.left - by,
    top: rect.top - by,
    right: rect.right + by,
    bottom: rect.bottom + by,
    width: rect.width + 2 * by,
    height: rect.height + 2 * by,
  };
}

const show = (rect: Rect) =>
  `(${rect.left.toFixed(1)},${rect.top.toFixed(1)} ${rect.width.toFixed(1)}×${rect.height.toFixed(1)})`;
