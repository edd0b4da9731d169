/**
 * Places a DAG in layers, left to right: each task one column after its deepest parent, and within a column
 * ordered by the average row of its parents (one barycentre sweep), which keeps most edges from crossing in
 * the small graphs pipelines are. Edges run from a parent's right side to a child's left side.
 */

export interface GraphNode {
  id: string;
  parents: string[];
}

export interface PlacedNode {
  id: string;
  x: number;
  y: number;
}

export interface Layout {
  nodes: Map<string, PlacedNode>;
  width: number;
  height: number;
}

export const NODE_WIDTH = 150;
export const NODE_HEIGHT = 40;
const COLUMN_GAP = 110;
const ROW_GAP = 22;
const MARGIN = 12;

export function layoutDag(nodes: GraphNode[]): Layout {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const depthOf = (id: string): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    // A cycle cannot be registered; should one arrive, it is drawn flat rather than recursing forever.
    if (visiting.has(id)) return 0;
    visiting.add(id);
    const parents = byId.get(id)?.parents.filter((parent) => byId.has(parent)) ?? [];
    const value = parents.length === 0 ? 0 : Math.max(...parents.map(depthOf)) + 1;
    visiting.delete(id);
    depth.set(id, value);
    return value;
  };
  const byDepth: string[][] = [];
  for (const node of [...nodes].sort((a, b) => a.id.localeCompare(b.id))) {
    const column = depthOf(node.id);
    const members = byDepth[column] ?? [];
    members.push(node.id);
    byDepth[column] = members;
  }
  // Only a cycle leaves a depth empty; dropping the gap keeps such a graph drawable.
  const columns = byDepth.filter((column) => column !== undefined);
  const row = new Map<string, number>();
  for (const [index, column] of columns.entries()) {
    if (index > 0) {
      const weight = (id: string) => {
        const parents = byId.get(id)?.parents.filter((parent) => row.has(parent)) ?? [];
        return parents.length === 0
          ? 0
          : parents.reduce((sum, parent) => sum + (row.get(parent) ?? 0), 0) / parents.length;
      };
      column.sort((a, b) => weight(a) - weight(b) || a.localeCompare(b));
    }
    for (const [position, id] of column.entries()) row.set(id, position);
  }
  const tallest = Math.max(1, ...columns.map((column) => column.length));
  const height = MARGIN * 2 + tallest * NODE_HEIGHT + (tallest - 1) * ROW_GAP;
  const placed = new Map<string, PlacedNode>();
  for (const [index, column] of columns.entries()) {
    // Each column is centred vertically, so a fan-in sits between the tasks it joins.
    const columnHeight = column.length * NODE_HEIGHT + (column.length - 1) * ROW_GAP;
    const top = (height - columnHeight) / 2;
    for (const [position, id] of column.entries()) {
      placed.set(id, {
        id,
        x: MARGIN + index * (NODE_WIDTH + COLUMN_GAP),
        y: top + position * (NODE_HEIGHT + ROW_GAP),
      });
    }
  }
  const width = MARGIN * 2 + columns.length * NODE_WIDTH + Math.max(0, columns.length - 1) * COLUMN_GAP;
  return { nodes: placed, width, height };
}
