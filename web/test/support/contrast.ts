/**
 * Contrast ratios as WCAG 2 defines them, computed from a page's computed styles: the text colour and the
 * background under it, each found by painting the element's ancestors' backgrounds from the root down with their
 * opacity, so a dimmed bar or a translucent pill is judged by what is actually on screen.
 */
import type { Page } from "playwright-core";

export type Rgba = [number, number, number, number];

/** One ancestor (root first, the element last): its background and its opacity as a group. */
export interface Layer {
  background: string;
  opacity: number;
}

/** A piece of text on the page with what decides its contrast. */
export interface TextSample {
  text: string;
  /** The element, as `tag.class` for a failure message. */
  where: string;
  color: string;
  layers: Layer[];
  /** Disabled controls are exempt (WCAG 1.4.3: inactive user interface components). */
  disabled: boolean;
}

/** `rgb()`, `rgba()` and `color(srgb …)` (what `color-mix(in srgb, …)` computes to); components 0–255. */
export function parseColor(css: string): Rgba {
  const value = css.trim();
  if (value === "transparent" || value === "none") return [0, 0, 0, 0];
  const rgb = /^rgba?\(([^)]+)\)$/.exec(value);
  if (rgb?.[1]) {
    const parts = rgb[1]
      .split(/[\s,/]+/)
      .filter(Boolean)
      .map(Number);
    const [r = 0, g = 0, b = 0, a = 1] = parts;
    return [r, g, b, a];
  }
  const srgb = /^color\(srgb ([^)]+)\)$/.exec(value);
  if (srgb?.[1]) {
    const parts = srgb[1]
      .split(/[\s/]+/)
      .filter(Boolean)
      .map(Number);
    const [r = 0, g = 0, b = 0, a = 1] = parts;
    return [r * 255, g * 255, b * 255, a];
  }
  throw new Error(`cannot read the colour ${JSON.stringify(css)}: expected rgb(), rgba() or color(srgb …)`);
}

function over(top: Rgba, bottom: Rgba): Rgba {
  const alpha = top[3];
  return [0, 1, 2]
    .map((channel) => (top[channel] ?? 0) * alpha + (bottom[channel] ?? 0) * (1 - alpha))
    .concat(1) as Rgba;
}

function mix(backdrop: Rgba, content: Rgba, opacity: number): Rgba {
  return over([content[0], content[1], content[2], opacity], backdrop);
}

/** The opaque colour on screen under `layers`, with `text` drawn in the innermost one when given. */
export function paint(layers: Layer[], text?: Rgba, canvas: Rgba = [255, 255, 255, 1]): Rgba {
  const at = (index: number, backdrop: Rgba): Rgba => {
    const layer = layers[index];
    if (!layer) return text ? over(text, backdrop) : backdrop;
    const inner = over(parseColor(layer.background), backdrop);
    return mix(backdrop, at(index + 1, inner), layer.opacity);
  };
  return at(0, canvas);
}

function luminance([r, g, b]: Rgba): number {
  const linear = (channel: number) => {
    const c = channel / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

export function contrastRatio(a: Rgba, b: Rgba): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

export function sampleRatio(sample: TextSample): number {
  return contrastRatio(paint(sample.layers, parseColor(sample.color)), paint(sample.layers));
}

/**
 * Every visible piece of text on the page: each element with text of its own, and each SVG label, whose
 * background is its node's box or, for an edge label, its halo. Runs in the page, so it is self-contained.
 */
export function textSamples(page: Page): Promise<TextSample[]> {
  return page.evaluate(() => {
    type Style = Record<string, string>;
    type Element = {
      tagName: string;
      className: unknown;
      disabled?: boolean;
      classList: { contains(name: string): boolean };
      textContent: string | null;
      parentElement: Element | null;
      childNodes: Iterable<{ nodeType: number; textContent: string | null }>;
      getClientRects(): { length: number };
      closest(selector: string): Element | null;
      querySelector(selector: string): Element | null;
    };
    const window = globalThis as unknown as {
      getComputedStyle(element: Element): Style;
      document: { body: Element; querySelectorAll(selector: string): Iterable<Element> };
    };
    const style = (element: Element) => window.getComputedStyle(element);
    const layersOf = (element: Element) => {
      const layers: { background: string; opacity: number }[] = [];
      for (let node: Element | null = element; node; node = node.parentElement) {
        const computed = style(node);
        const svgPart = node.tagName !== node.tagName.toUpperCase();
        layers.unshift({
          background: svgPart ? "transparent" : (computed.backgroundColor ?? "transparent"),
          opacity: Number(computed.opacity ?? "1"),
        });
      }
      return layers;
    };
    const describe = (element: Element) => {
      const names = typeof element.className === "string" ? element.className : "";
      return `${element.tagName.toLowerCase()}${names ? `.${names.trim().split(/\s+/).join(".")}` : ""}`;
    };
    const samples = [];
    for (const element of window.document.querySelectorAll("body *")) {
      if (element.tagName === "SCRIPT" || element.tagName === "STYLE" || element.tagName === "title")
        continue;
      const own = [...element.childNodes]
        .filter((child) => child.nodeType === 3)
        .map((child) => child.textContent ?? "")
        .join("")
        .trim();
      if (!own || element.getClientRects().length === 0) continue;
      const computed = style(element);
      if (computed.visibility !== "visible" || element.closest(".visually-hidden")) continue;
      const layers = layersOf(element);
      const svgText = element.tagName === "text";
      let color = computed.color ?? "";
      if (svgText) {
        color = computed.fill ?? "";
        const box = element.parentElement?.querySelector("rect");
        const under = element.classList.contains("edge-label")
          ? (computed.stroke ?? "transparent")
          : box
            ? (style(box).fill ?? "transparent")
            : "transparent";
        layers.push({ background: under, opacity: 1 });
      }
      samples.push({
        text: own.slice(0, 60),
        where: describe(element),
        color,
        layers,
        disabled: element.disabled === true || element.closest("button:disabled") !== null,
      });
    }
    return samples;
  });
}
