/**
 * What registering a pipeline config would change against the live version, task by task, for `gofer up` to
 * show before it registers.
 *
 * Both sides are v0 registration configs ({@link PipelineConfig}); turn the server's stored version into one
 * with `liveConfigFromVersion`. Compared: the pipeline's name, description, parallelism, timeout and concurrency,
 * its declared subscriptions (matched by extension and subscription id), and every field of every task (matched
 * by id). Not compared: the pipeline id, since both sides are versions of one pipeline, and
 * the order of tasks, which does not change how a run executes.
 *
 * Equal even when they look different, because the server's stored copy loses the difference: an empty
 * description and none (`""` and `null`); a condition in either case (`"success"` and `"Success"`); and a registry
 * password of `[redacted]` (how the server returns every password) with any password, so a changed password
 * alone is not detected against a stored version.
 *
 * Variable values, subscription settings and registry credentials may hold secrets and never appear in the diff:
 * only the keys of the variables and settings that changed, and whether the credentials did.
 */
import { styleText } from "node:util";
import type {
  DeclaredSubscription,
  PipelineConfig,
  RequiredParentStatus,
  RunConcurrency,
  TaskConfig,
  TaskResources,
  TaskRetries,
} from "@gofer/sdk";
import { RETRY_CAUSES } from "@gofer/sdk";

/** A pipeline field that differs; `null` stands for an extension of v0 the config leaves out. */
export type PipelineFieldChange =
  | { field: "name"; from: string; to: string }
  | { field: "description"; from: string | null; to: string | null }
  | { field: "parallelism"; from: number; to: number }
  | { field: "timeout"; from: string | null; to: string | null }
  | { field: "concurrency"; from: RunConcurrency | null; to: RunConcurrency | null };

/** The task fields compared, in the order a change lists them. */
export type TaskField =
  | "image"
  | "command"
  | "entrypoint"
  | "variables"
  | "depends_on"
  | "registry_auth"
  | "inject_api_token"
  | "always_pull_newest_image"
  | "resources"
  | "timeout"
  | "retries"
  | "description";

export const TASK_FIELDS: readonly TaskField[] = [
  "image",
  "command",
  "entrypoint",
  "variables",
  "depends_on",
  "registry_auth",
  "inject_api_token",
  "always_pull_newest_image",
  "resources",
  "timeout",
  "retries",
  "description",
];

/** Which keys of a map were added, removed or given another value; each list in the order of its config. */
export interface KeyChanges {
  added: string[];
  removed: string[];
  changed: string[];
}

export interface DependencyChanges {
  added: Array<{ parent: string; condition: RequiredParentStatus }>;
  removed: string[];
  changed: Array<{ parent: string; from: RequiredParentStatus; to: RequiredParentStatus }>;
}

/** A task present on both sides whose fields differ. */
export interface TaskChange {
  id: string;
  /** The fields that differ, in {@link TASK_FIELDS} order. */
  fields: TaskField[];
  /** Set when `image` changed. */
  image?: { from: string; to: string };
  /** Set when `variables` changed: keys only, never values. */
  variables?: KeyChanges;
  /** Set when `depends_on` changed. */
  dependsOn?: DependencyChanges;
  /** Set when `inject_api_token` changed: its new value. */
  injectApiToken?: boolean;
  /** Set when `always_pull_newest_image` changed: its new value. */
  alwaysPullNewestImage?: boolean;
  /** Set when `resources` changed: each limit that changed, `null` where there is none. */
  resources?: ResourceChange[];
  /** Set when `timeout` changed; `null` where there is none. */
  timeout?: { from: string | null; to: string | null };
  /** Set when `retries` changed; `null` where there is none. */
  retries?: { from: TaskRetries | null; to: TaskRetries | null };
}

/** A declared subscription, by its ids. */
export interface SubscriptionRef {
  extensionId: string;
  subscriptionId: string;
}

/** What deploying would change in the declared subscriptions; settings by key only, never values. */
export interface SubscriptionChanges {
  /** In the order of the new config, each with the keys of its settings. */
  added: Array<SubscriptionRef & { settings: string[] }>;
  /** In the order of the live config. */
  removed: SubscriptionRef[];
  /** Declared on both sides with other settings; in the order of the new config. */
  changed: Array<SubscriptionRef & { settings: KeyChanges }>;
}

