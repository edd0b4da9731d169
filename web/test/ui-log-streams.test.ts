/**
 * A task log's streams and times in a real browser against a real server and engine: stderr lines marked in the
 * gutter and coloured (explained by a legend), readable in both themes; the Timestamps toggle showing each line's
 * local time with the exact time on hover, remembered for the tab; search and the plain download unchanged.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { pipelineConfig, shTask, startRun, waitForRun } from "../../packages/gofer/test/support/pipelines.ts";
import type { TestServer } from "../../packages/gofer/test/support/test-server.ts";
import { computedStyle, openPage, screenshot, signIn, useServerAndBrowser } from "./support/browser.ts";
import { sampleRatio, textSamples } from "./support/contrast.ts";

const INTERLEAVED =
  'echo "out 1"; sleep 0.3; echo "err 1" >&2; sleep 0.3; echo "out 2"; sleep 0.3; echo "err 2" >&2';
const MIN_CONTRAST = 4.5;
const CLOCK = /^\d\d:\d\d:\d\d\.\d{3}$/;

describe("the web UI: a task log's streams and times", { timeout: 180_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  useServerAndBrowser([pipelineConfig("mixed", [shTask("both", INTERLEAVED)])], (started, launched) => {
    server = started;
    browser = launched;
  });

  async function openLog(colorScheme: "light" | "dark", runId: number) {
    const opened = await openPage(browser, { colorScheme });
    await opened.page.goto(server.url);
    await signIn(opened.page, server.token);
    await opened.page.goto(`${server.url}/namespaces/default/pipelines/mixed/runs/${runId}?task=both`);
    const log = opened.page.getByRole("log", { name: "Task log" });
    await log.locator(".log-line", { hasText: "err 2" }).waitFor();
    return { ...opened, log };
  }

  /** The contrast of the log's own text: its lines, their times, the legend and the toggle, all on screen. */
  const lowContrast = async (page: Page) => {
    const samples = (await textSamples(page)).filter(
      ({ text }) =>
        /^(out|err) \d$/.test(text) || CLOCK.test(text) || text === "stderr" || text === "Timestamps",
    );
    assert.ok(
      samples.some(({ where }) => where.includes("log-stderr")),
      "stderr lines are sampled",
    );
    return samples
      .map((sample) => ({ sample, ratio: sampleRatio(sample) }))
      .filter(({ ratio }) => ratio < MIN_CONTRAST)
      .map(({ sample, ratio }) => `${sample.where} "${sample.text}": ${ratio.toFixed(2)}:1`);
  };

  it("marks stderr lines, toggles timestamps for the tab, and keeps search and the plain download", async () => {
    const runId = await startRun(server, "mixed");
    const { tasks } = await waitForRun(server, "mixed", runId, 60_000);
    assert.equal(tasks.both.status, "successful");
    const { page, context, errors, log } = await openLog("light", runId);

    const rows = log.locator(".log-line");
    assert.deepEqual(await rows.allTextContents(), ["out 1", "err 1", "out 2", "err 2"]);
    assert.deepEqual(
      await rows.evaluateAll((elements) => elements.map((element) => element.getAttribute("data-stream"))),
      ["stdout", "stderr", "stdout", "stderr"],
    );
    const stderrRows = log.locator(".log-line.log-stderr");
    assert.deepEqual(await stderrRows.allTextContents(), ["err 1", "err 2"]);
    // The gutter mark is drawn, and the colour differs from a stdout line's.
    assert.equal(await computedStyle(stderrRows.first(), "position"), "absolute");
    const markWidth = await stderrRows.first().evaluate(
      (element) =>
        (
          element as unknown as {
            ownerDocument: { defaultView: { getComputedStyle(e: unknown, p: string): { width: string } } };
          }
        ).ownerDocument.defaultView.getComputedStyle(element, "::after").width,
    );
    assert.equal(markWidth, "3px");
    assert.notEqual(
      await computedStyle(stderrRows.first(), "color"),
      await computedStyle(rows.first(), "color"),
    );
    const legend = page.locator(".log-legend");
    assert.equal((await legend.textContent())?.trim(), "stderr");
    assert.match((await legend.getAttribute("title")) ?? "", /stderr/);
    assert.deepEqual(await lowContrast(page), []);

    // Timestamps: off at first, then each line's local time, the exact time on hover.
    const toggle = page.getByLabel("Timestamps");
    assert.equal(await toggle.isChecked(), false);
    assert.equal(await log.locator(".log-time").count(), 0);
    await toggle.check();
    const times = log.locator(".log-time time");
    await times.nth(3).waitFor();
    const shown = await times.allTextContents();
    assert.ok(
      shown.every((text) => CLOCK.test(text)),
      shown.join(", "),
    );
    assert.deepEqual([...shown].sort(), shown, "times in order");
    assert.ok(((await times.first().getAttribute("title")) ?? "").length > 0, "the exact time on hover");
    const stamped = Date.parse((await times.first().getAttribute("datetime")) ?? "");
    assert.ok(
      Math.abs(stamped - tasks.both.started) < 10_000,
      "the time is the line's, near the task's start",
    );
    assert.deepEqual(await lowContrast(page), []);
    await screenshot(page, "log-streams-light");

    // Search finds lines by their text alone, times or not.
    await page.getByLabel("Search log").fill("err");
    assert.equal(await page.locator(".match-count").textContent(), "1 of 2");
    // The download is the plain text, without marks or times.
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download log" }).click(),
    ]);
    assert.equal(await readFile((await download.path()) as string, "utf8"), "out 1\nerr 1\nout 2\nerr 2\n");

    // Remembered for the tab: a reload keeps the times on.
    await page.reload();
    await log.locator(".log-line", { hasText: "err 2" }).waitFor();
    assert.equal(await page.getByLabel("Timestamps").isChecked(), true);
    await log.locator(".log-time time").nth(3).waitFor();
    await page.getByLabel("Timestamps").uncheck();
    assert.equal(await log.locator(".log-time").count(), 0);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("keeps stderr lines, the legend and the times readable in dark mode", async () => {
    const runId = await startRun(server, "mixed");
    await waitForRun(server, "mixed", runId, 60_000);
    const { page, context, errors, log } = await openLog("dark", runId);
    await page.getByLabel("Timestamps").check();
    await log.locator(".log-time time").nth(3).waitFor();
    assert.equal(await log.locator(".log-stderr").count(), 2);
    assert.deepEqual(await lowContrast(page), []);
    await screenshot(page, "log-streams-dark");
    assert.deepEqual(errors, []);
    await context.close();
  });
});
