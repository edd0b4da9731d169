/**
 * The fluent builder pipeline authors write their pipelines with. Builders only collect values: every rule is
 * checked once, by `validatePipelineConfig` in `finish()`, so a builder refuses exactly what the server would.
 */

import type {
  DeclaredSubscription,
  PipelineConfig,
  PipelineConfigInput,
  RegistryAuth,
  RetryCause,
  RunConcurrency,
  TaskConfigInput,
  TaskRetries,
} from "./pipeline-config.ts";
import { PipelineConfigError } from "./pipeline-config-error.ts";
import type { TaskResources } from "./resource-quantities.ts";
import { validatePipelineConfig } from "./validate-pipeline.ts";

/**
 * The final state a parent task must reach for a task that depends on it to run:
 *
 * - `"success"`: the parent succeeded.
 * - `"failure"`: the parent failed. Use it for clean-up or alerting tasks.
 * - `"any"`: the parent finished, whether it succeeded, failed or was skipped. A cancelled parent does not count.
 *
 * If a parent's condition is not met the task is skipped. These become `"Success"`, `"Failure"` and `"Any"` in
 * the config.
 */
export type DependsOnCondition = "success" | "failure" | "any";

/**
 * Starts a pipeline: a set of container tasks that run together, each once its parents have finished. Add tasks
 * with {@link PipelineBuilder.tasks}; a pipeline module's default export is the builder (or the config that
 * {@link PipelineBuilder.finish} returns).
 *
 * @param id unique within its namespace: 3–32 letters, digits and hyphens.
 * @param name a human-readable name, shown in listings.
 *
 * @example
 * ```ts
 * import { pipeline, pipelineSecret, task } from "@gofer/sdk";
 *
 * const build = task("build", "node:24").script(`
 *   npm ci
 *   npm run build
 * `);
 *
 * export default pipeline("web-app", "Web app")
 *   .description("Builds and publishes the site")
 *   .parallelism(1)
 *   .tasks(
 *     build,
 *     task("publish", "node:24")
 *       .dependsOn(build)
 *       .variables({ NPM_TOKEN: pipelineSecret("npm_token") })
 *       .command("npm", "publish"),
 *   );
 * ```
 */
export function pipeline(id: string, name: string): PipelineBuilder {
  return new PipelineBuilder(id, name);
}

/**
 * Starts a task: one container, run once per run of the pipeline it is added to.
 *
 * @param id unique within the pipeline; other tasks name it in {@link TaskBuilder.dependsOn}. 1–64 letters,
 * digits, `-` and `_`, starting with a letter or digit.
 * @param image the container image to run, as Docker understands it: `node:24`, `ghcr.io/org/tool@sha256:…`.
 *
 * @example
 * ```ts
 * const test = task("test", "node:24")
 *   .description("Unit tests")
 *   .dependsOn("build")
 *   .variables({ CI: "true" })
 *   .script(`
 *     npm ci
 *     npm test
 *   `);
 *
 * const alert = task("alert", "curlimages/curl:8")
 *   .dependsOn(test, "failure")
 *   .variables({ WEBHOOK: globalSecret("alerts_webhook") })
 *   .script('curl -fsS -d "tests failed in run $GOFER_RUN_ID" "$WEBHOOK"');
 * ```
 */
export function task(id: string, image: string): TaskBuilder {
  return new TaskBuilder(id, image);
}

/**
 * Whether `value` is a pipeline builder rather than, say, a finished config object. It looks for a `finish`
 * method instead of checking the class, because a pipeline module may load its own copy of `@gofer/sdk`.
 */
export function isPipelineBuilder(value: unknown): value is PipelineBuilder {
  return (
    typeof value === "object" && value !== null && "finish" in value && typeof value.finish === "function"
  );
}

// Lets PipelineBuilder read a task's private state without making it part of TaskBuilder's public API.
let snapshotTask: (builder: TaskBuilder) => TaskConfigInput;

