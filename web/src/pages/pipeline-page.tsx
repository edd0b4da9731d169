/**
 * A pipeline: its graph with the shown version's timeouts, concurrency and retries, its runs, its config versions
 * (live one marked, any two compared), deployments and subscriptions (declared by a config or made through the
 * API), with enable/disable and "Start run".
 */
import { useEffect, useState } from "preact/hooks";
import { ApiError, api, apiPath } from "../api/client.ts";
import { concerns, eventKind, onEvent } from "../api/event-stream.ts";
import type { Deployment, PipelineConfig, PipelineMetadata, Run, Subscription } from "../api/types.ts";
import { Link } from "../components/link.tsx";
import { ErrorNote, StatusPill } from "../components/status.tsx";
import { useResource } from "../components/use-resource.ts";
import { exactTime, outcome, span, when } from "../format.ts";
import { DagGraph } from "../graph/dag-graph.tsx";
import { paths } from "../router.ts";
import { ConfigDiff } from "./config-diff.tsx";
import { ConfigLimits } from "./config-limits.tsx";
import { StartRunDialog } from "./start-run-dialog.tsx";

export function PipelinePage({ namespace, pipeline }: { namespace: string; pipeline: string }) {
  const base = apiPath`/api/namespaces/${namespace}/pipelines/${pipeline}`;
  const metadata = useResource(() => api<PipelineMetadata>("GET", base, "pipeline"), [base]);
  const configs = useResource(() => api<PipelineConfig[]>("GET", `${base}/configs`, "configs"), [base]);
  const runs = useResource(() => api<Run[]>("GET", `${base}/runs?limit=25&reverse=true`, "runs"), [base]);
  const deployments = useResource(
    () => api<Deployment[]>("GET", `${base}/deployments`, "deployments"),
    [base],
  );
  const subscriptions = useResource(
    () => api<Subscription[]>("GET", `${base}/subscriptions`, "subscriptions"),
    [base],
  );
  const [starting, setStarting] = useState(false);
  const [problem, setProblem] = useState<unknown>(undefined);

  useEffect(
    () =>
      onEvent((event) => {
        if (!concerns(event, namespace, pipeline)) return;
        const { name } = eventKind(event);
        if (/run/.test(name)) runs.reload();
        if (/pipeline/.test(name)) metadata.reload();
        if (/config|deploy|pipeline/.test(name)) {
          configs.reload();
          deployments.reload();
        }
        // Deploying a version adds and removes the subscriptions it declares.
        if (/subscri|deploy/.test(name)) subscriptions.reload();
      }),
    [namespace, pipeline],
  );

  const allConfigs = configs.value ?? [];
  const live = allConfigs.find((config) => config.state === "live");
  const shown = live ?? [...allConfigs].sort((a, b) => b.version - a.version)[0];
  const state = metadata.value?.state;

  const flipState = async () => {
    setProblem(undefined);
    try {
      await api("PATCH", base, undefined, { state: state === "disabled" ? "active" : "disabled" });
      metadata.reload();
    } catch (error) {
      setProblem(error);
    }
  };

  // Every section would repeat the same "not found": say it once.
  if (metadata.error instanceof ApiError && metadata.error.status === 404) {
    return (
      <main>
        <nav class="crumbs" aria-label="Breadcrumbs">
          <Link href={paths.namespace(namespace)}>{namespace}</Link> / <span>{pipeline}</span>
        </nav>
        <h1>{pipeline}</h1>
        <ErrorNote error={metadata.error} />
        <p>
          <Link href={paths.namespace(namespace)}>See the pipelines of {namespace}</Link>.
        </p>
      </main>
    );
  }

  return (
    <main>
      <nav class="crumbs" aria-label="Breadcrumbs">
        <Link href={paths.namespace(namespace)}>{namespace}</Link> / <span>{pipeline}</span>
      </nav>
      <div class="page-head">
        <h1>{shown?.name || pipeline}</h1>
        {state && <StatusPill value={state} />}
        <div class="actions">
          <button type="button" onClick={flipState} disabled={!state}>
            {state === "disabled" ? "Enable pipeline" : "Disable pipeline"}
          </button>
          <button type="button" class="primary" onClick={() => setStarting(true)}>
            Start run
          </button>
        </div>
      </div>
      {shown?.description && <p class="lead">{shown.description}</p>}
      <ErrorNote error={metadata.error ?? problem} />
      {starting && (
        <StartRunDialog namespace={namespace} pipeline={pipeline} onClose={() => setStarting(false)} />
      )}

      <section aria-labelledby="graph-title">
        <h2 id="graph-title">
          Graph{" "}
          {shown && (
            <span class="muted">
              version {shown.version}
              {live ? " (live)" : " (not deployed)"}
            </span>
          )}
        </h2>
        <ErrorNote error={configs.error} />
        {shown && <DagGraph tasks={Object.values(shown.tasks)} />}
        {shown && <ConfigLimits config={shown} />}
        {configs.value && !shown && <p class="empty">No config registered yet.</p>}
      </section>

      <section aria-labelledby="runs-title">
        <h2 id="runs-title">Runs</h2>
        <ErrorNote error={runs.error} />
        {runs.value && runs.value.length === 0 && <p class="empty">No runs yet. Start one above.</p>}
        {runs.value && runs.value.length > 0 && (
          <div class="table-scroll">
            <table>
              <thead>
                <tr>
                  <th>Run</th>
                  <th>Status</th>
                  <th>Started</th>
                  <th>Duration</th>
                  <th>By</th>
                </tr>
              </thead>
              <tbody>
                {runs.value.map((run) => (
                  <tr key={run.run_id}>
                    <td>
                      <Link href={paths.run(namespace, pipeline, run.run_id)}>#{run.run_id}</Link>
                    </td>
                    <td>
                      <StatusPill value={outcome(run.state, run.status)} />
                    </td>
                    <td title={exactTime(run.started)}>{when(run.started)}</td>
                    <td>{span(run.started, run.ended)}</td>
                    <td>{run.initiator?.user ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <div class="columns">
        <section aria-labelledby="versions-title">
          <h2 id="versions-title">Config versions</h2>
          {allConfigs.length > 0 && (
            <ul class="plain-list">
              {[...allConfigs]
                .sort((a, b) => b.version - a.version)
                .map((config) => (
                  <li key={config.version}>
                    v{config.version} <StatusPill value={config.state} />{" "}
                    <span class="muted" title={exactTime(config.registered)}>
                      registered {when(config.registered)}
                    </span>
                  </li>
                ))}
            </ul>
          )}
          <ConfigDiff configs={allConfigs} />
        </section>
        <section aria-labelledby="deployments-title">
          <h2 id="deployments-title">Deployments</h2>
          <ErrorNote error={deployments.error} />
          {deployments.value && deployments.value.length === 0 && <p class="muted">None yet.</p>}
          <ul class="plain-list">
            {(deployments.value ?? []).map((deployment) => (
              <li key={deployment.deployment_id}>
                #{deployment.deployment_id}: v{deployment.start_version} → v{deployment.end_version}{" "}
                <StatusPill
                  value={outcome(deployment.state.toLowerCase(), deployment.status.toLowerCase())}
                />{" "}
                <span class="muted">{when(deployment.started)}</span>
              </li>
            ))}
          </ul>
          <h2>Subscriptions</h2>
          <ErrorNote error={subscriptions.error} />
          {subscriptions.value && subscriptions.value.length === 0 && (
            <p class="muted">
              None. Subscribe with{" "}
              <code>gofer pipeline subscribe {pipeline} interval every-5m -s every=5m</code>.
            </p>
          )}
          <ul class="plain-list">
            {(subscriptions.value ?? []).map((subscription) => (
              <li key={`${subscription.extension_id}/${subscription.subscription_id}`}>
                <Link href={paths.extension(subscription.extension_id)}>{subscription.extension_id}</Link> /{" "}
                {subscription.subscription_id} <StatusPill value={subscription.status} />{" "}
                <span class="muted">
                  {Object.entries(subscription.settings ?? {})
                    .map(([key, value]) => `${key}=${value}`)
                    .join(", ")}
                </span>{" "}
                <span class="subscription-origin" data-testid="subscription-origin">
                  {subscription.declared_by_version === undefined
                    ? "added through the API"
                    : `declared by config v${subscription.declared_by_version}`}
                </span>
              </li>
            ))}
          </ul>
        </section>
      </div>
    </main>
  );
}
