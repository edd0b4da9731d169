/** A namespace's pipelines, each with its latest runs as dots, success rate and median duration. */
import { useEffect } from "preact/hooks";
import { api, apiPath } from "../api/client.ts";
import { concerns, eventKind, onEvent } from "../api/event-stream.ts";
import type { Namespace, PipelineMetadata, Run } from "../api/types.ts";
import { Link } from "../components/link.tsx";
import { ErrorNote, StatusPill } from "../components/status.tsx";
import { useResource } from "../components/use-resource.ts";
import { duration, outcome } from "../format.ts";
import { navigate, paths } from "../router.ts";
import { runStats } from "../runs/run-stats.ts";

const RECENT_RUNS = 10;

export function NamespacePage({ namespace }: { namespace: string }) {
  const namespaces = useResource(() => api<Namespace[]>("GET", "/api/namespaces", "namespaces"), []);
  const pipelines = useResource(
    () => api<PipelineMetadata[]>("GET", apiPath`/api/namespaces/${namespace}/pipelines`, "pipelines"),
    [namespace],
  );
  useEffect(
    () =>
      onEvent((event) => {
        const { name, details } = eventKind(event);
        if ("namespace_id" in details && details.namespace_id === namespace && /pipeline/.test(name))
          pipelines.reload();
        if (/namespace/.test(name)) namespaces.reload();
      }),
    [namespace],
  );
  const choices = namespaces.value ?? [{ id: namespace, name: namespace, description: "" }];
  return (
    <main>
      <div class="page-head">
        <h1>Pipelines</h1>
        <label class="inline">
          Namespace
          <select
            value={namespace}
            onChange={(event) => navigate(paths.namespace(event.currentTarget.value))}
          >
            {choices.map((item) => (
              <option key={item.id} value={item.id}>
                {item.name && item.name !== item.id ? `${item.name} (${item.id})` : item.id}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorNote error={pipelines.error} />
      {pipelines.value && pipelines.value.length === 0 && (
        <p class="empty">
          No pipelines in this namespace yet. Register one with <code>gofer up ./pipeline.ts</code>.
        </p>
      )}
      {pipelines.value && pipelines.value.length > 0 && (
        <div class="table-scroll">
          <table class="pipelines">
            <thead>
              <tr>
                <th>Pipeline</th>
                <th>State</th>
                <th>Recent runs</th>
                <th>Success</th>
                <th>Median</th>
              </tr>
            </thead>
            <tbody>
              {pipelines.value.map((pipeline) => (
                <PipelineRow key={pipeline.pipeline_id} pipeline={pipeline} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {pipelines.loading && !pipelines.value && <p class="empty">Loading…</p>}
    </main>
  );
}

function PipelineRow({ pipeline }: { pipeline: PipelineMetadata }) {
  const { namespace_id: namespace, pipeline_id: id } = pipeline;
  const runs = useResource(
    () =>
      api<Run[]>(
        "GET",
        `${apiPath`/api/namespaces/${namespace}/pipelines/${id}/runs`}?limit=${RECENT_RUNS}&reverse=true`,
        "runs",
      ),
    [namespace, id],
  );
  useEffect(() => onEvent((event) => concerns(event, namespace, id) && runs.reload()), [namespace, id]);
  const recent = runs.value ?? [];
  const stats = runStats(recent);
  return (
    <tr>
      <td>
        <Link href={paths.pipeline(namespace, id)}>{id}</Link>
      </td>
      <td>
        <StatusPill value={pipeline.state} />
      </td>
      <td>
        <span class="dots">
          {[...recent].reverse().map((run) => {
            const look = outcome(run.state, run.status);
            return (
              <Link
                key={run.run_id}
                href={paths.run(namespace, id, run.run_id)}
                class={`dot dot-${look}`}
                title={`Run ${run.run_id}: ${look}`}
                aria-label={`Run ${run.run_id}: ${look}`}
              >
                {""}
              </Link>
            );
          })}
          {runs.value && recent.length === 0 && <span class="muted">no runs yet</span>}
          {runs.error ? <span class="muted">runs not readable</span> : null}
        </span>
      </td>
      <td>{stats.successRate === undefined ? "–" : `${Math.round(stats.successRate * 100)}%`}</td>
      <td>{stats.medianMs === undefined ? "–" : duration(stats.medianMs)}</td>
    </tr>
  );
}
