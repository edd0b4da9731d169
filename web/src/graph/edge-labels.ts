/**
 * Where a DAG's edges run and where their condition labels ("success", "failure", "any") go. Labels are placed
 * one edge at a time at the first point along the edge, from its middle outwards, where the label's box touches
 * no node and no label already placed; edges that meet at one node converge near it, so a label there would sit
 * on its neighbours'. The text is measured by an estimate, generous enough for the UI's 11 px font.
 *
 * A label paints more than its letters: a halo in the background colour (styles.css, a 4 px stroke) reaches 2 px
 * past them. Two labels whose letters merely do not touch still blot out each other's edges, so each label keeps
 * CLEARANCE from every node and every other label.
 */
import { type Layout, NODE_HEIGHT, NODE_WIDTH } from "./layout.ts";

export type Point = [number, number];

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface EdgeInput {
  parent: string;
  child: string;
  /** The label's text; empty for none. */
  label: string;
}

export type DrawnEdge<E extends EdgeInput = EdgeInput> = E & {
  key: string;
  /** The SVG path: a cubic curve from the parent's right side to the child's left side. */
  path: string;
  /** The label's anchor (text-anchor middle, baseline) and the box it covers; absent when it has no text. */
  labelAt?: { x: number; y: number; box: Box };
};

const CHAR_WIDTH = 6.6;
const LABEL_HEIGHT = 13;
const PADDING = 2;
/** The halo's reach on either side of two neighbouring labels, and a pixel of air between them. */
const CLEARANCE = 5;
/** Fractions of the way along an edge, best first: the middle, then outwards towards either end. */
const ALONG = [
  0.5,
  ...Array.from({ length: 9 }, (_, step) => [0.55 + step * 0.05, 0.45 - step * 0.05]).flat(),
];
/**
 * Label centres relative to the curve: on it anywhere first (the halo keeps it readable, and a label on its edge
 * plainly belongs to it), then just above it, then just below.
 */
const ACROSS = [0, -(LABEL_HEIGHT + 1), LABEL_HEIGHT + 1];

export function labelBox(text: string, centre: Point): Box {
  const width = text.length * CHAR_WIDTH + 2 * PADDING;
  const height = LABEL_HEIGHT;
  return { x: centre[0] - width / 2, y: centre[1] - height / 2, width, height };
}

export function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

function grown(box: Box, by: number): Box {
  return { x: box.x - by, y: box.y - by, width: box.width + 2 * by, height: box.height + 2 * by };
}

function overlapArea(a: Box, b: Box): number {
  const width = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const height = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return width > 0 && height > 0 ? width * height : 0;
}

export function bezierPoint(t: number, [p0, p1, p2, p3]: [Point, Point, Point, Point]): Point {
  const u = 1 - t;
  const weights = [u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t] as const;
  const points = [p0, p1, p2, p3];
  return [0, 1].map((axis) =>
    points.reduce((sum, point, index) => sum + (weights[index] ?? 0) * (point[axis] ?? 0), 0),
  ) as Point;
}

export function drawEdges<E extends EdgeInput>(layout: Layout, edges: E[]): DrawnEdge<E>[] {
  const nodeBoxes = [...layout.nodes.values()].map((node) => ({
    x: node.x,
    y: node.y,
    width: NODE_WIDTH,
    height: NODE_HEIGHT,
  }));
  const placed: Box[] = [];
  const drawn: DrawnEdge<E>[] = [];
  // A stable order (by where edges start, then end) makes the same graph look the same on every render.
  const ordered = edges
    .flatMap((edge) => {
      const from = layout.nodes.get(edge.parent);
      const to = layout.nodes.get(edge.child);
      return from && to ? [{ edge, from, to }] : [];
    })
    .sort((a, b) => a.from.x - b.from.x || a.from.y - b.from.y || a.to.y - b.to.y);
  for (const { edge, from, to } of ordered) {
    const start: Point = [from.x + NODE_WIDTH, from.y + NODE_HEIGHT / 2];
    const end: Point = [to.x, to.y + NODE_HEIGHT / 2];
    const middle = (start[0] + end[0]) / 2;
    const curve: [Point, Point, Point, Point] = [start, [middle, start[1]], [middle, end[1]], end];
    const key = `${edge.parent}->${edge.child}`;
    const path = `M${start[0]},${start[1]} C${middle},${start[1]} ${middle},${end[1]} ${end[0]},${end[1]}`;
    if (!edge.label) {
      drawn.push({ ...edge, key, path });
      continue;
    }
    let best: { box: Box; clash: number } | undefined;
    search: for (const dy of ACROSS) {
      for (const t of ALONG) {
        const [x, y] = bezierPoint(t, curve);
        const box = labelBox(edge.label, [x, y + dy]);
        const room = grown(box, CLEARANCE);
        const clash = [...nodeBoxes, ...placed].reduce((sum, other) => sum + overlapArea(room, other), 0);
        if (!best || clash < best.clash) best = { box, clash };
        if (clash === 0) break search;
      }
    }
    if (!best) continue;
    placed.push(best.box);
    drawn.push({
      ...edge,
      key,
      path,
      labelAt: {
        x: best.box.x + best.box.width / 2,
        // The text's baseline, so its glyphs sit in the middle of the box.
        y: best.box.y + best.box.height - 3,
        box: best.box,
      },
    });
  }
  return drawn;
}
