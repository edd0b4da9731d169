/**
 * The UI's look in a real browser against a real server and engine: screenshots of the main pages on a desktop,
 * in the dark and on a phone, each checked for the layout rules (the page never scrolls sideways, nothing is cut,
 * wide tables and the graph scroll in their box, the header is one row on a phone, every text reaches 4.5:1
 * contrast, the graph's edge labels never overlap); the header's menu and the confirmed pause; event kinds kept
 * whole; extension documentation rendered from Markdown; exact times on hover.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { pipelineConfig, shTask, startRun, waitForRun } from "../../packages/gofer/test/support/pipelines.ts";
import type { TestServer } from "../../packages/gofer/test/support/test-server.ts";
import {
  DESKTOP,
  openPage,
  PHONE,
  screenshot,
  signIn,
  useServerAndBrowser,
  type Viewport,
} from "./support/browser.ts";
import { sampleRatio, textSamples } from "./support/contrast.ts";
import {
  cutElements,
  graphBoxes,
  headerHeight,
  horizontalOverflow,
  intersect,
  lineCount,
  unscrolledWideContent,
} from "./support/look.ts";

/** One row of the header on a phone: a 44 px touch target and its padding, with room to spare, but not two. */
const PHONE_HEADER_MAX = 56;
const MIN_CONTRAST = 4.5;

/**
 * A run with everything the pages can show: edges of all three conditions meeting at one node, a retried task
 * (two bars on the timeline), a task stopped at its timeout (a reason) and a skipped one.
 */
const showcase = pipelineConfig("showcase-release", [
  shTask("checkout", "echo fetching"),
  shTask("build", "echo compiling", { depends_on: { checkout: "success" } }),
  {
    // Long enough for each attempt's bar to carry its label.
    ...shTask(
      "test",
      'echo "attempt $GOFER_TASK_ATTEMPT"; sleep 2; [ "$GOFER_TASK_ATTEMPT" -ge 2 ] || exit 3',
      {
        depends_on: { checkout: "success" },
      },
    ),
    retries: { limit: 1 },
  },
  { ...shTask("lint", "sleep 30", { depends_on: { checkout: "any" } }), timeout: "1s" },
  shTask("publish", "echo publishing", { depends_on: { build: "success", test: "any", lint: "failure" } }),
  shTask("notify", "echo tests failed", { depends_on: { test: "failure" } }),
]);

const VARIANTS: { name: string; viewport: Viewport; colorScheme: "light" | "dark" }[] = [
  { name: "desktop", viewport: DESKTOP, colorScheme: "light" },
  { name: "dark", viewport: DESKTOP, colorScheme: "dark" },
  { name: "phone", viewport: PHONE, colorScheme: "light" },
  { name: "phone-dark", viewport: PHONE, colorScheme: "dark" },
];