/** Collects one task's settings; made by {@link task}. Each method returns the builder, for chaining. */
export class TaskBuilder {
  readonly #id: string;
  readonly #image: string;
  #description: string | null = null;
  #registryAuth: RegistryAuth | null = null;
  #dependsOn: Record<string, DependsOnCondition> = {};
  #variables: Record<string, string> = {};
  #entrypoint: string[] | null = null;
  #command: string[] | null = null;
  #injectApiToken = false;
  #alwaysPullNewestImage = false;
  #resources: TaskResources = {};
  #timeout: string | null = null;
  #retries: Partial<TaskRetries> | null = null;

  static {
    snapshotTask = (builder) => builder.#snapshot();
  }

  /** Prefer {@link task}. */
  constructor(id: string, image: string) {
    this.#id = id;
    this.#image = image;
  }

  /** The task's id, as given to {@link task}. */
  get id(): string {
    return this.#id;
  }

  /** What the task is for, shown in the CLI and web UI. Replaces an earlier description. */
  description(text: string): this {
    this.#description = text;
    return this;
  }

  /**
   * Adds environment variables for the container, merged over those added before (a key given again takes the
   * new value). The record is copied. A value may be a reference made by `pipelineSecret`, `globalSecret`,
   * `pipelineObject` or `runObject`, resolved when the task starts. Run variables override these.
   */
  variables(variables: Readonly<Record<string, string>>): this {
    this.#variables = { ...this.#variables, ...variables };
    return this;
  }

  /**
   * Replaces the image's ENTRYPOINT with `args`. Without a call the image's own entrypoint is used.
   *
   * @example `task("lint", "node:24").entrypoint("npx").command("biome", "check")`
   */
  entrypoint(...args: string[]): this {
    this.#entrypoint = [...args];
    return this;
  }

  /**
   * Replaces the image's CMD with `args`: the arguments passed to the entrypoint. Without a call the image's
   * own CMD is used.
   *
   * @example `task("hello", "busybox:latest").command("echo", "hello")`
   */
  command(...args: string[]): this {
    this.#command = [...args];
    return this;
  }

  /**
   * Runs `text` as a shell script: sets the entrypoint to `["/bin/sh", "-ec"]` and the command to the script
   * alone, so the container runs `/bin/sh -ec <script>`. With `-e` the shell stops at the first command that
   * fails and the task fails with that command's exit code, within the usual limits of `set -e` (a failure in
   * an `if` condition, after `||` or `&&`, or before the last command of a pipe does not stop it). The image
   * must contain `/bin/sh`.
   *
   * So that a template literal can be indented along with the code around it, the text is tidied first:
   *
   * 1. Lines that are empty or hold only spaces and tabs are blank. Blank lines at the start and the end are
   *    removed.
   * 2. The longest run of spaces and tabs that every remaining non-blank line starts with, compared character
   *    by character (a tab does not match spaces), is removed from the start of each of those lines.
   * 3. Blank lines in between become empty.
   *
   * Nothing else changes: deeper indentation (a heredoc's body, say), the rest of each line and the line
   * breaks between lines are kept, and no newline is added at the end. Replaces any entrypoint and command set
   * before; a later {@link TaskBuilder.entrypoint} or {@link TaskBuilder.command} replaces the part it sets.
   *
   * @example
   * ```ts
   * task("release", "alpine:3").script(`
   *   apk add --no-cache git
   *   if [ -n "$TAG" ]; then
   *     git tag "$TAG"
   *   fi
   * `);
   * // command: ['apk add --no-cache git\nif [ -n "$TAG" ]; then\n  git tag "$TAG"\nfi']
   * ```
   */
  script(text: string): this {
    this.#entrypoint = ["/bin/sh", "-ec"];
    this.#command = [dedent(text)];
    return this;
  }

  /**
   * Makes the task wait for `parent` to finish, and run only if `parent` ended in `condition` (see
   * {@link DependsOnCondition}); otherwise it is skipped. Call it once per parent; calling it again for the
   * same parent replaces its condition. The parent must be added to the same pipeline.
   *
   * @param parent the parent task's id, or its builder.
   * @param condition `"success"` unless given.
   */
  dependsOn(parent: string | TaskBuilder, condition: DependsOnCondition = "success"): this {
    const parentId = typeof parent === "string" ? parent : parent.id;
    this.#dependsOn = { ...this.#dependsOn, [parentId]: condition };
    return this;
  }

