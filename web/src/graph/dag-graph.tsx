/** A pipeline's tasks drawn as a graph; on a run page each node is coloured by its task's status. */
import { useMemo } from "preact/hooks";
import type { Task, TaskDependencyCondition, TaskExecution } from "../api/types.ts";
import { layoutDag, NODE_HEIGHT, NODE_WIDTH } from "./layout.ts";

interface Props {
  tasks: Task[];
  /** On a run page: each task's execution, which colours its node. */
  executions?: Map<string, TaskExecution>;
  selected?: string | undefined;
  onSelect?: (taskId: string) => void;
}

const EDGE_LABELS: Record<TaskDependencyCondition, string> = {
  any: "any",
  success: "success",
  failure: "failure",
  unknown: "",
};

export function DagGraph({ tasks, executions, selected, onSelect }: Props) {
  const layout = useMemo(
    () => layoutDag(tasks.map((task) => ({ id: task.id, parents: Object.keys(task.depends_on ?? {}) }))),
    [tasks],
  );
  if (tasks.length === 0) return <p class="empty">This pipeline has no tasks.</p>;
  const edges = tasks.flatMap((task) => {
    const to = layout.nodes.get(task.id);
    // A child's incoming edges are labelled at different points along them, top parent nearest the child,
    // so labels of edges that meet at one arrow do not sit on each other.
    const parents = Object.entries(task.depends_on ?? {})
      .flatMap(([parent, condition]) => {
        const from = layout.nodes.get(parent);
        return from ? [{ parent, from, condition }] : [];
      })
      .sort((a, b) => a.from.y - b.from.y);
    return to
      ? parents.map(({ parent, from, condition }, index) => ({
          key: `${parent}->${task.id}`,
          from,
          to,
          condition,
          labelAt: 0.8 - (0.45 * index) / Math.max(1, parents.length - 1 || 1),
        }))
      : [];
  });
  return (
    <div class="graph-scroll">
      <svg
        role="img"
        aria-label="Pipeline graph"
        class="dag"
        width={layout.width}
        height={layout.height}
        viewBox={`0 0 ${layout.width} ${layout.height}`}
      >
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto"
          >
            <path d="M0,0 L10,5 L0,10 z" class="arrow-head" />
          </marker>
        </defs>
        {edges.map(({ key, from, to, condition, labelAt }) => {
          const x1 = from.x + NODE_WIDTH;
          const y1 = from.y + NODE_HEIGHT / 2;
          const x2 = to.x;
          const y2 = to.y + NODE_HEIGHT / 2;
          const middle = (x1 + x2) / 2;
          const label = bezierPoint(labelAt, [x1, y1], [middle, y1], [middle, y2], [x2, y2]);
          return (
            <g key={key} class={`edge edge-${condition}`}>
              <path
                d={`M${x1},${y1} C${middle},${y1} ${middle},${y2} ${x2},${y2}`}
                marker-end="url(#arrow)"
              />
              <text x={label[0]} y={label[1] - 4} text-anchor="middle" class="edge-label">
                {EDGE_LABELS[condition]}
              </text>
            </g>
          );
        })}
        {tasks.map((task) => {
          const place = layout.nodes.get(task.id);
          if (!place) return null;
          const execution = executions?.get(task.id);
          const status = execution?.status ?? "unknown";
          const state = execution?.state ?? "unknown";
          const look = execution ? (state === "complete" ? status : state) : "plain";
          return (
            <g
              key={task.id}
              class={`node node-${look}${selected === task.id ? " node-selected" : ""}`}
              data-task-id={task.id}
              {...(execution && { "data-status": status, "data-state": state })}
              transform={`translate(${place.x},${place.y})`}
              {...(onSelect && {
                role: "button",
                tabIndex: 0,
                "aria-label": `${task.id}: ${look}`,
                onClick: () => onSelect(task.id),
                onKeyDown: (event: KeyboardEvent) => {
                  if (event.key === "Enter" || event.key === " ") {
                    event.preventDefault();
                    onSelect(task.id);
                  }
                },
              })}
            >
              <title>{execution ? `${task.id}: ${look}` : task.id}</title>
              <rect width={NODE_WIDTH} height={NODE_HEIGHT} rx="8" />
              <text x={NODE_WIDTH / 2} y={NODE_HEIGHT / 2 + 5} text-anchor="middle">
                {task.id.length > 18 ? `${task.id.slice(0, 17)}…` : task.id}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}

type Point = [number, number];

function bezierPoint(t: number, p0: Point, p1: Point, p2: Point, p3: Point): Point {
  const u = 1 - t;
  const weights = [u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t] as const;
  const points = [p0, p1, p2, p3];
  return [0, 1].map((axis) =>
    points.reduce((sum, point, index) => sum + (weights[index] ?? 0) * (point[axis] ?? 0), 0),
  ) as Point;
}
