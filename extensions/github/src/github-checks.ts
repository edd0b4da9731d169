/**
 * GitHub's check runs API, called as the App installation. A failure that may pass (no answer, 5xx, 429) is
 * tried again a bounded number of times; a refused token is replaced once. What still fails is thrown for the
 * caller to log: a check run is a report, and nothing about the Gofer run depends on it.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { InstallationTokens } from "./github-app.ts";
import { callGithub, GithubApiError } from "./github-http.ts";

export type CheckConclusion = "success" | "failure" | "cancelled" | "neutral";

export interface CheckRunOutput {
  title: string;
  /** Markdown. */
  summary: string;
}

export interface NewCheckRun {
  name: string;
  head_sha: string;
  status: "in_progress";
  /** ISO 8601. */
  started_at: string;
  external_id?: string;
  details_url?: string;
  output?: CheckRunOutput;
}

export interface CompletedCheckRun {
  status: "completed";
  conclusion: CheckConclusion;
  /** ISO 8601. */
  completed_at: string;
  details_url?: string;
  output?: CheckRunOutput;
}

export interface Repository {
  owner: string;
  repo: string;
}

export interface GithubChecksOptions {
  /** GitHub's REST API, without a trailing slash. */
  apiUrl: string;
  tokens: InstallationTokens;
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** The pauses before each further attempt; their count is the number of retries. */
  retryDelaysMs?: readonly number[];
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RETRY_DELAYS_MS = [1_000, 5_000];

export class GithubChecks {
  readonly #options: GithubChecksOptions;

  constructor(options: GithubChecksOptions) {
    this.#options = options;
  }

  /** Creates a check run on `head_sha`; resolves with its id. */
  async create(repository: Repository, checkRun: NewCheckRun): Promise<number> {
    const answer = await this.#call("POST", `${checkRunsPath(repository)}`, checkRun);
    const id = (answer as { id?: unknown } | undefined)?.id;
    if (typeof id !== "number") throw new GithubApiError("GitHub's answer to creating a check run has no id");
    return id;
  }

  async update(repository: Repository, checkRunId: number, update: CompletedCheckRun): Promise<void> {
    await this.#call("PATCH", `${checkRunsPath(repository)}/${checkRunId}`, update);
  }

  async #call(method: "POST" | "PATCH", path: string, body: unknown): Promise<unknown> {
    const { tokens, signal } = this.#options;
    const delays = this.#options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    let tokenReplaced = false;
    let retries = 0;
    for (;;) {
      try {
        const token = await tokens.token();
        return await callGithub({
          method,
          url: this.#options.apiUrl + path,
          authorization: `token ${token}`,
          body,
          fetch: this.#options.fetch ?? fetch,
          timeoutMs: this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
          signal,
        });
      } catch (error) {
        if (!(error instanceof GithubApiError) || signal?.aborted) throw error;
        if (error.status === 401 && !tokenReplaced) {
          tokens.invalidate();
          tokenReplaced = true;
          continue;
        }
        const pause = delays[retries];
        if (!error.retryable || pause === undefined) throw error;
        retries += 1;
        try {
          await sleep(pause, undefined, signal ? { signal } : {});
        } catch {
          throw error;
        }
      }
    }
  }
}

function checkRunsPath({ owner, repo }: Repository): string {
  return `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/check-runs`;
}