  /** Credentials for pulling the image from a private registry. Without a call the image is pulled anonymously. */
  registryAuth(user: string, pass: string): this {
    this.#registryAuth = { user, pass };
    return this;
  }

  /**
   * Gives the task a Gofer API token scoped to its run, in `GOFER_API_TOKEN` (and `GOFER_TOKEN`, which Gofer's CLI reads), so it can call the API
   * (read and write objects, start other runs).
   *
   * @param flag `true` unless given; `false` undoes an earlier call.
   */
  injectApiToken(flag = true): this {
    this.#injectApiToken = flag;
    return this;
  }

  /**
   * Pulls the image before every run even when a copy is present locally, so a moved tag such as `latest` is
   * noticed. Without it the image is pulled only when missing, which is faster and works offline.
   *
   * @param flag `true` unless given; `false` undoes an earlier call.
   */
  alwaysPullNewestImage(flag = true): this {
    this.#alwaysPullNewestImage = flag;
    return this;
  }

  /**
   * Limits the CPU and memory the task's container may use, merged over earlier calls (a field given again
   * takes the new value). Without a call, or for a field never given, there is no limit. Quantities are
   * written as in Kubernetes and checked in `finish()`:
   *
   * - `cpu`: cores (`"0.5"`, `"2"`) or millicores (`"500m"`); from `"10m"` to `"1024"`.
   * - `memory`: bytes (`"1000000"`), or with a suffix: `Ki`, `Mi`, `Gi`, `Ti` (powers of 1024) or `k`, `M`,
   *   `G`, `T` (powers of 1000); from `"6Mi"` to `"1Pi"`. A task that uses more is killed (exit code 137).
   *
   * Docker applies them as limits; Kubernetes as requests and limits. An extension of v0: servers that predate
   * it ignore the field.
   *
   * @example `task("build", "node:24").resources({ cpu: "0.5", memory: "256Mi" })`
   */
  resources(resources: Readonly<TaskResources>): this {
    this.#resources = { ...this.#resources, ...definedFields(resources) };
    return this;
  }

  /**
   * The longest one attempt of the task may run, a Go-style duration (`"90s"`, `"10m"`, `"1h30m"`; at most
   * `"168h"`), checked in `finish()`. When it passes the container is stopped and the attempt fails with reason
   * `timeout` (retried if {@link TaskBuilder.retries} lists `"timeout"`). Without a call the server's default
   * applies. Replaces an earlier timeout; `null` removes it. An extension of v0.
   *
   * @example `task("test", "node:24").timeout("10m").command("npm", "test")`
   */
  timeout(duration: string | null): this {
    this.#timeout = duration;
    return this;
  }

