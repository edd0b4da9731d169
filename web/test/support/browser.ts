/**
 * Debian's Chromium driven by playwright-core, against a real Gofer server that serves the built UI from
 * web/dist. Chromium runs headless without a sandbox (tests run as root), without GPU and without background
 * networking, which this machine's closed network would refuse noisily.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { after, before } from "node:test";
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from "playwright-core";
import { deployPipeline } from "../../../packages/gofer/test/support/pipelines.ts";
import { startTestServer, type TestServer } from "../../../packages/gofer/test/support/test-server.ts";

export const CHROMIUM = process.env.GOFER_TEST_CHROMIUM ?? "/usr/bin/chromium";
/** Where screenshots go, for a person to look at after a run. */
export const SCREENSHOTS = resolve(import.meta.dirname, "../../test-results/screenshots");
const BUILT_UI = resolve(import.meta.dirname, "../../dist/index.html");

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing; run scripts/install.sh (it installs Debian's chromium)`);
  }
  if (!existsSync(BUILT_UI)) throw new Error("web/dist is missing; run npm run build:web first");
  await mkdir(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export interface Viewport {
  width: number;
  height: number;
}

export const DESKTOP: Viewport = { width: 1280, height: 800 };
export const PHONE: Viewport = { width: 390, height: 844 };

/** A fresh browser profile (no stored token) whose page errors fail the test that reads `errors`. */
export async function openPage(
  browser: Browser,
  options: { viewport?: Viewport; colorScheme?: "light" | "dark" } = {},
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({
    viewport: options.viewport ?? DESKTOP,
    colorScheme: options.colorScheme ?? "light",
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  return { context, page, errors };
}

/** Signs in the way a person does: "Sign in", paste the token, submit. */
export async function signIn(page: Page, token: string): Promise<void> {
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByLabel("API token").fill(token);
  await page.locator("form.signin").getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Runs `read` in the page on the element's window. Functions, not strings: the UI's Content-Security-Policy
 * forbids evaluating strings, and the tests keep that policy on. The tests are typed for Node, so the page's
 * objects are described by the little they use.
 */
interface PageWindow {
  getComputedStyle(element: unknown): Record<string, string>;
  sessionStorage: { getItem(key: string): string | null };
  location: { search: string; hash: string };
}

export function computedStyle(locator: Locator, property: string): Promise<string | undefined> {
  return locator.evaluate(
    (element, name) =>
      (
        element as unknown as { ownerDocument: { defaultView: PageWindow } }
      ).ownerDocument.defaultView.getComputedStyle(element)[name],
    property,
  );
}

/** The token the UI keeps in the tab's session storage, if any. */
export function storedToken(page: Page): Promise<string | null> {
  return page.evaluate(() => (globalThis as unknown as PageWindow).sessionStorage.getItem("gofer.token"));
}

/** Everything after the path of the page's address: where a leaked token would show. */
export function urlQueryAndHash(page: Page): Promise<string> {
  return page.evaluate(() => {
    const { location } = globalThis as unknown as PageWindow;
    return location.search + location.hash;
  });
}

export function bodyBackground(page: Page): Promise<string | undefined> {
  return page.evaluate(() => {
    const window = globalThis as unknown as PageWindow & { document: { body: unknown } };
    return window.getComputedStyle(window.document.body).backgroundColor;
  });
}

/**
 * One real server (with `pipelines` deployed) and one browser for a test file: started before its tests, both
 * closed after them. `assign` receives them for the file's own variables.
 */
export function useServerAndBrowser(
  pipelines: { id: string }[],
  assign: (server: TestServer, browser: Browser) => void,
): void {
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  before(async () => {
    server = await startTestServer();
    browser = await launchBrowser();
    for (const pipeline of pipelines) await deployPipeline(server, pipeline);
    assign(server, browser);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });
}
