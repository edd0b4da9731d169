/**
 * Graph questions about a pipeline's tasks. Edges run from a task to the parents it depends on.
 */

/** The part of a task the graph functions read, so callers can pass configs, inputs or stored tasks alike. */
export interface DependencyNode {
  id: string;
  depends_on: Readonly<Record<string, unknown>>;
}

/**
 * Every dependency cycle among `tasks`, one per group of tasks that reach each other, as a closed path of ids
 * in which each task depends on the next: `["a", "b", "c", "a"]`. The path is a shortest cycle through the
 * group's first task in input order; groups are ordered by their first task. A task depending on itself is
 * reported too (`["a", "a"]`). Parents that are not among `tasks` are ignored, as are later tasks that repeat
 * an earlier task's id.
 */
export function findDependencyCycles(tasks: readonly DependencyNode[]): string[][] {
  const graph = buildGraph(tasks);
  const cycles: Array<{ start: number; path: number[] }> = [];
  for (const component of stronglyConnectedComponents(graph.parents)) {
    const start = Math.min(...component);
    const members = new Set(component);
    if (members.size > 1 || graph.parents[start]?.includes(start)) {
      cycles.push({ start, path: shortestCycle(graph.parents, start, members) });
    }
  }
  return cycles
    .sort((a, b) => a.start - b.start)
    .map(({ path }) => path.map((index) => graph.ids[index] ?? ""));
}

/**
 * The ids of `tasks` in an order where every task comes after all of its parents; among tasks that could go
 * next, the one listed first in `tasks` does. The same input always gives the same order.
 *
 * Expects tasks that `validatePipelineConfig` accepted: throws if ids repeat, a parent is missing or the
 * dependencies form a cycle.
 */
export function topologicalOrder(tasks: readonly DependencyNode[]): string[] {
  const graph = buildGraph(tasks);
  if (graph.ids.length !== tasks.length) {
    throw new Error("topologicalOrder: task ids must be unique");
  }
  const children: number[][] = graph.ids.map(() => []);
  const waitingOn = graph.parents.map((parents) => parents.length);
  graph.parents.forEach((parents, child) => {
    for (const parent of parents) children[parent]?.push(child);
  });
  tasks.forEach((task, index) => {
    if ((waitingOn[index] ?? 0) !== Object.keys(task.depends_on).length) {
      throw new Error(`topologicalOrder: task \`${task.id}\` depends on a task that is not in the list`);
    }
  });

  const ready = waitingOn.flatMap((count, index) => (count === 0 ? [index] : []));
  const order: string[] = [];
  while (ready.length > 0) {
    const next = ready.shift() ?? 0;
    order.push(graph.ids[next] ?? "");
    for (const child of children[next] ?? []) {
      const remaining = (waitingOn[child] ?? 0) - 1;
      waitingOn[child] = remaining;
      if (remaining === 0) insertSorted(ready, child);
    }
  }
  if (order.length !== tasks.length) {
    throw new Error("topologicalOrder: the dependencies form a cycle");
  }
  return order;
}

interface Graph {
  /** Task ids by index: the first occurrence of each id, in input order. */
  ids: string[];
  /** For each task index, the indexes of its parents, in `depends_on` order. */
  parents: number[][];
}

function buildGraph(tasks: readonly DependencyNode[]): Graph {
  const unique: DependencyNode[] = [];
  const indexOf = new Map<string, number>();
  for (const task of tasks) {
    if (!indexOf.has(task.id)) {
      indexOf.set(task.id, unique.length);
      unique.push(task);
    }
  }
  const parents = unique.map((task) =>
    Object.keys(task.depends_on).flatMap((parent) => {
      const index = indexOf.get(parent);
      return index === undefined ? [] : [index];
    }),
  );
  return { ids: unique.map((task) => task.id), parents };
}

// Tarjan's algorithm with an explicit stack: a 1000-task chain must not overflow the call stack.
function stronglyConnectedComponents(edges: readonly number[][]): number[][] {
  const visitOrder = new Array<number>(edges.length).fill(-1);
  const lowLink = new Array<number>(edges.length).fill(0);
  const onStack = new Array<boolean>(edges.length).fill(false);
  const stack: number[] = [];
  const components: number[][] = [];
  let visited = 0;

  const visit = (node: number, frames: Array<{ node: number; next: number }>): void => {
    visitOrder[node] = visited;
    lowLink[node] = visited;
    visited += 1;
    stack.push(node);
    onStack[node] = true;
    frames.push({ node, next: 0 });
  };

  for (let root = 0; root < edges.length; root++) {
    if (visitOrder[root] !== -1) continue;
    const frames: Array<{ node: number; next: number }> = [];
    visit(root, frames);
    for (let frame = frames.at(-1); frame !== undefined; frame = frames.at(-1)) {
      const { node } = frame;
      const target = edges[node]?.[frame.next];
      if (target !== undefined) {
        frame.next += 1;
        if (visitOrder[target] === -1) {
          visit(target, frames);
        } else if (onStack[target]) {
          lowLink[node] = Math.min(lowLink[node] ?? 0, visitOrder[target] ?? 0);
        }
        continue;
      }
      frames.pop();
      const caller = frames.at(-1);
      if (caller !== undefined) {
        lowLink[caller.node] = Math.min(lowLink[caller.node] ?? 0, lowLink[node] ?? 0);
      }
      if (lowLink[node] === visitOrder[node]) {
        const component: number[] = [];
        let member: number | undefined;
        do {
          member = stack.pop();
          if (member !== undefined) {
            onStack[member] = false;
            component.push(member);
          }
        } while (member !== undefined && member !== node);
        components.push(component);
      }
    }
  }
  return components;
}

// Breadth-first from `start` within its component, so the reported cycle is as short as it can be.
function shortestCycle(edges: readonly number[][], start: number, members: ReadonlySet<number>): number[] {
  const cameFrom = new Map<number, number>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head] ?? start;
    for (const next of edges[node] ?? []) {
      if (next === start) {
        const path = [start];
        for (
          let step: number | undefined = node;
          step !== undefined && step !== start;
          step = cameFrom.get(step)
        ) {
          path.unshift(step);
        }
        path.unshift(start);
        return path;
      }
      if (members.has(next) && !cameFrom.has(next)) {
        cameFrom.set(next, node);
        queue.push(next);
      }
    }
  }
  return [start];
}

function insertSorted(sorted: number[], value: number): void {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((sorted[middle] ?? 0) < value) low = middle + 1;
    else high = middle;
  }
  sorted.splice(low, 0, value);
}