  /**
   * Tries the task again when an attempt fails, up to `limit` more times (1–10). Attempt `n + 1` starts
   * `delay × factor^(n − 1)` after attempt `n` ended, at most `maxDelay`; dependents wait for the last attempt.
   * A number is shorthand for `{ limit }`. Defaults: `delay` `"1s"`, `factor` 2, `maxDelay` `"5m"`, `on` every
   * cause (`"failure"`: non-zero exit, `"timeout"`, `"scheduler_error"`, `"orphaned"`: its container was
   * lost). Replaces an earlier policy; `null` removes it. Checked in `finish()`. An extension of v0.
   *
   * @example
   * ```ts
   * task("flaky-e2e", "node:24").retries(2);
   * task("upload", "amazon/aws-cli:2")
   *   .retries({ limit: 3, delay: "2s", factor: 3, maxDelay: "1m", on: ["failure", "timeout"] });
   * ```
   */
  retries(policy: number | RetriesOptions | null): this {
    if (policy === null || typeof policy === "number") {
      this.#retries = policy === null ? null : { limit: policy };
      return this;
    }
    const { maxDelay, on, ...rest } = policy;
    this.#retries = definedFields({
      ...rest,
      ...(maxDelay !== undefined && { max_delay: maxDelay }),
      ...(on !== undefined && { on: [...on] }),
    });
    return this;
  }

  #snapshot(): TaskConfigInput {
    return {
      id: this.#id,
      description: this.#description,
      image: this.#image,
      registry_auth: this.#registryAuth === null ? null : { ...this.#registryAuth },
      depends_on: { ...this.#dependsOn },
      variables: { ...this.#variables },
      entrypoint: this.#entrypoint === null ? null : [...this.#entrypoint],
      command: this.#command === null ? null : [...this.#command],
      inject_api_token: this.#injectApiToken,
      always_pull_newest_image: this.#alwaysPullNewestImage,
      ...(Object.keys(this.#resources).length > 0 && { resources: { ...this.#resources } }),
      ...(this.#timeout !== null && { timeout: this.#timeout }),
      ...(this.#retries !== null && {
        retries: { ...this.#retries, ...(this.#retries.on && { on: [...this.#retries.on] }) },
      }),
    };
  }
}

/** A task's retry policy for {@link TaskBuilder.retries}; see `TaskRetries` for the fields. */
export interface RetriesOptions {
  /** How many more attempts after the first, 1–10. */
  limit: number;
  /** Before the first retry, a Go-style duration. Default `"1s"`. */
  delay?: string;
  /** Each further delay is the previous one times this, 1 or more. Default 2. */
  factor?: number;
  /** The longest delay. Default `"5m"`. */
  maxDelay?: string;
  /** Which endings are retried. Default: all of them. */
  on?: readonly RetryCause[];
}

/** Options of {@link PipelineBuilder.concurrency}. */
export interface ConcurrencyOptions {
  /** A new run cancels the older queued and running runs of its group (reason `superseded`). Default false. */
  cancelInProgress?: boolean;
}

/** Collects a pipeline's settings and tasks; made by {@link pipeline}. Each method but `finish` returns the builder. */
export class PipelineBuilder {
  readonly #id: string;
  readonly #name: string;
  #description: string | null = null;
  #parallelism = 0;
  readonly #tasks: TaskConfigInput[] = [];
  #timeout: string | null = null;
  #concurrency: RunConcurrency | null = null;
  readonly #subscriptions: DeclaredSubscription[] = [];

  /** Prefer {@link pipeline}. */
  constructor(id: string, name: string) {
    this.#id = id;
    this.#name = name;
  }

  /** What the pipeline does, shown in the CLI and web UI. Replaces an earlier description. */
  description(text: string): this {
    this.#description = text;
    return this;
  }

  /**
   * How many runs of the pipeline may be in progress at once; further runs wait, pending, until one finishes.
   * Without a call it is `0`: the server's default limit.
   */
  parallelism(limit: number): this {
    this.#parallelism = limit;
    return this;
  }

  /**
   * The longest a whole run may take, a Go-style duration (`"30m"`, `"1h"`; at most `"168h"`), checked in
   * `finish()`: the run's unfinished tasks are then stopped and the run fails with reason `timeout`. Replaces
   * an earlier timeout; `null` removes it. An extension of v0.
   *
   * @example `pipeline("nightly", "Nightly build").timeout("1h")`
   */
  timeout(duration: string | null): this {
    this.#timeout = duration;
    return this;
  }

  /**
   * Runs of one group run one at a time, in order of arrival; the others wait, pending. `group` may name run
   * variables as `${NAME}` (letters, digits and `_`), replaced when a run starts (a variable the run does not
   * set becomes empty), so `"deploy-${BRANCH}"` serialises deploys per branch. With `cancelInProgress` a new
   * run cancels the older queued and running runs of its group (reason `superseded`). Also takes the config's
   * own shape, `{ group, cancel_in_progress }`. Replaces an earlier call; `null` removes it. An extension of v0.
   *
   * @example
   * ```ts
   * pipeline("deploy", "Deploy").concurrency("deploy-${BRANCH}", { cancelInProgress: true });
   * pipeline("release", "Release").concurrency({ group: "release", cancel_in_progress: false });
   * ```
   */
  concurrency(
    group: string | (Pick<RunConcurrency, "group"> & Partial<RunConcurrency>) | null,
    options: ConcurrencyOptions = {},
  ): this {
    if (group === null) this.#concurrency = null;
    else if (typeof group === "string") {
      this.#concurrency = { group, cancel_in_progress: options.cancelInProgress ?? false };
    } else {
      this.#concurrency = { group: group.group, cancel_in_progress: group.cancel_in_progress ?? false };
    }
    return this;
  }

  /**
   * Declares a subscription to an installed extension: deploying this version makes the pipeline subscribed
   * with these settings (and removes subscriptions an earlier deployed version declared and this one does
   * not). `settings` are the extension's subscription parameters (see `gofer extension get`). Call once per
   * subscription; an extension and subscription id given twice is refused in `finish()`. An extension of v0.
   *
   * @param extensionId the installed extension, e.g. `"interval"`.
   * @param subscriptionId names this subscription within the pipeline: 3–32 letters, digits and hyphens.
   *
   * @example
   * ```ts
   * pipeline("nightly", "Nightly build")
   *   .subscribe("interval", "nightly", { every: "24h" })
   *   .subscribe("cron", "weekdays", { expression: "0 6 * * 1-5" });
   * ```
   */
  subscribe(
    extensionId: string,
    subscriptionId: string,
    settings: Readonly<Record<string, string>> = {},
  ): this {
    this.#subscriptions.push({
      extension_id: extensionId,
      subscription_id: subscriptionId,
      settings: { ...settings },
    });
    return this;
  }

  /**
   * Adds tasks after those added before. Each task is copied as it is now: changing its builder afterwards
   * does not change this pipeline, so finish a task's settings before adding it. The order of tasks does not
   * decide when they run (`dependsOn` does).
   *
   * @throws TypeError if an argument is not made by {@link task}; no task is added then.
   */
  tasks(...tasks: TaskBuilder[]): this {
    const index = tasks.findIndex((builder: unknown) => !(builder instanceof TaskBuilder));
    if (index !== -1) {
      throw new TypeError(`tasks(): argument ${index + 1} is not a task; make tasks with task(id, image)`);
    }
    this.#tasks.push(...tasks.map(snapshotTask));
    return this;
  }

  /**
   * Checks the pipeline with the same rules the server applies on registration and returns its config: the JSON
   * that `POST /api/namespaces/{namespace_id}/pipelines/{pipeline_id}/configs` takes, with every field present
   * and conditions in PascalCase. Each call returns a new object; the builder is unchanged and may be finished
   * again.
   *
   * @throws PipelineConfigError listing every problem (an invalid id, a duplicate task id, a parent that does
   * not exist, a dependency cycle, a limit exceeded, …), each naming its task.
   */
  finish(): PipelineConfig {
    const input: PipelineConfigInput = {
      id: this.#id,
      name: this.#name,
      description: this.#description,
      parallelism: this.#parallelism,
      tasks: this.#tasks,
      ...(this.#timeout !== null && { timeout: this.#timeout }),
      ...(this.#concurrency !== null && { concurrency: { ...this.#concurrency } }),
      ...(this.#subscriptions.length > 0 && {
        subscriptions: this.#subscriptions.map((entry) => ({ ...entry, settings: { ...entry.settings } })),
      }),
    };
    const result = validatePipelineConfig(input);
    if (!result.ok) throw new PipelineConfigError(result.problems, this.#id);
    return result.config;
  }
}

// `{ cpu: undefined }` (an optional value passed through) must not clear a limit given earlier, nor stand for a
// field the validator should fill with its default.
function definedFields<T extends object>(fields: Readonly<T>): T {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as T;
}

const BLANK_LINE = /^[ \t]*$/;

function dedent(text: string): string {
  const lines = text.split("\n");
  const first = lines.findIndex((line) => !BLANK_LINE.test(line));
  if (first === -1) return "";
  const last = lines.findLastIndex((line) => !BLANK_LINE.test(line));
  const body = lines.slice(first, last + 1);
  const indent = body
    .filter((line) => !BLANK_LINE.test(line))
    .map((line) => /^[ \t]*/.exec(line)?.[0] ?? "")
    .reduce(commonPrefix);
  return body.map((line) => (BLANK_LINE.test(line) ? "" : line.slice(indent.length))).join("\n");
}

function commonPrefix(a: string, b: string): string {
  let length = 0;
  while (length < a.length && a[length] === b[length]) length += 1;
  return a.slice(0, length);
}
