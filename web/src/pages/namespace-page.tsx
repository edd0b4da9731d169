/**
 * A namespace's pipelines, searchable by id, name and description, each with its name and description, when it
 * last ran, its latest runs as dots, success rate and median duration.
 */
import { useEffect, useState } from "preact/hooks";
import { ApiError, api, apiPath } from "../api/client.ts";
import { concerns, eventKind, onEvent } from "../api/event-stream.ts";
import type { Namespace, PipelineConfig, PipelineMetadata, Run } from "../api/types.ts";
import { Link } from "../components/link.tsx";
import { ErrorNote, StatusPill } from "../components/status.tsx";
import { Time } from "../components/time.tsx";
import { useResource } from "../components/use-resource.ts";
import { duration, outcome } from "../format.ts";
import { matchesSearch } from "../lists/pipeline-search.ts";
import { navigate, paths } from "../router.ts";
import { runStats } from "../runs/run-stats.ts";
import { session } from "../state/session.ts";
import "../styles/lists.css";

type Described = PipelineMetadata & { name?: string; description?: string };

/** Each pipeline with the name and description of its latest config, which the pipelines list does not carry. */
async function describedPipelines(namespace: string): Promise<Described[]> {
  const pipelines = await api<PipelineMetadata[]>(
    "GET",
    apiPath`/api/namespaces/${namespace}/pipelines`,
    "pipelines",
  );
  // v0 lets anyone list the default namespace's pipelines but not read their configs: without a token, asking
  // would only fill the console with one refusal a pipeline.
  if (!session.token.value) return pipelines;
  return Promise.all(
    pipelines.map(async (pipeline) => {
      try {
        const config = await api<PipelineConfig>(
          "GET",
          apiPath`/api/namespaces/${namespace}/pipelines/${pipeline.pipeline_id}/configs/${0}`,
          "config",
        );
        return { ...pipeline, name: config.name, description: config.description };
      } catch (error) {
        // A pipeline without a config yet, or whose configs this visitor may not read (v0 lets anyone list the
        // default namespace's pipelines but not read their configs), still belongs in the list, under its id.
        if (error instanceof ApiError && [401, 403, 404].includes(error.status)) return pipeline;
        throw error;
      }
    }),
  );
}

const RECENT_RUNS = 10;

export function NamespacePage({ namespace }: { namespace: string }) {
  const namespaces = useResource(() => api<Namespace[]>("GET", "/api/namespaces", "namespaces"), []);
  const pipelines = useResource(() => describedPipelines(namespace), [namespace]);
  const [search, setSearch] = useState("");
  useEffect(
    () =>
      onEvent((event) => {
        const { name, details } = eventKind(event);
        if ("namespace_id" in details && details.namespace_id === namespace && /pipeline|deploy/.test(name))
          pipelines.reload();
        if (/namespace/.test(name)) namespaces.reload();
      }),
    [namespace],
  );
  const listed = namespaces.value ?? [];
  // A namespace the address names but the server does not list stays chosen, rather than a blank picker.
  const choices = listed.some((item) => item.id === namespace)
    ? listed
    : [{ id: namespace, name: namespace, description: "" }, ...listed];
  const missing = pipelines.error instanceof ApiError && pipelines.error.status === 404;
  const found = (pipelines.value ?? []).filter((pipeline) =>
    matchesSearch({ ...pipeline, id: pipeline.pipeline_id }, search),
  );
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
      {pipelines.value && pipelines.value.length > 0 && (
        <div class="list-controls">
          <input
            type="search"
            aria-label="Search pipelines"
            placeholder="Search by id, name or description"
            value={search}
            onInput={(event) => setSearch(event.currentTarget.value)}
          />
          {search && (
            <span class="muted" data-testid="search-count">
              {found.length} of {pipelines.value.length}
            </span>
          )}
        </div>
      )}
      <ErrorNote error={pipelines.error} />
      {missing && namespace !== "default" && (
        <p>
          <Link href={paths.namespace("default")}>See the pipelines of default</Link>, or pick a namespace
          above.
        </p>
      )}
      {pipelines.value && pipelines.value.length === 0 && (
        <p class="empty">
          No pipelines in this namespace yet. Register one with{" "}
          <code>gofer up ./pipeline.ts{namespace === "default" ? "" : ` --namespace ${namespace}`}</code>.
        </p>
      )}
      {pipelines.value && pipelines.value.length > 0 && (
        <div class="table-scroll">
          <table class="pipelines pipelines-described">
            <thead>
              <tr>
                <th>Pipeline</th>
                <th>State</th>
                <th>Last run</th>
                <th>Recent runs</th>
                <th>Success</th>
                <th>Median</th>
              </tr>
            </thead>
            <tbody>
              {found.map((pipeline) => (
                <PipelineRow key={pipeline.pipeline_id} pipeline={pipeline} />
              ))}
            </tbody>
          </table>
          {found.length === 0 && <p class="empty">No pipeline matches “{search}”.</p>}
        </div>
      )}
      {pipelines.loading && !pipelines.value && <p class="empty">Loading…</p>}
    </main>
  );
}

function PipelineRow({ pipeline }: { pipeline: Described }) {
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
  const last = recent[0];
  return (
    <tr data-pipeline-id={id}>
      <td>
        <Link href={paths.pipeline(namespace, id)}>{id}</Link>
        {pipeline.name && pipeline.name !== id && <span class="pipeline-name">{pipeline.name}</span>}
        {pipeline.description && <span class="pipeline-description">{pipeline.description}</span>}
      </td>
      <td>
        <StatusPill value={pipeline.state} />
      </td>
      <td data-testid="last-run">
        {last ? (
          last.started ? (
            <Time at={last.started} />
          ) : (
            <span class="muted">{last.state}</span>
          )
        ) : (
          <span class="muted">never</span>
        )}
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
