/**
 * A pipeline: its graph with the shown version's timeouts, concurrency and retries, its runs a page at a time
 * (narrowed by status), its config versions (live one marked, any two compared), deployments and subscriptions
 * (declared by a config or made through the API), with enable/disable and "Start run". `?config=2` in the address
 * shows version 2 and compares it with the live one: a run's page links its config so.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, api, apiPath } from "../api/client.ts";
import { concerns, eventKind, onEvent } from "../api/event-stream.ts";
import type { Deployment, PipelineConfig, PipelineMetadata, Run, Subscription } from "../api/types.ts";
import { Link } from "../components/link.tsx";
import { ErrorNote, StatusPill } from "../components/status.tsx";
import { Time } from "../components/time.tsx";
import { useResource } from "../components/use-resource.ts";
import { outcome, span } from "../format.ts";
import { DagGraph } from "../graph/dag-graph.tsx";
import { describeDeployment } from "../lists/deployment-summary.ts";
import {
  isRunFilter,
  parseRunListPlace,
  RUN_FILTERS,
  type RunFilter,
  runListPage,
  runListQuery,
  withRunListPlace,
} from "../lists/run-list.ts";
import { paths } from "../router.ts";
import { ConfigDiff } from "./config-diff.tsx";
import { ConfigLimits } from "./config-limits.tsx";
import { StartRunDialog } from "./start-run-dialog.tsx";
import "../styles/lists.css";

/** The config version the address asks for (`?config=2`), if any. */
function requestedVersion(): number | undefined {
  const version = Number(new URLSearchParams(location.search).get("config") ?? "");
  return Number.isInteger(version) && version > 0 ? version : undefined;
}

/** What `?config=` holds as typed, so a version that is not one (`?config=abc`) is named, not ignored. */
const requestedText = (): string | null => new URLSearchParams(location.search).get("config");

/** This page's address showing config `version`, the runs list's page and status kept. */
function versionAddress(version: number): string {
  const query = new URLSearchParams(location.search);
  query.set("config", String(version));
  return `${location.pathname}?${query}`;
}

