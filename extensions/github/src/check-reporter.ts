/**
 * `pull_request_with_check`: a run started for a pull request is shown on it as a GitHub check run, created
 * `in_progress` on the head commit once the run has started and completed with the run's result
 * (success / failure / cancelled; neutral when the result is unknown or the run was deleted).
 *
 * Each report runs in the background: the webhook is answered without waiting for GitHub, and a failure to talk
 * to GitHub is logged and leaves the run alone. A check run waiting for its run is stored (pending-checks.ts), so
 * one still in progress when the extension stops is completed after its restart.
 */
import type { ExtensionLogger } from "@gofer/sdk/extension";
import type { CheckConclusion, CheckRunOutput, GithubChecks } from "./github-checks.ts";
import type { PendingCheck, PendingCheckStore } from "./pending-checks.ts";
import type { RunKey, RunOutcome, RunWatcher } from "./run-watcher.ts";

/** What a check run is about: the run, and the pull request's repository and head commit. */
export type CheckRequest = Omit<PendingCheck, "checkRunId">;

export interface CheckReporterOptions {
  checks: GithubChecks;
  watcher: RunWatcher;
  store: PendingCheckStore;
  log: ExtensionLogger;
  /** Aborted when the extension stops: checks still waiting are left for the next start. */
  signal: AbortSignal;
  /** Gofer's web UI; the check run's "Details" link opens the run's page there. */
  webUrl?: string | undefined;
  now?: () => number;
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));
const runName = (key: RunKey) => `${key.namespaceId}/${key.pipelineId}#${key.runId}`;

export class CheckReporter {
  readonly #options: CheckReporterOptions;
  readonly #now: () => number;
  readonly #tasks = new Set<Promise<void>>();

  constructor(options: CheckReporterOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Check runs being created or waiting for their run. */
  get active(): number {
    return this.#tasks.size;
  }

  /** Creates the check run and completes it when the run ends; returns at once and never throws. */
  report(request: CheckRequest): void {
    this.#track(this.#report(request));
  }

  /** Takes up the check runs a previous start left waiting; returns at once and never throws. */
  resume(): void {
    this.#track(this.#resume());
  }

  /** Resolves once every report started so far has finished (tests, and the shutdown hook). */
  async settled(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }

  #track(task: Promise<void>): void {
    const tracked = task
      .catch((error: unknown) =>
        this.#options.log.error("check run report failed", { error: errorText(error) }),
      )
      .finally(() => this.#tasks.delete(tracked));
    this.#tasks.add(tracked);
  }

  async #report(request: CheckRequest): Promise<void> {
    const { checks, watcher, store, log } = this.#options;
    // Watched before the check run exists, so a run that ends while GitHub is being called is not missed.
    const watch = watcher.watch(request);
    const fields = {
      run: runName(request),
      repository: `${request.repository.owner}/${request.repository.repo}`,
    };
    let checkRunId: number;
    try {
      checkRunId = await checks.create(request.repository, {
        name: request.subscriptionId,
        head_sha: request.headSha,
        status: "in_progress",
        started_at: new Date(this.#now()).toISOString(),
        external_id: externalId(request),
        ...this.#detailsUrl(request),
        output: output(request),
      });
    } catch (error) {
      watch.cancel();
      log.warn("could not create the check run; the run goes on without one", {
        ...fields,
        error: errorText(error),
      });
      return;
    }
    log.info("check run created", { ...fields, check_run_id: checkRunId, head_sha: request.headSha });
    const pending: PendingCheck = { ...request, checkRunId };
    try {
      await store.save(pending);
    } catch (error) {
      log.warn("could not store the pending check run; a restart before the run ends leaves it in progress", {
        ...fields,
        error: errorText(error),
      });
    }
    await watcher.check(request);
    await this.#complete(pending, await watch.outcome);
  }

  async #resume(): Promise<void> {
    const { store, watcher, log } = this.#options;
    let listed: Awaited<ReturnType<PendingCheckStore["list"]>>;
    try {
      listed = await store.list();
    } catch (error) {
      log.warn("could not read the pending check runs; those left by a previous start stay in progress", {
        error: errorText(error),
      });
      return;
    }
    if (listed.skipped > 0) log.warn("unreadable pending check runs skipped", { count: listed.skipped });
    if (listed.checks.length === 0) return;
    log.info("taking up pending check runs", { count: listed.checks.length });
    await Promise.all(
      listed.checks.map(async (pending) => {
        const watch = watcher.watch(pending);
        await watcher.check(pending);
        await this.#complete(pending, await watch.outcome);
      }),
    );
  }