/** One limit of a task's `resources` that changed, as written in the configs. */
export interface ResourceChange {
  field: keyof TaskResources;
  from: string | null;
  to: string | null;
}

export interface ConfigDiff {
  pipelineId: string;
  /** No version is live, so everything is new: the tasks are all in `addedTasks` and `pipeline` is empty. */
  firstVersion: boolean;
  /** Nothing differs: registering would add a version identical to the live one. */
  identical: boolean;
  pipeline: PipelineFieldChange[];
  /** Declared subscriptions added, removed or with changed settings (on a first version: all added). */
  subscriptions: SubscriptionChanges;
  /** In the order of the new config. */
  addedTasks: Array<{ id: string; image: string }>;
  /** In the order of the live config. */
  removedTasks: string[];
  /** In the order of the new config. */
  changedTasks: TaskChange[];
  /** How many tasks are on both sides and equal. */
  unchangedTasks: number;
}

/** Compares the config about to be registered, `next`, with the `live` one (`undefined`: none is live). */
export function diffPipelineConfigs(live: PipelineConfig | undefined, next: PipelineConfig): ConfigDiff {
  if (live === undefined) {
    return {
      pipelineId: next.id,
      firstVersion: true,
      identical: false,
      pipeline: [],
      subscriptions: diffSubscriptions(undefined, next.subscriptions),
      addedTasks: next.tasks.map((task) => ({ id: task.id, image: task.image })),
      removedTasks: [],
      changedTasks: [],
      unchangedTasks: 0,
    };
  }

  const pipeline: PipelineFieldChange[] = [];
  if (live.name !== next.name) pipeline.push({ field: "name", from: live.name, to: next.name });
  if (!sameText(live.description, next.description)) {
    pipeline.push({ field: "description", from: live.description, to: next.description });
  }
  if (live.parallelism !== next.parallelism) {
    pipeline.push({ field: "parallelism", from: live.parallelism, to: next.parallelism });
  }
  if ((live.timeout ?? null) !== (next.timeout ?? null)) {
    pipeline.push({ field: "timeout", from: live.timeout ?? null, to: next.timeout ?? null });
  }
  if (!sameConcurrency(live.concurrency, next.concurrency)) {
    pipeline.push({ field: "concurrency", from: live.concurrency ?? null, to: next.concurrency ?? null });
  }
  const subscriptions = diffSubscriptions(live.subscriptions, next.subscriptions);

  const liveTasks = new Map(live.tasks.map((task) => [task.id, task]));
  const nextIds = new Set(next.tasks.map((task) => task.id));
  const addedTasks: ConfigDiff["addedTasks"] = [];
  const changedTasks: TaskChange[] = [];
  let unchangedTasks = 0;
  for (const task of next.tasks) {
    const before = liveTasks.get(task.id);
    if (before === undefined) {
      addedTasks.push({ id: task.id, image: task.image });
      continue;
    }
    const change = diffTask(before, task);
    if (change === undefined) unchangedTasks += 1;
    else changedTasks.push(change);
  }
  const removedTasks = live.tasks.map((task) => task.id).filter((id) => !nextIds.has(id));

  return {
    pipelineId: next.id,
    firstVersion: false,
    identical:
      pipeline.length === 0 &&
      isEmpty(subscriptions) &&
      addedTasks.length === 0 &&
      removedTasks.length === 0 &&
      changedTasks.length === 0,
    pipeline,
    subscriptions,
    addedTasks,
    removedTasks,
    changedTasks,
    unchangedTasks,
  };
}

