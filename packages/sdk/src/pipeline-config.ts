/**
 * The pipeline configuration model: Gofer's v0 registration wire format, the `config` in
 * `POST /api/namespaces/{namespace_id}/pipelines/{pipeline_id}/configs`.
 *
 * {@link PipelineConfig} and {@link TaskConfig} are the canonical, normalised shapes: every field is present,
 * absent optional values are `null`, and `depends_on` conditions are PascalCase. This is what the validator
 * returns, what a client sends and what the server stores. The looser {@link PipelineConfigInput} describes what
 * the validator also accepts from hand-written JSON.
 *
 * The one exception to "every field is present" is a task's `resources`, an extension of v0: it is left out
 * when the task declares none, so a config without limits is exactly v0 and servers and clients that predate
 * the field see nothing new.
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
   * Give the task a Gofer API token scoped to its run, in the `GOFER_TOKEN` variable, so it can call the API
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
}

/**
 * A task as the validator accepts it: `description`, `registry_auth`, `entrypoint` and `command` may be left out
 * (they become `null`), `depends_on` conditions may be lowercase, and `resources` may be `null` or `{}` (both
 * become absent).
 */
export interface TaskConfigInput
  extends Omit<
    TaskConfig,
    "description" | "registry_auth" | "entrypoint" | "command" | "depends_on" | "resources"
  > {
  description?: string | null;
  resources?: TaskResources | null;
  registry_auth?: RegistryAuth | null;
  depends_on: Record<string, RequiredParentStatusInput>;
  entrypoint?: string[] | null;
  command?: string[] | null;
}

/** A pipeline as the validator accepts it: `description` may be left out (it becomes `null`). */
export interface PipelineConfigInput extends Omit<PipelineConfig, "description" | "tasks"> {
  description?: string | null;
  tasks: TaskConfigInput[];
}