  async #complete(pending: PendingCheck, outcome: RunOutcome): Promise<void> {
    const { checks, store, log, signal } = this.#options;
    const fields = { run: runName(pending), check_run_id: pending.checkRunId };
    if (outcome.kind === "stopped") {
      log.info("extension stopping; the check run is completed after the next start", fields);
      return;
    }
    const conclusion = conclusionOf(outcome);
    try {
      await checks.update(pending.repository, pending.checkRunId, {
        status: "completed",
        conclusion,
        completed_at: new Date(this.#now()).toISOString(),
        ...this.#detailsUrl(pending),
        output: output(pending, outcome),
      });
      log.info("check run completed", { ...fields, conclusion });
    } catch (error) {
      if (signal.aborted) {
        log.info("extension stopping; the check run is completed after the next start", fields);
        return;
      }
      log.error("could not complete the check run; it stays in progress on GitHub", {
        ...fields,
        conclusion,
        error: errorText(error),
      });
    }
    try {
      await store.remove(pending);
    } catch (error) {
      log.warn("could not remove the stored check run; the next start completes it again", {
        ...fields,
        error: errorText(error),
      });
    }
  }

  #detailsUrl(key: RunKey): { details_url?: string } {
    const { webUrl } = this.#options;
    if (webUrl === undefined) return {};
    const page = `/namespaces/${encodeURIComponent(key.namespaceId)}/pipelines/${encodeURIComponent(key.pipelineId)}/runs/${key.runId}`;
    return { details_url: webUrl + page };
  }
}

export function conclusionOf(outcome: Exclude<RunOutcome, { kind: "stopped" }>): CheckConclusion {
  if (outcome.kind === "gone") return "neutral";
  switch (outcome.status) {
    case "successful":
      return "success";
    case "failed":
      return "failure";
    case "cancelled":
      return "cancelled";
    default:
      return "neutral";
  }
}

const externalId = (key: RunKey) => `${key.namespaceId}/${key.pipelineId}/${key.runId}`;

/** The text shown on the pull request: v0's title, and a summary of the run. */
function output(check: CheckRequest, outcome?: Exclude<RunOutcome, { kind: "stopped" }>): CheckRunOutput {
  const lines = [
    outcome === undefined
      ? "Gofer is running a pipeline for this pull request."
      : "Gofer ran a pipeline for this pull request.",
    "",
    `- **Namespace**: \`${check.namespaceId}\``,
    `- **Pipeline**: \`${check.pipelineId}\``,
    `- **Subscription**: \`${check.subscriptionId}\``,
    `- **Run**: \`#${check.runId}\``,
  ];
  if (outcome?.kind === "complete") {
    lines.push(`- **Status**: \`${outcome.status}\``);
    if (outcome.started && outcome.ended && outcome.ended >= outcome.started) {
      lines.push(`- **Duration**: ${formatDuration(outcome.ended - outcome.started)}`);
    }
  } else if (outcome?.kind === "gone") {
    lines.push("- **Status**: the run no longer exists in Gofer, so its result is unknown");
  }
  lines.push(
    "",
    `Its tasks and logs: \`gofer run get ${check.pipelineId} ${check.runId} --namespace ${check.namespaceId}\`.`,
  );
  return {
    title: `Run #${check.runId} | Namespace: ${check.namespaceId} | Pipeline: ${check.pipelineId}`,
    summary: lines.join("\n"),
  };
}

export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${ms} ms`;
  const seconds = Math.round(ms / 1_000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
