/** A pipeline's tasks drawn as a graph; on a run page each node is coloured by its task's status. */
import { useMemo } from "preact/hooks";
import type { Task, TaskDependencyCondition, TaskExecution } from "../api/types.ts";
import { drawEdges } from "./edge-labels.ts";
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
  const edges = useMemo(
    () =>
      drawEdges(
        layout,
        tasks.flatMap((task) =>
          Object.entries(task.depends_on ?? {}).map(([parent, condition]) => ({
            parent,
            child: task.id,
            label: EDGE_LABELS[condition],
            condition,
          })),
        ),
      ),
    [layout, tasks],
  );
  if (tasks.length === 0) return <p class="empty">This pipeline has no tasks.</p>;
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
        {edges.map((edge) => (
          <g key={edge.key} class={`edge edge-${edge.condition}`}>
            <path d={edge.path} marker-end="url(#arrow)" />
            {edge.labelAt && (
              <text x={edge.labelAt.x} y={edge.labelAt.y} text-anchor="middle" class="edge-label">
                {edge.label}
              </text>
            )}
          </g>
        ))}
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