function diffTask(live: TaskConfig, next: TaskConfig): TaskChange | undefined {
  const change: TaskChange = { id: next.id, fields: [] };
  const variables = diffKeys(live.variables, next.variables);
  const dependsOn = diffDependencies(live.depends_on, next.depends_on);
  const resources = diffResources(live.resources, next.resources);
  const timeout = { from: live.timeout ?? null, to: next.timeout ?? null };
  const retries = { from: live.retries ?? null, to: next.retries ?? null };
  const differs: Record<TaskField, boolean> = {
    image: live.image !== next.image,
    command: !sameList(live.command, next.command),
    entrypoint: !sameList(live.entrypoint, next.entrypoint),
    variables: variables !== undefined,
    depends_on: dependsOn !== undefined,
    registry_auth: !sameRegistryAuth(live.registry_auth, next.registry_auth),
    inject_api_token: live.inject_api_token !== next.inject_api_token,
    always_pull_newest_image: live.always_pull_newest_image !== next.always_pull_newest_image,
    resources: resources !== undefined,
    timeout: timeout.from !== timeout.to,
    retries: !sameRetries(retries.from, retries.to),
    description: !sameText(live.description, next.description),
  };
  change.fields = TASK_FIELDS.filter((field) => differs[field]);
  if (change.fields.length === 0) return undefined;
  if (differs.image) change.image = { from: live.image, to: next.image };
  if (variables !== undefined) change.variables = variables;
  if (dependsOn !== undefined) change.dependsOn = dependsOn;
  if (differs.inject_api_token) change.injectApiToken = next.inject_api_token;
  if (differs.always_pull_newest_image) change.alwaysPullNewestImage = next.always_pull_newest_image;
  if (resources !== undefined) change.resources = resources;
  if (differs.timeout) change.timeout = timeout;
  if (differs.retries) change.retries = retries;
  return change;
}

function sameRetries(a: TaskRetries | null, b: TaskRetries | null): boolean {
  if (a === null || b === null) return a === b;
  return RETRY_FIELDS.every((field) => describeRetryField(a, field) === describeRetryField(b, field));
}

function sameConcurrency(a: RunConcurrency | undefined, b: RunConcurrency | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.group === b.group && a.cancel_in_progress === b.cancel_in_progress;
}

const subscriptionKey = (subscription: DeclaredSubscription): string =>
  `${subscription.extension_id}\0${subscription.subscription_id}`;

const subscriptionRef = (subscription: DeclaredSubscription): SubscriptionRef => ({
  extensionId: subscription.extension_id,
  subscriptionId: subscription.subscription_id,
});

function diffSubscriptions(
  live: readonly DeclaredSubscription[] | undefined,
  next: readonly DeclaredSubscription[] | undefined,
): SubscriptionChanges {
  const changes: SubscriptionChanges = { added: [], removed: [], changed: [] };
  const before = new Map((live ?? []).map((subscription) => [subscriptionKey(subscription), subscription]));
  const nextKeys = new Set((next ?? []).map(subscriptionKey));
  for (const subscription of next ?? []) {
    const previous = before.get(subscriptionKey(subscription));
    if (previous === undefined) {
      changes.added.push({ ...subscriptionRef(subscription), settings: Object.keys(subscription.settings) });
      continue;
    }
    const settings = diffKeys(previous.settings, subscription.settings);
    if (settings !== undefined) changes.changed.push({ ...subscriptionRef(subscription), settings });
  }
  changes.removed = (live ?? [])
    .filter((subscription) => !nextKeys.has(subscriptionKey(subscription)))
    .map(subscriptionRef);
  return changes;
}

// Compared as written: `"0.5"` and `"500m"` are the same limit, but registering either changes the stored config.
function diffResources(
  live: TaskResources | undefined,
  next: TaskResources | undefined,
): ResourceChange[] | undefined {
  const fields: Array<keyof TaskResources> = ["cpu", "memory"];
  const changes = fields
    .map((field) => ({ field, from: live?.[field] ?? null, to: next?.[field] ?? null }))
    .filter((change) => change.from !== change.to);
  return changes.length === 0 ? undefined : changes;
}

function diffKeys(live: Record<string, string>, next: Record<string, string>): KeyChanges | undefined {
  const changes: KeyChanges = { added: [], removed: [], changed: [] };
  for (const [key, value] of Object.entries(next)) {
    if (!Object.hasOwn(live, key)) changes.added.push(key);
    else if (live[key] !== value) changes.changed.push(key);
  }
  changes.removed = Object.keys(live).filter((key) => !Object.hasOwn(next, key));
  return isEmpty(changes) ? undefined : changes;
}

