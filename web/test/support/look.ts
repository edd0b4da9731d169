/**
 * Layout facts read from a page for the look tests: whether it scrolls sideways, what is cut off, how tall the
 * header is, where the graph's labels sit, and whether an element's text wrapped. Each runs in the page and is
 * self-contained; the page's objects are described by the little they use.
 */
import type { Locator, Page } from "playwright-core";

export interface Rect {
  left: number;
  top: number;
  right: number;
  bottom: number;
  width: number;
  height: number;
}
interface PageElement {
  tagName: string;
  className: unknown;
  scrollWidth: number;
  clientWidth: number;
  textContent: string | null;
  parentElement: PageElement | null;
  getBoundingClientRect(): Rect;
  getClientRects(): { length: number };
  closest(selector: string): PageElement | null;
}
interface PageWindow {
  innerWidth: number;
  getComputedStyle(element: PageElement): Record<string, string>;
  document: {
    documentElement: PageElement;
    querySelector(selector: string): PageElement | null;
    querySelectorAll(selector: string): Iterable<PageElement>;
    createRange(): { selectNodeContents(node: unknown): void; getClientRects(): Iterable<Rect> };
  };
}

/** The brief's rule for phones: the page is never wider than the window. */
export function horizontalOverflow(page: Page): Promise<{ scrollWidth: number; innerWidth: number }> {
  return page.evaluate(() => {
    const window = globalThis as unknown as PageWindow;
    return { scrollWidth: window.document.documentElement.scrollWidth, innerWidth: window.innerWidth };
  });
}

/**
 * Elements whose content is wider than their box and that hide the rest instead of scrolling: cut-off text,
 * tables or graphs. Text shortened with an ellipsis on purpose, and the visually hidden labels, are left out.
 */
export function cutElements(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const window = globalThis as unknown as PageWindow;
    const cut: string[] = [];
    for (const element of window.document.querySelectorAll("body *")) {
      if (element.scrollWidth <= element.clientWidth + 1 || element.getClientRects().length === 0) continue;
      const style = window.getComputedStyle(element);
      if (style.overflowX === "auto" || style.overflowX === "scroll" || style.overflowX === "visible")
        continue;
      if (style.textOverflow === "ellipsis" || element.closest(".visually-hidden")) continue;
      if (style.position === "absolute" && style.clip !== "auto") continue;
      const names = typeof element.className === "string" ? element.className : "";
      cut.push(`${element.tagName.toLowerCase()}.${names} (${element.scrollWidth} > ${element.clientWidth})`);
    }
    return cut;
  });
}

/**
 * Tables and graphs wider than the window that are not inside a box scrolling sideways: on a phone they would
 * widen the page or be cut.
 */
export function unscrolledWideContent(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const window = globalThis as unknown as PageWindow;
    const found: string[] = [];
    for (const element of window.document.querySelectorAll("main table, main svg")) {
      const { right } = element.getBoundingClientRect();
      if (right <= window.innerWidth) continue;
      let scrolls = false;
      for (let parent = element.parentElement; parent && !scrolls; parent = parent.parentElement) {
        const overflow = window.getComputedStyle(parent).overflowX;
        scrolls =
          (overflow === "auto" || overflow === "scroll") &&
          parent.getBoundingClientRect().right <= window.innerWidth;
      }
      if (!scrolls) found.push(`${element.tagName.toLowerCase()}.${String(element.className)}`);
    }
    return found;
  });
}

export async function headerHeight(page: Page): Promise<number> {
  const box = await page.locator("header.topbar").boundingBox();
  if (!box) throw new Error("the page has no header.topbar");
  return box.height;
}

/** The screen boxes of the graph's edge labels and nodes. */
export async function graphBoxes(page: Page): Promise<{
  labels: { text: string; box: Rect }[];
  nodes: { id: string; box: Rect }[];
}> {
  const graph = page.locator('svg[aria-label="Pipeline graph"]');
  const labels = await graph
    .locator("text.edge-label")
    .evaluateAll((elements) =>
      (elements as unknown as PageElement[])
        .filter((element) => (element.textContent ?? "").trim())
        .map((element) => ({ text: element.textContent ?? "", box: element.getBoundingClientRect() })),
    );
  const nodes = await graph.locator("g[data-task-id] rect").evaluateAll((elements) =>
    (elements as unknown as (PageElement & { parentElement: { getAttribute(name: string): string } })[]).map(
      (element) => ({
        id: element.parentElement.getAttribute("data-task-id"),
        box: element.getBoundingClientRect(),
      }),
    ),
  );
  return { labels, nodes };
}

export function intersect(a: Rect, b: Rect): boolean {
  return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
}

/** How many lines the element's text takes on screen. */
export function lineCount(locator: Locator): Promise<number> {
  return locator.evaluate((element) => {
    const window = (element as unknown as { ownerDocument: { defaultView: PageWindow } }).ownerDocument
      .defaultView;
    const range = window.document.createRange();
    range.selectNodeContents(element);
    return new Set(
      [...range.getClientRects()].filter((rect) => rect.width > 0).map((rect) => Math.round(rect.top)),
    ).size;
  });
}
