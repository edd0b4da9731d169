/**
 * The pipeline configuration model: Gofer's v0 registration wire format, the `config` in
 * `POST /api/namespaces/{namespace_id}/pipelines/{pipeline_id}/configs`.
 *
 * {@link PipelineConfig} and {@link TaskConfig} are the canonical, normalised shapes: every field is present,
 * absent optional values are `null`, and `depends_on` conditions are PascalCase. This is what the validator
 * returns, what a client sends and what the server stores. The looser {@link PipelineConfigInput} describes what
 * the validator also accepts from hand-written JSON.
 *
 * The exceptions to "every field is present" are the extensions of v0 (a task's `resources`, `timeout` and
 * `retries`; a pipeline's `timeout`, `concurrency` and `subscriptions`): each is left out when unused, so a
 * config without them is exactly v0 and servers and clients that predate them see nothing new. When present
 * they are complete: the validator fills in every default.
 */

import type { TaskResources } from "./resource-quantities.ts";

/**
 * The final state a parent task must reach for a dependent task to run. A task waits until every parent has
 * finished; if any parent's condition is not met the task is skipped, and the skip reaches its own dependents
 * unless they wait on it with `Any`.
 *
 * - `Any`: the parent succeeded, failed or was skipped. A cancelled parent does not count.
 * - `Success`: the parent succeeded.
 * - `Failure`: the parent failed. Use it for clean-up or alerting tasks.
 * - `Unknown`: never met, so the dependent task is always skipped. Kept only because Gofer's wire format has it.
 *
 * PascalCase is the canonical form (Gofer's SDKs send it in registration requests). The validator also accepts
 * the lowercase spelling Gofer's server stores and returns (`"success"`) and normalises it to PascalCase.
 */
export type RequiredParentStatus = "Any" | "Success" | "Failure" | "Unknown";

/** What the validator accepts for a `depends_on` condition: the canonical PascalCase or all lowercase. */
export type RequiredParentStatusInput = RequiredParentStatus | Lowercase<RequiredParentStatus>;

/** Every {@link RequiredParentStatus}, in the order error messages list them. */
export const REQUIRED_PARENT_STATUSES: readonly RequiredParentStatus[] = [
  "Any",
  "Success",
  "Failure",
  "Unknown",
];

/** The canonical form of a condition, or `undefined` if it is neither PascalCase nor lowercase. */
export function normaliseRequiredParentStatus(value: string): RequiredParentStatus | undefined {
  return REQUIRED_PARENT_STATUSES.find((status) => status === value || status.toLowerCase() === value);
}

/** Credentials for pulling a task's image from a private registry. */
export interface RegistryAuth {
  /** The registry user name. */
  user: string;
  /** The password or access token for {@link RegistryAuth.user}. */
  pass: string;
}

/** One container in a pipeline: what to run, with which environment, and after which other tasks. */
export interface TaskConfig {
  /**
   * Unique within the pipeline; `depends_on` refers to tasks by it. 1–64 letters, digits, `-` and `_`,
   * starting with a letter or digit (`build`, `run-tests`, `task_one`).
   */
  id: string;
  /** What the task is for, shown in the CLI and web UI. `null` when there is none. */
  description: string | null;
  /** The container image to run, as Docker understands it: `ubuntu:latest`, `ghcr.io/org/tool@sha256:…`. */
  image: string;
  /** Credentials for pulling {@link TaskConfig.image} from a private registry; `null` pulls anonymously. */
  registry_auth: RegistryAuth | null;
  /**
   * The tasks this one waits for, by id, each with the final state that parent must reach (see
   * {@link RequiredParentStatus}). Empty: the task starts as soon as the run does. Must not form a cycle.
   */
  depends_on: Record<string, RequiredParentStatus>;
  /**
   * Environment variables for the container. A value may instead name a secret or object to be resolved when
   * the task starts: the whole value is then `pipeline_secret{{key}}`, `global_secret{{key}}`,
   * `pipeline_object{{key}}` or `run_object{{key}}`. Run variables override these; Gofer's own `GOFER_*`
   * variables are set alongside. Keys are compared case-insensitively at run time, so `foo` and `FOO` collide.
   */
  variables: Record<string, string>;
  /** Replaces the image's ENTRYPOINT. `null` keeps the image's own. */
  entrypoint: string[] | null;
  /** Replaces the image's CMD, e.g. `["bash", "-c", "make test"]`. `null` keeps the image's own. */
  command: string[] | null;
  /**
   * Give the task a Gofer API token scoped to its run, in `GOFER_API_TOKEN` (and `GOFER_TOKEN`, which Gofer's CLI reads), so it can call the API
   * (read objects, start other runs).
   */
  inject_api_token: boolean;
  /**
   * Pull the image before every run even when a copy is present locally. `false` pulls only when the image is
   * missing, which is faster and works offline but will not notice a moved tag such as `latest`.
   */
  always_pull_newest_image: boolean;
  /**
   * CPU and memory limits (an extension of v0; see `TaskResources` for the quantities). Absent, or an absent
   * field: no limit. Docker applies them as limits; Kubernetes as requests and limits. Servers and clients
   * that predate the field ignore it.
   */
  resources?: TaskResources;
  /**
   * The longest one attempt of the task may run, as a Go-style duration ("10m", "1h30m"; an extension of v0).
   * When it passes, the container is stopped as on cancel and the attempt ends `failed` with reason `timeout`.
   * Absent: the server's `api.task_timeout_default` (none unless set); never above `api.task_timeout_max`.
   */
  timeout?: string;
  /** Try the task again when an attempt ends in one of the listed ways (an extension of v0). */
  retries?: TaskRetries;
}