function diffDependencies(
  live: Record<string, RequiredParentStatus>,
  next: Record<string, RequiredParentStatus>,
): DependencyChanges | undefined {
  const changes: DependencyChanges = { added: [], removed: [], changed: [] };
  for (const [parent, condition] of Object.entries(next)) {
    const before = Object.hasOwn(live, parent) ? live[parent] : undefined;
    if (before === undefined) changes.added.push({ parent, condition });
    else if (before.toLowerCase() !== condition.toLowerCase()) {
      changes.changed.push({ parent, from: before, to: condition });
    }
  }
  changes.removed = Object.keys(live).filter((parent) => !Object.hasOwn(next, parent));
  return isEmpty(changes) ? undefined : changes;
}

function isEmpty(changes: { added: unknown[]; removed: unknown[]; changed: unknown[] }): boolean {
  return changes.added.length === 0 && changes.removed.length === 0 && changes.changed.length === 0;
}

function sameText(a: string | null, b: string | null): boolean {
  return (a ?? "") === (b ?? "");
}

function sameList(a: readonly string[] | null, b: readonly string[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((item, index) => item === b[index]);
}

/** How the server returns every registry password. */
const REDACTED_PASSWORD = "[redacted]";

function sameRegistryAuth(a: TaskConfig["registry_auth"], b: TaskConfig["registry_auth"]): boolean {
  if (a === null || b === null) return a === b;
  if (a.user !== b.user) return false;
  return a.pass === b.pass || a.pass === REDACTED_PASSWORD || b.pass === REDACTED_PASSWORD;
}

export interface FormatConfigDiffOptions {
  /** Colour the lines with ANSI escapes: additions green, removals red, changes yellow. */
  color: boolean;
}

/**
 * The diff as lines for a terminal: `+ task build (image busybox:latest)`, `- task old`,
 * `~ task test: image a → b, command changed, variables: +FOO -BAR ~BAZ`, then how many tasks are unchanged;
 * or the single line `no changes against the live version`.
 */
export function formatConfigDiff(diff: ConfigDiff, options: FormatConfigDiffOptions): string[] {
  // The caller has decided on colour (a TTY, NO_COLOR, --no-color), so styleText must not check the stream.
  const paint = (format: "green" | "red" | "yellow" | "dim", text: string): string =>
    options.color ? styleText(format, text, { validateStream: false }) : text;

  if (diff.identical) return [paint("dim", "no changes against the live version")];

  const lines: string[] = [];
  if (diff.firstVersion)
    lines.push(paint("green", `+ pipeline ${show(diff.pipelineId)} (no version is live yet)`));
  for (const change of diff.pipeline) lines.push(paint("yellow", `~ ${describePipelineChange(change)}`));
  for (const subscription of diff.subscriptions.added) {
    const settings =
      subscription.settings.length === 0 ? "" : ` (settings: ${subscription.settings.map(show).join(", ")})`;
    lines.push(paint("green", `+ subscription ${describeSubscription(subscription)}${settings}`));
  }
  for (const subscription of diff.subscriptions.removed) {
    lines.push(paint("red", `- subscription ${describeSubscription(subscription)}`));
  }
  for (const subscription of diff.subscriptions.changed) {
    lines.push(
      paint(
        "yellow",
        `~ subscription ${describeSubscription(subscription)}: settings: ${describeKeys(subscription.settings)}`,
      ),
    );
  }
  for (const task of diff.addedTasks) {
    lines.push(paint("green", `+ task ${show(task.id)} (image ${show(task.image)})`));
  }
  for (const id of diff.removedTasks) lines.push(paint("red", `- task ${show(id)}`));
  for (const change of diff.changedTasks) {
    lines.push(
      paint(
        "yellow",
        `~ task ${show(change.id)}: ${change.fields.map((field) => describeField(change, field)).join(", ")}`,
      ),
    );
  }
  if (diff.unchangedTasks > 0) {
    lines.push(
      paint("dim", `  ${diff.unchangedTasks} ${diff.unchangedTasks === 1 ? "task" : "tasks"} unchanged`),
    );
  }
  return lines;
}

function describePipelineChange(change: PipelineFieldChange): string {
  switch (change.field) {
    case "name":
      return `name: ${JSON.stringify(change.from)} → ${JSON.stringify(change.to)}`;
    case "description":
      return "description changed";
    case "parallelism":
      return `parallelism: ${describeParallelism(change.from)} → ${describeParallelism(change.to)}`;
    case "timeout":
      return `timeout: ${show(change.from ?? "none")} → ${show(change.to ?? "none")}`;
    case "concurrency":
      return `concurrency: ${describeConcurrency(change.from)} → ${describeConcurrency(change.to)}`;
  }
}

function describeConcurrency(concurrency: RunConcurrency | null): string {
  if (concurrency === null) return "none";
  return `group ${show(concurrency.group)}${concurrency.cancel_in_progress ? " (cancel in progress)" : ""}`;
}

function describeSubscription(subscription: SubscriptionRef): string {
  return `${show(subscription.extensionId)}/${show(subscription.subscriptionId)}`;
}

function describeKeys(keys: KeyChanges): string {
  return [
    ...keys.added.map((key) => `+${show(key)}`),
    ...keys.removed.map((key) => `-${show(key)}`),
    ...keys.changed.map((key) => `~${show(key)}`),
  ].join(" ");
}

const RETRY_FIELDS = ["limit", "delay", "factor", "max_delay", "on"] as const;

function describeRetryField(retries: TaskRetries, field: (typeof RETRY_FIELDS)[number]): string {
  if (field !== "on") return String(retries[field]);
  const all = RETRY_CAUSES.every((cause) => retries.on.includes(cause));
  return all ? "any" : retries.on.join("|");
}

/** `limit 2, delay 1s, factor 2, max_delay 5m, on any`; against `from`, only the fields that differ. */
function describeRetries(from: TaskRetries | null, to: TaskRetries | null): string {
  if (from === null || to === null) {
    const describe = (retries: TaskRetries | null) =>
      retries === null
        ? "none"
        : RETRY_FIELDS.map((field) => `${field} ${describeRetryField(retries, field)}`).join(", ");
    return `retries ${describe(from)} → ${describe(to)}`;
  }
  return RETRY_FIELDS.filter((field) => describeRetryField(from, field) !== describeRetryField(to, field))
    .map((field) => `retries.${field} ${describeRetryField(from, field)} → ${describeRetryField(to, field)}`)
    .join(", ");
}

function describeParallelism(limit: number): string {
  return limit === 0 ? "0 (server default)" : String(limit);
}

function describeField(change: TaskChange, field: TaskField): string {
  switch (field) {
    case "image":
      return change.image ? `image ${show(change.image.from)} → ${show(change.image.to)}` : "image changed";
    case "variables": {
      const keys = change.variables;
      if (keys === undefined) return "variables changed";
      return `variables: ${describeKeys(keys)}`;
    }
    case "depends_on": {
      const parents = change.dependsOn;
      if (parents === undefined) return "depends on changed";
      return `depends on: ${[
        ...parents.added.map(({ parent, condition }) => `+${show(parent)} (${condition.toLowerCase()})`),
        ...parents.removed.map((parent) => `-${show(parent)}`),
        ...parents.changed.map(
          ({ parent, from, to }) => `~${show(parent)} (${from.toLowerCase()} → ${to.toLowerCase()})`,
        ),
      ].join(" ")}`;
    }
    case "registry_auth":
      return "registry auth changed";
    case "inject_api_token":
      return `inject_api_token ${!change.injectApiToken} → ${change.injectApiToken}`;
    case "always_pull_newest_image":
      return `always_pull_newest_image ${!change.alwaysPullNewestImage} → ${change.alwaysPullNewestImage}`;
    case "resources": {
      if (change.resources === undefined) return "resources changed";
      return change.resources
        .map(({ field, from, to }) => `${field} ${show(from ?? "unlimited")} → ${show(to ?? "unlimited")}`)
        .join(", ");
    }
    case "timeout": {
      if (change.timeout === undefined) return "timeout changed";
      return `timeout ${show(change.timeout.from ?? "none")} → ${show(change.timeout.to ?? "none")}`;
    }
    case "retries":
      return change.retries === undefined
        ? "retries changed"
        : describeRetries(change.retries.from, change.retries.to);
    default:
      return `${field} changed`;
  }
}

// Ids, keys and images come from the user's file and end up on a terminal: anything unusual is quoted.
function show(text: string): string {
  return /^[\w.:/@+-]+$/.test(text) ? text : JSON.stringify(text);
}