describe("the web UI's look: phones, dark mode, contrast and wording", { timeout: 300_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let runId = 0;
  useServerAndBrowser([showcase], (started, launched) => {
    server = started;
    browser = launched;
  });

  /** Signed in on a desktop-sized window (the sign-in form is in the bar there), then sized as asked. */
  async function signedInPage(viewport: Viewport = DESKTOP, colorScheme: "light" | "dark" = "light") {
    const opened = await openPage(browser, { colorScheme });
    await opened.page.goto(`${server.url}/extensions`);
    await signIn(opened.page, server.token);
    await opened.page.setViewportSize(viewport);
    return opened;
  }

  async function lowContrast(page: Page): Promise<string[]> {
    return (await textSamples(page))
      .filter((sample) => !sample.disabled)
      .map((sample) => ({ sample, ratio: sampleRatio(sample) }))
      .filter(({ ratio }) => ratio < MIN_CONTRAST)
      .map(
        ({ sample, ratio }) => `${sample.where} "${sample.text}": ${ratio.toFixed(2)}:1 (${sample.color})`,
      );
  }

  it("renders an extension's Markdown documentation, never its raw backticks, with exact times on hover", async () => {
    const installed = await server.api("POST", "/api/extensions", {
      id: "interval",
      image: "gofer/extension-interval:latest",
      settings: { min_interval: "1s" },
    });
    assert.equal(installed.status, 201, installed.text);
    const subscribed = await server.api(
      "POST",
      "/api/namespaces/default/pipelines/showcase-release/subscriptions",
      { extension_id: "interval", subscription_id: "nightly", settings: { every: "24h" } },
    );
    assert.equal(subscribed.status, 201, subscribed.text);

    const { page, context, errors } = await signedInPage();
    const started = page.locator("table time");
    await started.first().waitFor();
    assert.match((await started.first().getAttribute("title")) ?? "", /\d{1,2}:\d{2}/);
    assert.ok(await started.first().getAttribute("datetime"));

    await page.getByRole("link", { name: "interval", exact: true }).click();
    const docs = page.locator(".docs");
    await docs.waitFor();
    assert.deepEqual(await docs.locator("p > code").allTextContents(), [
      "every",
      "30s",
      "5m",
      "1h30m",
      "every=1h",
    ]);
    assert.match(
      (await docs.locator("pre > code").textContent()) ?? "",
      /^gofer pipeline subscription create my-pipeline interval/,
    );
    assert.doesNotMatch((await docs.textContent()) ?? "", /`/, "no raw backticks");
    const settings = page.locator("li", { has: page.locator("code", { hasText: /^every$/ }) });
    assert.ok((await settings.locator("code").count()) > 1, "a setting's description is rendered too");
    await screenshot(page, "look-extension");
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("takes the main pages' screenshots on a desktop, in the dark and on a phone, each keeping the layout rules", async () => {
    runId = await startRun(server, "showcase-release");
    await waitForRun(server, "showcase-release", runId, 90_000);
    const pages = [
      { name: "pipelines", path: "/namespaces/default", ready: "table.pipelines" },
      {
        name: "pipeline",
        path: "/namespaces/default/pipelines/showcase-release",
        ready: 'svg[aria-label="Pipeline graph"]',
      },
      {
        name: "run",
        path: `/namespaces/default/pipelines/showcase-release/runs/${runId}`,
        ready: '[data-testid="run-state"][data-status="failed"]',
      },
      { name: "events", path: "/events", ready: "ol.events li" },
    ];
    const problems: string[] = [];
    for (const variant of VARIANTS) {
      const { page, context, errors } = await signedInPage(variant.viewport, variant.colorScheme);
      for (const shown of pages) {
        await page.goto(`${server.url}${shown.path}`);
        await page.locator(shown.ready).first().waitFor({ timeout: 30_000 });
        await page
          .getByRole("button", { name: "Menu" })
          .or(page.getByRole("button", { name: "Sign out" }))
          .first()
          .waitFor();
        if (shown.name === "run")
          await page.locator(".timeline-bar .bar-label").first().waitFor({ state: "attached" });
        const at = `${shown.name} (${variant.name})`;
        await screenshot(page, `look-${shown.name}-${variant.name}`);

        const { scrollWidth, innerWidth } = await horizontalOverflow(page);
        if (scrollWidth > innerWidth)
          problems.push(`${at}: the page is ${scrollWidth} px wide in ${innerWidth} px`);
        for (const cut of await cutElements(page)) problems.push(`${at}: cut off: ${cut}`);
        for (const wide of await unscrolledWideContent(page))
          problems.push(`${at}: wider than the window: ${wide}`);
        for (const low of await lowContrast(page)) problems.push(`${at}: contrast ${low}`);
        if (variant.viewport === PHONE) {
          const height = await headerHeight(page);
          if (height > PHONE_HEADER_MAX) problems.push(`${at}: the header is ${height} px tall`);
        }
        if (shown.name === "pipeline" || shown.name === "run") {
          const { labels, nodes } = await graphBoxes(page);
          assert.equal(labels.length, 7, "every edge is labelled");
          for (const label of labels) {
            for (const other of labels)
              if (other !== label && intersect(label.box, other.box))
                problems.push(`${at}: edge labels "${label.text}" and "${other.text}" overlap`);
            for (const node of nodes)
              if (intersect(label.box, node.box))
                problems.push(`${at}: edge label "${label.text}" covers ${node.id}`);
          }
        }
      }
      assert.deepEqual(errors, [], variant.name);
      await context.close();
    }
    assert.deepEqual([...new Set(problems)], []);
  });

  it("keeps event kinds whole, on a desktop and on a phone", async () => {
    const { page, context, errors } = await signedInPage();
    await page.goto(`${server.url}/events`);
    const kinds = page.locator("ol.events .event-kind");
    await page
      .locator("ol.events .event-kind", { hasText: "pipeline_extension_subscription_registered" })
      .first()
      .waitFor();
    for (const viewport of [DESKTOP, PHONE]) {
      await page.setViewportSize(viewport);
      const count = await kinds.count();
      assert.ok(count > 1);
      for (let index = 0; index < count; index += 1) {
        const kind = kinds.nth(index);
        assert.equal(await lineCount(kind), 1, `${await kind.textContent()} at ${viewport.width} px`);
      }
    }
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("keeps a phone's header to one row, with the less-used links, theme and account in its menu", async () => {
    const { page, context, errors } = await openPage(browser, { viewport: PHONE });
    await page.goto(`${server.url}/namespaces/default`);
    await page.getByRole("heading", { name: "Pipelines" }).waitFor();
    await screenshot(page, "look-header-phone-signed-out");
    const signedOut = await headerHeight(page);
    assert.ok(signedOut <= PHONE_HEADER_MAX, `signed out, the header is ${signedOut} px tall`);
    const main = page.getByRole("navigation", { name: "Main" });
    assert.deepEqual(await main.getByRole("link").allTextContents(), ["Pipelines", "Events"]);

    // The sign-in hint says where the quickstart keeps its token.
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("form.signin .hint").getByText(".gofer-data/cli.toml").waitFor();
    await page.getByLabel("API token").fill(server.token);
    await page.locator("form.signin").getByRole("button", { name: "Sign in" }).click();
    await page.locator("form.signin").waitFor({ state: "detached" });
    const signedIn = await headerHeight(page);
    assert.ok(signedIn <= PHONE_HEADER_MAX, `signed in, the header is ${signedIn} px tall`);
    assert.equal(await page.getByRole("button", { name: "Pause runs…" }).count(), 0, "not in the bar");

    await page.getByRole("button", { name: "Menu" }).click();
    const menu = page.locator("#header-menu");
    await menu.getByRole("navigation", { name: "More" }).getByRole("link", { name: "Extensions" }).waitFor();
    await menu.getByRole("link", { name: "Replicas" }).waitFor();
    await menu.getByRole("button", { name: "Sign out" }).waitFor();
    await menu.getByRole("button", { name: /Switch theme/ }).click();
    assert.equal(
      await page.evaluate(
        () =>
          (globalThis as unknown as { document: { documentElement: { dataset: Record<string, string> } } })
            .document.documentElement.dataset.theme,
      ),
      "dark",
    );
    await screenshot(page, "look-menu-phone-dark");
    await page.keyboard.press("Escape");
    await menu.waitFor({ state: "detached" });
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("asks before pausing every new run, names the effect, and resumes from the banner", async () => {
    const { page, context, errors } = await signedInPage();
    await page.goto(`${server.url}/namespaces/default/pipelines/showcase-release`);
    // On a desktop the everyday buttons stay in the bar and the pause is only in the menu, under its heading.
    const bar = page.locator("header.topbar");
    await bar.getByRole("button", { name: "Sign out" }).waitFor();
    assert.equal(await page.getByRole("button", { name: /Pause runs/ }).count(), 0);
    await page.getByRole("button", { name: "Menu" }).click();
    const operator = page.getByRole("region", { name: "Operator" });
    await operator.getByRole("button", { name: "Pause runs…" }).waitFor();
    assert.equal(await page.getByRole("navigation", { name: "More" }).count(), 0, "the links are in the bar");
    await operator.getByRole("button", { name: "Pause runs…" }).click();

    const dialog = page.getByRole("dialog", { name: "Pause new runs on this server?" });
    await dialog.waitFor();
    assert.match(
      (await dialog.textContent()) ?? "",
      /No pipeline in any namespace will start a new run until an admin resumes.*extensions.*Runs already started go on/,
    );
    await screenshot(page, "look-pause-confirm");
    await dialog.getByRole("button", { name: "Keep accepting runs" }).click();
    await dialog.waitFor({ state: "detached" });
    assert.equal(
      (await server.api("GET", "/api/system")).json.ignore_pipeline_run_events,
      false,
      "nothing paused",
    );

    await page.getByRole("button", { name: "Menu" }).click();
    await operator.getByRole("button", { name: "Pause runs…" }).click();
    await dialog.getByRole("button", { name: "Pause new runs" }).click();
    const banner = page.getByRole("alert").filter({ hasText: "New runs are paused" });
    await banner.waitFor();
    assert.equal((await server.api("GET", "/api/system")).json.ignore_pipeline_run_events, true);
    assert.equal(
      await lowContrast(page)
        .then((low) => low.filter((text) => text.includes("banner")))
        .then((low) => low.length),
      0,
    );
    await banner.getByRole("button", { name: "Resume runs" }).click();
    await banner.waitFor({ state: "detached" });
    assert.equal((await server.api("GET", "/api/system")).json.ignore_pipeline_run_events, false);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("shows the replicas' heartbeat and start as relative times with the exact time on hover", async () => {
    const { page, context, errors } = await signedInPage();
    await page.goto(`${server.url}/replicas`);
    const times = page.locator("table.replicas tbody tr").first().locator("time");
    await times.first().waitFor();
    assert.equal(await times.count(), 2);
    for (const time of await times.all()) {
      assert.match((await time.getAttribute("title")) ?? "", /\d{1,2}:\d{2}/);
      assert.ok(Number.isFinite(Date.parse((await time.getAttribute("datetime")) ?? "")));
    }
    assert.deepEqual(errors, []);
    await context.close();
  });
});