export function PipelinePage({ namespace, pipeline }: { namespace: string; pipeline: string }) {
  const base = apiPath`/api/namespaces/${namespace}/pipelines/${pipeline}`;
  const metadata = useResource(() => api<PipelineMetadata>("GET", base, "pipeline"), [base]);
  const configs = useResource(() => api<PipelineConfig[]>("GET", `${base}/configs`, "configs"), [base]);
  const [runPage, setRunPage] = useState(() => parseRunListPlace(location.search).page);
  const [runFilter, setRunFilter] = useState(() => parseRunListPlace(location.search).status);
  // The address keeps the list's place, so Back from one of its runs and a reload return to it.
  const placeRuns = (page: number, status: RunFilter | undefined) => {
    setRunPage(page);
    setRunFilter(status);
    history.replaceState(null, "", location.pathname + withRunListPlace(location.search, { page, status }));
  };
  const runs = useResource(
    () => api<Run[]>("GET", `${base}/runs${runListQuery(runPage, runFilter)}`, "runs"),
    [base, runPage, runFilter],
  );
  const [requested, setRequested] = useState(requestedVersion);
  const compareRef = useRef<HTMLElement>(null);
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

  // Back and forward move between versions shown on this page, which stays mounted.
  useEffect(() => {
    const follow = () => {
      setRequested(requestedVersion());
      const place = parseRunListPlace(location.search);
      setRunPage(place.page);
      setRunFilter(place.status);
    };
    window.addEventListener("popstate", follow);
    return () => window.removeEventListener("popstate", follow);
  }, []);
  // Arriving on a version (a run's "Config v2"): the compare is what the link was followed for.
  const scrolledTo = useRef(false);
  useEffect(() => {
    if (scrolledTo.current || requested === undefined || !configs.value) return;
    scrolledTo.current = true;
    compareRef.current?.scrollIntoView({ block: "start" });
  }, [configs.value]);
  const showVersion = (version: number) => (event: MouseEvent) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    history.pushState(null, "", versionAddress(version));
    setRequested(version);
  };

  const allConfigs = configs.value ?? [];
  const live = allConfigs.find((config) => config.state === "live");
  const latest = live ?? [...allConfigs].sort((a, b) => b.version - a.version)[0];
  const asked = allConfigs.find((config) => config.version === requested);
  const shown = asked ?? latest;
  const state = metadata.value?.state;
  const page = runListPage(runPage, runs.value ?? []);
  const typedVersion = requestedText();
  // v0 refuses a run without a live version, in API words: say it here, with the command that deploys one.
  const undeployed = configs.value !== undefined && allConfigs.length > 0 && !live;
  const newest = [...allConfigs].sort((a, b) => b.version - a.version)[0];

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
        <h1>{latest?.name || pipeline}</h1>
        {state && <StatusPill value={state} />}
        <div class="actions">
          <button type="button" onClick={flipState} disabled={!state}>
            {state === "disabled" ? "Enable pipeline" : "Disable pipeline"}
          </button>
          <button
            type="button"
            class="primary"
            disabled={undeployed}
            title={undeployed ? "No version of this pipeline is deployed yet" : undefined}
            onClick={() => setStarting(true)}
          >
            Start run
          </button>
        </div>
      </div>
      {latest?.description && <p class="lead">{latest.description}</p>}
      {undeployed && newest && (
        <p class="pipeline-notice" data-testid="not-deployed">
          No version of this pipeline is deployed, so it cannot run yet. Deploy one with{" "}
          <code>
            gofer pipeline config deploy {pipeline} {newest.version}
            {namespace === "default" ? "" : ` --namespace ${namespace}`}
          </code>
          .
        </p>
      )}
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
              {shown === live ? " (live)" : live ? ` (v${live.version} is live)` : " (not deployed)"}
            </span>
          )}
        </h2>
        <ErrorNote error={configs.error} />
        {configs.value && typedVersion !== null && !asked && (
          <p class="error-note" role="alert">
            This pipeline has no config version {typedVersion}; showing version {shown?.version ?? "–"}{" "}
            instead.
          </p>
        )}
        {shown && <DagGraph tasks={Object.values(shown.tasks)} />}
        {shown && <ConfigLimits config={shown} />}
        {configs.value && !shown && <p class="empty">No config registered yet.</p>}
      </section>

      <section aria-labelledby="runs-title">
        <div class="section-head">
          <h2 id="runs-title">Runs</h2>
          <label class="inline">
            Status
            <select
              aria-label="Run status"
              value={runFilter ?? ""}
              onChange={(event) => {
                const value = event.currentTarget.value;
                placeRuns(0, isRunFilter(value) ? value : undefined);
              }}
            >
              <option value="">all</option>
              {RUN_FILTERS.map((filter) => (
                <option key={filter} value={filter}>
                  {filter}
                </option>
              ))}
            </select>
          </label>
        </div>
        <ErrorNote error={runs.error} />
        {runs.value && page.runs.length === 0 && (
          <p class="empty">
            {runFilter
              ? `No ${runFilter} runs${runPage > 0 ? " this far back" : ""}.`
              : runPage > 0
                ? "No runs this far back."
                : "No runs yet. Start one above."}
          </p>
        )}
        {runs.value && page.runs.length > 0 && (
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
                {page.runs.map((run) => (
                  <tr key={run.run_id}>
                    <td>
                      <Link href={paths.run(namespace, pipeline, run.run_id)}>#{run.run_id}</Link>
                    </td>
                    <td>
                      <StatusPill value={outcome(run.state, run.status)} />
                    </td>
                    <td>
                      <Time at={run.started} />
                    </td>
                    <td>{span(run.started, run.ended)}</td>
                    <td>{run.initiator?.user ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {(runPage > 0 || page.older) && (
          <nav class="pager" aria-label="Run pages">
            <span class="pager-position" data-testid="run-positions">
              {page.runs.length > 0 ? `runs ${page.first}–${page.last}, newest first` : ""}
            </span>
            <button type="button" disabled={runPage === 0} onClick={() => placeRuns(0, runFilter)}>
              Newest
            </button>
            <button type="button" disabled={runPage === 0} onClick={() => placeRuns(runPage - 1, runFilter)}>
              Newer
            </button>
            <button type="button" disabled={!page.older} onClick={() => placeRuns(runPage + 1, runFilter)}>
              Older
            </button>
          </nav>
        )}
      </section>

      <div class="columns pipeline-columns">
        <section aria-labelledby="versions-title" ref={compareRef}>
          <h2 id="versions-title">Config versions</h2>
          {allConfigs.length > 0 && (
            <ul class="plain-list version-list">
              {[...allConfigs]
                .sort((a, b) => b.version - a.version)
                .map((config) => (
                  <li key={config.version}>
                    <a
                      href={versionAddress(config.version)}
                      aria-current={config === shown ? "true" : undefined}
                      onClick={showVersion(config.version)}
                    >
                      v{config.version}
                    </a>{" "}
                    <StatusPill value={config.state} />{" "}
                    <span class="muted">
                      registered <Time at={config.registered} />
                    </span>
                  </li>
                ))}
            </ul>
          )}
          <ConfigDiff configs={allConfigs} requested={requested} />
        </section>
        <section aria-labelledby="deployments-title">
          <h2 id="deployments-title">Deployments</h2>
          <ErrorNote error={deployments.error} />
          {deployments.value && deployments.value.length === 0 && <p class="muted">None yet.</p>}
          <ul class="plain-list">
            {(deployments.value ?? []).map((deployment) => (
              <li key={deployment.deployment_id}>
                {describeDeployment(deployment)}{" "}
                <StatusPill
                  value={outcome(deployment.state.toLowerCase(), deployment.status.toLowerCase())}
                />{" "}
                <span class="muted">
                  <Time at={deployment.started} />
                </span>
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