/** How an attempt of a task may end and be retried: non-zero exit, its timeout, the engine, its container lost. */
export type RetryCause = "failure" | "timeout" | "scheduler_error" | "orphaned";

/** Every {@link RetryCause}, the default of {@link TaskRetries.on}. */
export const RETRY_CAUSES: readonly RetryCause[] = ["failure", "timeout", "scheduler_error", "orphaned"];

/**
 * A task's retry policy. Attempt `n + 1` starts `delay × factor^(n − 1)` (at most `max_delay`) after attempt `n`
 * ended; dependents wait for the final attempt.
 */
export interface TaskRetries {
  /** How many more attempts after the first, 1–10. */
  limit: number;
  /** Before the first retry, a Go-style duration. Default "1s". */
  delay: string;
  /** Each further delay is the previous one times this, ≥ 1. Default 2. */
  factor: number;
  /** The longest delay. Default "5m". */
  max_delay: string;
  /** Which endings are retried. Default: all of {@link RETRY_CAUSES}. */
  on: RetryCause[];
}

/** Runs that must not overlap: one at a time per resolved group, in order of arrival. */
export interface RunConcurrency {
  /** The group's name; `${NAME}` is replaced by the run variable NAME, e.g. `deploy-${BRANCH}`. */
  group: string;
  /** A new run cancels the older queued and running runs of its group (reason `superseded`). Default false. */
  cancel_in_progress: boolean;
}

/** A subscription the pipeline declares: deploying the version makes it exist with these settings. */
export interface DeclaredSubscription {
  extension_id: string;
  subscription_id: string;
  settings: Record<string, string>;
}

/** A pipeline: a directed acyclic graph of container tasks that run together as one run. */
export interface PipelineConfig {
  /**
   * Unique within its namespace; must equal the `{pipeline_id}` of the URL the config is registered at.
   * 3–32 letters, digits and hyphens.
   */
  id: string;
  /** A human-readable name, shown in listings. Must not be blank. */
  name: string;
  /** What the pipeline does. `null` when there is none. */
  description: string | null;
  /**
   * How many runs of this pipeline may be in progress at once; further runs wait in the `pending` state.
   * `0` means "use the server's default per-pipeline limit" (`api.pipeline_run_concurrency_limit`).
   */
  parallelism: number;
  /**
   * The tasks, at least one. Their order does not decide when they run (`depends_on` does); it only breaks
   * ties, e.g. in `topologicalOrder`.
   */
  tasks: TaskConfig[];
  /**
   * The longest a whole run may take, a Go-style duration (an extension of v0): its unfinished tasks are then
   * stopped and the run ends `failed` with reason `timeout`.
   */
  timeout?: string;
  /** Runs of one group run one at a time (an extension of v0). */
  concurrency?: RunConcurrency;
  /** Subscriptions the live version declares (an extension of v0); deploying reconciles them. */
  subscriptions?: DeclaredSubscription[];
}

/**
 * A task as the validator accepts it: `description`, `registry_auth`, `entrypoint` and `command` may be left out
 * (they become `null`), `depends_on` conditions may be lowercase, and `resources` may be `null` or `{}` (both
 * become absent).
 */
export interface TaskConfigInput
  extends Omit<
    TaskConfig,
    "description" | "registry_auth" | "entrypoint" | "command" | "depends_on" | "resources" | "retries"
  > {
  description?: string | null;
  retries?: Partial<TaskRetries> | null;
  resources?: TaskResources | null;
  registry_auth?: RegistryAuth | null;
  depends_on: Record<string, RequiredParentStatusInput>;
  entrypoint?: string[] | null;
  command?: string[] | null;
}

/** A pipeline as the validator accepts it: `description` may be left out (it becomes `null`). */
export interface PipelineConfigInput
  extends Omit<PipelineConfig, "description" | "tasks" | "concurrency" | "subscriptions"> {
  description?: string | null;
  concurrency?: Partial<RunConcurrency> | null;
  subscriptions?: Array<
    Omit<DeclaredSubscription, "settings"> & { settings?: Record<string, string> }
  > | null;
  tasks: TaskConfigInput[];
}
