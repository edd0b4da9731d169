/**
 * The Replicas view in a real browser against a real (SQLite) server: an admin finds it in the top bar and sees the
 * one server, leading and marked as the one that answered, refreshed while the page is open and not after; a
 * token without the admin role is not offered it and, opening it anyway, is told why, as is an anonymous visitor.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import type { TestServer } from "../../packages/gofer/test/support/test-server.ts";
import {
  computedStyle,
  openPage,
  PHONE,
  screenshot,
  signIn,
  useServerAndBrowser,
} from "./support/browser.ts";

/** Counts the page's requests for the listing from now on. */
function countListingRequests(page: Page): { readonly count: number } {
  const seen = { count: 0 };
  page.on("request", (request) => {
    if (new URL(request.url()).pathname === "/api/system/replicas") seen.count += 1;
  });
  return seen;
}

/** Whether anything on the page is wider than the viewport (the page would scroll sideways). */
function overflowsSideways(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const { document, innerWidth } = globalThis as unknown as {
      document: { documentElement: { scrollWidth: number } };
      innerWidth: number;
    };
    return document.documentElement.scrollWidth > innerWidth;
  });
}

describe("the web UI: replicas", () => {
  let server: TestServer;
  let browser: Browser;
  useServerAndBrowser([], (started, launched) => {
    server = started;
    browser = launched;
  });

  it("shows an admin the one SQLite server, leading and answering, refreshed while the page is open", async () => {
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${server.url}/namespaces/default`);
    await signIn(page, server.token);
    const requests = countListingRequests(page);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Replicas" }).click();
    await page.waitForURL(/\/replicas$/);
    await page.getByRole("heading", { name: "Replicas" }).waitFor();

    const rows = page.locator("table.replicas tbody tr");
    await rows.first().waitFor();
    assert.equal(await rows.count(), 1);
    const row = rows.first();
    assert.equal(await row.getAttribute("data-state"), "leader");
    assert.equal(await row.locator(".pill").textContent(), "leader");
    await row.getByText("this replica").waitFor();
    assert.equal(await computedStyle(row.locator(".pill"), "fontWeight"), "700", "the leader stands out");
    const facts = page.getByRole("list", { name: "Lease" });
    await facts.getByText("Storage: SQLite").waitFor();
    await facts.getByText(/one server, always leading/).waitFor();

    const listing = await server.api("GET", "/api/system/replicas");
    assert.equal(listing.status, 200, listing.text);
    const [replica] = listing.json.replicas;
    assert.equal(await row.getAttribute("data-replica-id"), replica.id);
    const cells = await row.locator("td").allTextContents();
    assert.match(cells[2] ?? "", new RegExp(`^${server.url.replace(/[.:/]/g, "\\$&")}`), "its url");
    assert.match(cells[3] ?? "", new RegExp(`pid ${replica.pid}\\b`), "its host and pid");
    assert.match(cells[4] ?? "", /ago|just now/, "its heartbeat");
    assert.match(cells[6] ?? "", /0 runs, 0 tasks, 0 extensions/, "what the leader owns");
    await screenshot(page, "replicas");

    // It asks again every few seconds while open, and stops once the person leaves.
    const before = requests.count;
    await page.waitForRequest((request) => new URL(request.url()).pathname === "/api/system/replicas", {
      timeout: 8_000,
    });
    assert.ok(requests.count > before, "the listing was fetched again");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Events" }).click();
    await page.getByRole("heading", { name: "Events" }).waitFor();
    const left = requests.count;
    await page.waitForTimeout(6_000);
    assert.equal(requests.count, left, "no more requests once the page is gone");

    // On a phone: the link is still there and the page does not scroll sideways.
    await page.setViewportSize(PHONE);
    await page.getByRole("button", { name: "Menu" }).click();
    await page.getByRole("navigation", { name: "More" }).getByRole("link", { name: "Replicas" }).click();
    await rows.first().waitFor();
    await row.getByText("this replica").waitFor();
    assert.equal(await overflowsSideways(page), false, "the page fits a phone");
    await screenshot(page, "replicas-phone");
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("does not offer the view to a token without the admin role, and tells it and an anonymous visitor why", async () => {
    const user = await server.api("POST", "/api/tokens", { user: "dev", roles: ["user"], expires: 0 });
    assert.equal(user.status, 201, user.text);
    const { page, context, errors } = await openPage(browser);
    await page.goto(`${server.url}/replicas`);
    await page
      .getByRole("alert")
      .filter({ hasText: /sign in/i })
      .waitFor();
    assert.equal(await page.locator("table.replicas").count(), 0);

    await signIn(page, user.json.secret);
    const nav = page.getByRole("navigation", { name: "Main" });
    await nav.getByRole("link", { name: "Events" }).waitFor();
    assert.equal(await nav.getByRole("link", { name: "Replicas" }).count(), 0, "no Replicas link");
    // Opened by its address anyway: the server's refusal, and what to do about it.
    await page
      .getByRole("alert")
      .filter({ hasText: /lacks this permission/ })
      .waitFor();
    assert.equal(await page.locator("table.replicas").count(), 0);
    await page.reload();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    await page
      .getByRole("alert")
      .filter({ hasText: /lacks this permission/ })
      .waitFor();
    assert.equal(await nav.getByRole("link", { name: "Replicas" }).count(), 0);
    // A refusal does not go away by asking again: the page stops asking.
    const requests = countListingRequests(page);
    await page.waitForTimeout(6_000);
    assert.equal(requests.count, 0, "no refresh after a refusal");
    await screenshot(page, "replicas-forbidden");
    assert.deepEqual(errors, []);
    await context.close();
  });
});
