/**
 * Validation of a pipeline config against the wire format and Gofer's rules. The CLI runs it before sending a
 * config and the server runs it on registration, so both refuse the same configs with the same messages.
 */

import { formatDuration, parseDuration } from "./durations.ts";
import {
  describeIdentifierRule,
  describeTaskIdRule,
  isValidIdentifier,
  isValidTaskId,
  MAX_TASK_ID_LENGTH,
} from "./identifiers.ts";
import type {
  DeclaredSubscription,
  PipelineConfig,
  RegistryAuth,
  RequiredParentStatus,
  RetryCause,
  RunConcurrency,
  TaskConfig,
  TaskRetries,
} from "./pipeline-config.ts";
import { normaliseRequiredParentStatus, RETRY_CAUSES } from "./pipeline-config.ts";
import { findDependencyCycles } from "./pipeline-dag.ts";
import { PIPELINE_CONFIG_LIMITS as LIMITS } from "./pipeline-limits.ts";
import {
  parseCpuQuantity,
  parseMemoryQuantity,
  type QuantityParse,
  type TaskResources,
} from "./resource-quantities.ts";

/** One reason a config was refused. */
export interface ValidationProblem {
  /**
   * Where in the input the problem is, e.g. `tasks[2].variables.FOO`; `""` for the input as a whole. Keys that
   * are not plain words are bracketed and quoted (`variables["my key"]`) and very long keys are shortened.
   */
  path: string;
  /** A sentence fit to show a user; it names the field or task itself, so it reads well on its own. */
  message: string;
  /** The id of the task the problem belongs to, when the problem is inside a task that has a usable id. */
  taskId?: string;
}

/** The outcome of {@link validatePipelineConfig}. */
export type PipelineValidationResult =
  | { ok: true; config: PipelineConfig }
  | { ok: false; problems: ValidationProblem[] };

/** At most this many problems are listed; a last entry then says how many more there were. */
export const MAX_REPORTED_PROBLEMS = 100;

const PIPELINE_FIELDS = [
  "id",
  "name",
  "description",
  "parallelism",
  "tasks",
  "timeout",
  "concurrency",
  "subscriptions",
];
const TASK_FIELDS = [
  "id",
  "description",
  "image",
  "registry_auth",
  "depends_on",
  "variables",
  "entrypoint",
  "command",
  "inject_api_token",
  "always_pull_newest_image",
  "resources",
  "timeout",
  "retries",
];
const REGISTRY_AUTH_FIELDS = ["user", "pass"];
const RESOURCES_FIELDS = ["cpu", "memory"];
const RETRIES_FIELDS = ["limit", "delay", "factor", "max_delay", "on"];
const CONCURRENCY_FIELDS = ["group", "cancel_in_progress"];
const SUBSCRIPTION_FIELDS = ["extension_id", "subscription_id", "settings"];

/** What a task's `retries` becomes when it gives only some of the fields. */
export const RETRY_DEFAULTS: {
  readonly delay: string;
  readonly factor: number;
  readonly max_delay: string;
  readonly on: readonly RetryCause[];
} = {
  delay: "1s",
  factor: 2,
  max_delay: "5m",
  on: RETRY_CAUSES,
};

/**
 * Checks `input` (typically parsed JSON) and returns it in canonical form: absent optional fields become `null`,
 * `depends_on` conditions become PascalCase, and arrays and maps are fresh copies. The extensions of v0 are the
 * exception: a task's `resources`, `timeout` and `retries` and a pipeline's `timeout`, `concurrency` and
 * `subscriptions` are left out when absent, `null` or empty (`{}` resources, `[]` subscriptions), so a v0
 * config stays exactly v0; when given, their defaults are filled in (`retries.delay` "1s", `factor` 2,
 * `max_delay` "5m", `on` every cause; `concurrency.cancel_in_progress` false; a subscription's `settings` {}). Otherwise returns every
 * problem found, in a stable order: shape problems in document order, then duplicate ids and missing parents
 * task by task, then dependency cycles.
 */
export function validatePipelineConfig(input: unknown): PipelineValidationResult {
  const problems = new ProblemList();
  const config = readPipeline(input, problems);
  if (problems.isEmpty()) return { ok: true, config };
  return { ok: false, problems: problems.toArray() };
}

type JsonObject = Record<string, unknown>;

/** Records problems found at one place in the input, tagging them with the enclosing task's id. */
interface Scope {
  add(path: string, message: string): void;
}

class ProblemList {
  readonly #listed: ValidationProblem[] = [];
  #unlisted = 0;

  scope(taskId?: string): Scope {
    return {
      add: (path, message) => {
        if (this.#listed.length >= MAX_REPORTED_PROBLEMS) {
          this.#unlisted += 1;
          return;
        }
        this.#listed.push(taskId === undefined ? { path, message } : { path, message, taskId });
      },
    };
  }

  isEmpty(): boolean {
    return this.#listed.length === 0;
  }

  toArray(): ValidationProblem[] {
    if (this.#unlisted === 0) return [...this.#listed];
    const more = this.#unlisted === 1 ? "1 more problem" : `${this.#unlisted} more problems`;
    return [...this.#listed, { path: "", message: `${more} not listed` }];
  }
}

function readPipeline(input: unknown, problems: ProblemList): PipelineConfig {
  const scope = problems.scope();
  if (!isJsonObject(input)) {
    scope.add("", `a pipeline config must be an object, got ${describeType(input)}`);
    return { id: "", name: "", description: null, parallelism: 0, tasks: [] };
  }
  rejectUnknownFields(input, PIPELINE_FIELDS, "", "the pipeline config", scope);

  const id = requiredString(input, "id", "id", scope);
  if (typeof input.id === "string" && !isValidIdentifier(id)) {
    scope.add("id", `pipeline id ${quote(id)} is not valid: use ${describeIdentifierRule}`);
  }
  const name = requiredString(input, "name", "name", scope, {
    nonBlank: true,
    maxLength: LIMITS.maxNameLength,
  });
  const description = optionalString(input, "description", "description", scope, {
    maxLength: LIMITS.maxDescriptionLength,
  });
  const parallelism = readParallelism(input.parallelism, scope);
  const tasks = readTasks(input.tasks, problems);
  checkTaskIds(tasks, problems);
  checkDependencies(tasks, problems);
  checkCycles(tasks, problems);
  const timeout = readDuration(input.timeout, "timeout", "timeout", "pipeline", LIMITS.maxDurationMs, scope);
  const concurrency = readConcurrency(input.concurrency, scope);
  const subscriptions = readSubscriptions(input.subscriptions, scope);
  return {
    id,
    name,
    description,
    parallelism,
    tasks,
    ...(timeout !== undefined && { timeout }),
    ...(concurrency && { concurrency }),
    ...(subscriptions && { subscriptions }),
  };
}

function readParallelism(value: unknown, scope: Scope): number {
  if (value === undefined) {
    scope.add("parallelism", "parallelism is required (0 uses the server's default limit)");
    return 0;
  }
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    const got = typeof value === "number" ? String(value) : describeType(value);
    scope.add("parallelism", `parallelism must be a whole number, 0 or more, got ${got}`);
    return 0;
  }
  return value;
}

function readTasks(value: unknown, problems: ProblemList): TaskConfig[] {
  const scope = problems.scope();
  if (value === undefined) {
    scope.add("tasks", "tasks is required");
    return [];
  }
  if (!Array.isArray(value)) {
    scope.add("tasks", `tasks must be an array, got ${describeType(value)}`);
    return [];
  }
  if (value.length === 0) {
    scope.add("tasks", "tasks must list at least one task");
    return [];
  }
  if (value.length > LIMITS.maxTasks) {
    scope.add("tasks", `tasks lists ${value.length} tasks; the limit is ${LIMITS.maxTasks}`);
    return [];
  }
  return value.map((task: unknown, index) => readTask(task, `tasks[${index}]`, problems));
}

function readTask(value: unknown, path: string, problems: ProblemList): TaskConfig {
  if (!isJsonObject(value)) {
    problems.scope().add(path, `${path} must be an object, got ${describeType(value)}`);
    return placeholderTask();
  }
  const scope = problems.scope(usableTaskId(value.id));
  rejectUnknownFields(value, TASK_FIELDS, path, path, scope);

  const id = requiredString(value, "id", `${path}.id`, scope);
  if (typeof value.id === "string" && !isValidTaskId(id)) {
    scope.add(`${path}.id`, `task id ${quote(id)} is not valid: use ${describeTaskIdRule}`);
  }
  const resources = readResources(value.resources, `${path}.resources`, usableTaskId(value.id), scope);
  const subject = taskSubject(path, usableTaskId(value.id));
  const timeout = readDuration(
    value.timeout,
    "timeout",
    `${path}.timeout`,
    `${subject}:`,
    LIMITS.maxDurationMs,
    scope,
  );
  const retries = readRetries(value.retries, `${path}.retries`, subject, scope);
  return {
    id,
    description: optionalString(value, "description", `${path}.description`, scope, {
      maxLength: LIMITS.maxDescriptionLength,
    }),
    image: requiredString(value, "image", `${path}.image`, scope, {
      nonBlank: true,
      maxLength: LIMITS.maxImageLength,
    }),
    registry_auth: readRegistryAuth(value.registry_auth, `${path}.registry_auth`, scope),
    depends_on: readDependsOn(value.depends_on, `${path}.depends_on`, scope),
    variables: readVariables(value.variables, `${path}.variables`, scope),
    entrypoint: optionalStringArray(value.entrypoint, `${path}.entrypoint`, scope),
    command: optionalStringArray(value.command, `${path}.command`, scope),
    inject_api_token: requiredBoolean(value, "inject_api_token", `${path}.inject_api_token`, scope),
    always_pull_newest_image: requiredBoolean(
      value,
      "always_pull_newest_image",
      `${path}.always_pull_newest_image`,
      scope,
    ),
    ...(resources && { resources }),
    ...(timeout !== undefined && { timeout }),
    ...(retries && { retries }),
  };
}

// A task whose shape is wrong still gets a slot, so later tasks keep their indexes; its empty id is never a
// valid task id, so the cross-task checks pass over it.
function placeholderTask(): TaskConfig {
  return {
    id: "",
    description: null,
    image: "",
    registry_auth: null,
    depends_on: {},
    variables: {},
    entrypoint: null,
    command: null,
    inject_api_token: false,
    always_pull_newest_image: false,
  };
}

// Problems inside a task carry its id even when the id breaks the rules (`build step`), since that is how the
// user knows the task; an id too long to be one is left out rather than echoed back.
function usableTaskId(id: unknown): string | undefined {
  return typeof id === "string" && id.length > 0 && id.length <= MAX_TASK_ID_LENGTH ? id : undefined;
}

function readRegistryAuth(value: unknown, path: string, scope: Scope): RegistryAuth | null {
  if (value === undefined || value === null) return null;
  if (!isJsonObject(value)) {
    scope.add(path, `${path} must be an object with user and pass, or null, got ${describeType(value)}`);
    return null;
  }
  rejectUnknownFields(value, REGISTRY_AUTH_FIELDS, path, path, scope);
  const rules = { maxLength: LIMITS.maxCredentialLength };
  return {
    user: requiredString(value, "user", `${path}.user`, scope, { ...rules, nonBlank: true }),
    pass: requiredString(value, "pass", `${path}.pass`, scope, rules),
  };
}

// Messages name the task even on the server, whose problem list shows paths (`tasks[2]`), not task ids.
function readResources(
  value: unknown,
  path: string,
  taskId: string | undefined,
  scope: Scope,
): TaskResources | undefined {
  if (value === undefined || value === null) return undefined;
  const subject = taskSubject(path.slice(0, -".resources".length), taskId);
  if (!isJsonObject(value)) {
    scope.add(
      path,
      `${subject}: resources must be an object with cpu and/or memory, or null, got ${describeType(value)}`,
    );
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (!RESOURCES_FIELDS.includes(key)) {
      scope.add(
        childPath(path, key),
        `${subject}: unknown field ${quote(key)} in resources; the fields are ${RESOURCES_FIELDS.join(", ")}`,
      );
    }
  }
  const cpu = readQuantity(value.cpu, "cpu", parseCpuQuantity, `${path}.cpu`, subject, scope);
  const memory = readQuantity(value.memory, "memory", parseMemoryQuantity, `${path}.memory`, subject, scope);
  if (cpu === undefined && memory === undefined) return undefined;
  return { ...(cpu !== undefined && { cpu }), ...(memory !== undefined && { memory }) };
}

const QUANTITY_EXAMPLES = { cpu: '"0.5" or "500m"', memory: '"256Mi" or "1G"' };

function readQuantity(
  value: unknown,
  field: "cpu" | "memory",
  parse: (text: string) => QuantityParse,
  path: string,
  subject: string,
  scope: Scope,
): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    scope.add(
      path,
      `${subject}: ${field} must be a string such as ${QUANTITY_EXAMPLES[field]}, got ${describeType(value)}`,
    );
    return undefined;
  }
  const parsed = parse(value);
  if (!parsed.ok) {
    scope.add(path, `${subject}: ${field} ${quote(value)} ${parsed.reason}`);
    return undefined;
  }
  return value;
}

// Messages about a task name it by id, or by its path when it has no usable id.
function taskSubject(taskPath: string, taskId: string | undefined): string {
  return taskId === undefined ? taskPath : `task ${quote(taskId)}`;
}

const DURATION_EXAMPLES = '"90s", "10m" or "1h30m"';

/**
 * A Go-style duration of at least 1ms and at most `limitMs`, kept as written. `prefix` opens each message
 * (`task \`build\`:` or `pipeline`), `field` names the duration within it.
 */
function readDuration(
  value: unknown,
  field: string,
  path: string,
  prefix: string,
  limitMs: number,
  scope: Scope,
): string | undefined {
  if (value === undefined || value === null) return undefined;
  const subject = `${prefix} ${field}`;
  if (typeof value !== "string") {
    scope.add(path, `${subject} must be a duration such as ${DURATION_EXAMPLES}, got ${describeType(value)}`);
    return undefined;
  }
  const negated = value.startsWith("-") ? parseDuration(value.slice(1)) : undefined;
  const ms = parseDuration(value);
  if (ms === undefined && negated === undefined) {
    scope.add(path, `${subject} must be a duration such as ${DURATION_EXAMPLES}, got ${quote(value)}`);
    return undefined;
  }
  if (ms === undefined || parseDuration(value.replace(/^-/, "")) === 0) {
    scope.add(path, `${subject} must be longer than zero, got ${quote(value)}`);
    return undefined;
  }
  if (ms < 1) {
    scope.add(path, `${subject} must be at least 1ms, got ${quote(value)}`);
    return undefined;
  }
  if (ms > limitMs) {
    scope.add(path, `${subject} must be at most ${formatDuration(limitMs)}, got ${quote(value)}`);
    return undefined;
  }
  return value;
}

function readRetries(value: unknown, path: string, subject: string, scope: Scope): TaskRetries | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isJsonObject(value)) {
    scope.add(
      path,
      `${subject}: retries must be an object such as {"limit": 2}, or null, got ${describeType(value)}`,
    );
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (!RETRIES_FIELDS.includes(key)) {
      scope.add(
        childPath(path, key),
        `${subject}: unknown field ${quote(key)} in retries; the fields are ${RETRIES_FIELDS.join(", ")}`,
      );
    }
  }
  const limit = readRetryLimit(value.limit, `${path}.limit`, subject, scope);
  const prefix = `${subject}:`;
  const limitMs = LIMITS.maxDurationMs;
  const delay = readDuration(value.delay, "retries.delay", `${path}.delay`, prefix, limitMs, scope);
  const maxDelay = readDuration(
    value.max_delay,
    "retries.max_delay",
    `${path}.max_delay`,
    prefix,
    limitMs,
    scope,
  );
  const factor = readRetryFactor(value.factor, `${path}.factor`, subject, scope);
  const on = readRetryCauses(value.on, `${path}.on`, subject, scope);
  const retries: TaskRetries = {
    limit: limit ?? 1,
    delay: delay ?? RETRY_DEFAULTS.delay,
    factor: factor ?? RETRY_DEFAULTS.factor,
    max_delay: maxDelay ?? RETRY_DEFAULTS.max_delay,
    on: on ?? [...RETRY_DEFAULTS.on],
  };
  const delayMs = parseDuration(retries.delay) ?? 0;
  const maxDelayMs = parseDuration(retries.max_delay) ?? 0;
  const delayValid = value.delay === undefined || value.delay === null || delay !== undefined;
  const maxDelayValid = value.max_delay === undefined || value.max_delay === null || maxDelay !== undefined;
  if (delayValid && maxDelayValid && delayMs > maxDelayMs) {
    const which = maxDelay === undefined ? ", the default" : "";
    scope.add(
      `${path}.delay`,
      `${subject}: retries.delay ${quote(retries.delay)} must not be longer than retries.max_delay ${quote(retries.max_delay)}${which}`,
    );
  }
  return retries;
}

function readRetryLimit(value: unknown, path: string, subject: string, scope: Scope): number | undefined {
  const { min, max } = { min: 1, max: LIMITS.maxRetries };
  if (value === undefined || value === null) {
    scope.add(path, `${subject}: retries.limit is required (how many more attempts, ${min} to ${max})`);
    return undefined;
  }
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    const got = typeof value === "number" ? String(value) : describeType(value);
    scope.add(path, `${subject}: retries.limit must be a whole number from ${min} to ${max}, got ${got}`);
    return undefined;
  }
  return value;
}

function readRetryFactor(value: unknown, path: string, subject: string, scope: Scope): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 1 || value > LIMITS.maxRetryFactor) {
    const got = typeof value === "number" ? String(value) : describeType(value);
    scope.add(
      path,
      `${subject}: retries.factor must be a number from 1 to ${LIMITS.maxRetryFactor}, got ${got}`,
    );
    return undefined;
  }
  return value;
}

// Listed once each, in the order given.
function readRetryCauses(
  value: unknown,
  path: string,
  subject: string,
  scope: Scope,
): RetryCause[] | undefined {
  if (value === undefined || value === null) return undefined;
  const causes = RETRY_CAUSES.join(", ");
  if (!Array.isArray(value)) {
    scope.add(path, `${subject}: retries.on must be an array of ${causes}, got ${describeType(value)}`);
    return undefined;
  }
  if (value.length === 0) {
    scope.add(path, `${subject}: retries.on must list at least one of ${causes}`);
    return undefined;
  }
  const unknown = value.filter((cause: unknown) => !RETRY_CAUSES.includes(cause as RetryCause));
  if (unknown.length > 0) {
    const shown = unknown.map((cause: unknown) =>
      typeof cause === "string" ? quote(cause) : describeType(cause),
    );
    scope.add(
      path,
      `${subject}: retries.on lists unknown ${unknown.length === 1 ? "cause" : "causes"} ${shown.join(", ")}; the causes are ${causes}`,
    );
    return undefined;
  }
  return [...new Set(value as RetryCause[])];
}

function readConcurrency(value: unknown, scope: Scope): RunConcurrency | undefined {
  if (value === undefined || value === null) return undefined;
  const path = "concurrency";
  if (!isJsonObject(value)) {
    scope.add(
      path,
      `concurrency must be an object such as {"group": "deploy-\${BRANCH}"}, or null, got ${describeType(value)}`,
    );
    return undefined;
  }
  rejectUnknownFields(value, CONCURRENCY_FIELDS, path, "concurrency", scope);
  const group = requiredString(value, "group", `${path}.group`, scope, {
    nonBlank: true,
    maxLength: LIMITS.maxConcurrencyGroupLength,
  });
  checkGroupTemplate(group, `${path}.group`, scope);
  const cancel = value.cancel_in_progress;
  if (cancel !== undefined && cancel !== null && typeof cancel !== "boolean") {
    scope.add(
      `${path}.cancel_in_progress`,
      `concurrency.cancel_in_progress must be true or false, got ${describeType(cancel)}`,
    );
  }
  return { group, cancel_in_progress: cancel === true };
}

const VARIABLE_NAME = /^[A-Za-z0-9_]+$/;

// Run variables arrive with each run, so only the placeholders' syntax can be checked here; a run that does not
// set a variable the group names is refused (400) when it starts.
function checkGroupTemplate(group: string, path: string, scope: Scope): void {
  let from = 0;
  for (;;) {
    const open = group.indexOf("${", from);
    if (open === -1) return;
    const close = group.indexOf("}", open + 2);
    if (close === -1) {
      scope.add(
        path,
        `concurrency.group ${quote(group)} has an unclosed \`\${\` at character ${open + 1}; write \${NAME}`,
      );
      return;
    }
    const name = group.slice(open + 2, close);
    if (!VARIABLE_NAME.test(name)) {
      scope.add(
        path,
        `concurrency.group ${quote(group)}: ${quote(`\${${name}}`)} does not name a run variable; a name is letters, digits and _`,
      );
    } else if (name.toUpperCase().startsWith("GOFER_")) {
      // Gofer's own variables are set on tasks, not given with a run: a run would have to pass one to start,
      // and would then override it in its tasks.
      scope.add(
        path,
        `concurrency.group ${quote(group)}: ${quote(`\${${name}}`)} is one of Gofer's own task variables, not a run variable; name a variable the run is started with (-v NAME=…)`,
      );
    }
    from = close + 1;
  }
}

function readSubscriptions(value: unknown, scope: Scope): DeclaredSubscription[] | undefined {
  if (value === undefined || value === null) return undefined;
  const path = "subscriptions";
  if (!Array.isArray(value)) {
    scope.add(path, `subscriptions must be an array, or null, got ${describeType(value)}`);
    return undefined;
  }
  if (value.length > LIMITS.maxSubscriptions) {
    scope.add(path, `subscriptions lists ${value.length}; the limit is ${LIMITS.maxSubscriptions}`);
    return undefined;
  }
  const firstIndex = new Map<string, number>();
  const subscriptions = value.map((entry: unknown, index) => {
    const subscription = readSubscription(entry, `${path}[${index}]`, scope);
    if (subscription === undefined) return undefined;
    const key = `${subscription.extension_id}\0${subscription.subscription_id}`;
    const first = firstIndex.get(key);
    if (first === undefined) firstIndex.set(key, index);
    else {
      scope.add(
        `${path}[${index}]`,
        `duplicate subscription ${quote(subscription.subscription_id)} of extension ${quote(subscription.extension_id)} (subscriptions[${first}] and subscriptions[${index}])`,
      );
    }
    return subscription;
  });
  const declared = subscriptions.filter((entry) => entry !== undefined);
  return declared.length === 0 ? undefined : declared;
}

function readSubscription(value: unknown, path: string, scope: Scope): DeclaredSubscription | undefined {
  if (!isJsonObject(value)) {
    scope.add(
      path,
      `${path} must be an object with extension_id, subscription_id and settings, got ${describeType(value)}`,
    );
    return undefined;
  }
  rejectUnknownFields(value, SUBSCRIPTION_FIELDS, path, path, scope);
  const ids = (["extension_id", "subscription_id"] as const).map((field) => {
    const id = requiredString(value, field, `${path}.${field}`, scope);
    if (typeof value[field] === "string" && !isValidIdentifier(id)) {
      scope.add(
        `${path}.${field}`,
        `${path}.${field} ${quote(id)} is not valid: use ${describeIdentifierRule}`,
      );
      return undefined;
    }
    return typeof value[field] === "string" ? id : undefined;
  });
  const settings =
    value.settings === undefined || value.settings === null
      ? {}
      : readSettings(value.settings, `${path}.settings`, scope);
  const [extensionId, subscriptionId] = ids;
  if (extensionId === undefined || subscriptionId === undefined) return undefined;
  return { extension_id: extensionId, subscription_id: subscriptionId, settings };
}

function readSettings(value: unknown, path: string, scope: Scope): Record<string, string> {
  const map = requiredMap(value, path, LIMITS.maxSubscriptionSettings, scope);
  const entries: Array<[string, string]> = [];
  for (const [key, raw] of Object.entries(map)) {
    const entryPath = childPath(path, key);
    if (key === "") scope.add(entryPath, `${path} has an empty setting name`);
    else if (key.length > LIMITS.maxVariableKeyLength) {
      scope.add(
        entryPath,
        `${entryPath}: the setting name is ${key.length} characters long; the limit is ${LIMITS.maxVariableKeyLength}`,
      );
    }
    const text = checkString(raw, entryPath, scope, { maxBytes: LIMITS.maxVariableValueBytes });
    if (text !== undefined) entries.push([key, text]);
  }
  return Object.fromEntries(entries);
}

function readDependsOn(value: unknown, path: string, scope: Scope): Record<string, RequiredParentStatus> {
  const map = requiredMap(value, path, LIMITS.maxTasks, scope);
  const entries: Array<[string, RequiredParentStatus]> = [];
  for (const [parent, condition] of Object.entries(map)) {
    const status = typeof condition === "string" ? normaliseRequiredParentStatus(condition) : undefined;
    if (status === undefined) {
      const got = typeof condition === "string" ? quote(condition) : describeType(condition);
      scope.add(
        childPath(path, parent),
        `${childPath(path, parent)} must be "Any", "Success", "Failure" or "Unknown" (or the same in lowercase), got ${got}`,
      );
    } else {
      entries.push([parent, status]);
    }
  }
  // fromEntries defines own properties, so a key such as `__proto__` stays data instead of a prototype.
  return Object.fromEntries(entries);
}

// The container environment is a list of `NAME=value` strings: a name holding `=` or NUL would be split wrongly.
const FORBIDDEN_IN_VARIABLE_NAME = /[=\0]/;

function readVariables(value: unknown, path: string, scope: Scope): Record<string, string> {
  const map = requiredMap(value, path, LIMITS.maxVariablesPerTask, scope);
  const entries: Array<[string, string]> = [];
  for (const [key, raw] of Object.entries(map)) {
    const entryPath = childPath(path, key);
    if (key === "") {
      scope.add(entryPath, `${path} has an empty variable name`);
    } else if (key.length > LIMITS.maxVariableKeyLength) {
      scope.add(
        entryPath,
        `${entryPath}: the variable name is ${key.length} characters long; the limit is ${LIMITS.maxVariableKeyLength}`,
      );
    } else if (FORBIDDEN_IN_VARIABLE_NAME.test(key)) {
      scope.add(
        entryPath,
        `variable name ${quote(key)} in ${path} must not contain \`=\` or a NUL character`,
      );
    }
    const text = checkString(raw, entryPath, scope, { maxBytes: LIMITS.maxVariableValueBytes });
    if (text !== undefined) entries.push([key, text]);
  }
  return Object.fromEntries(entries);
}

// Maps over the limit are refused whole, without looking at their entries.
function requiredMap(value: unknown, path: string, limit: number, scope: Scope): JsonObject {
  if (value === undefined) {
    scope.add(path, `${path} is required (use {} for none)`);
    return {};
  }
  if (!isJsonObject(value)) {
    scope.add(path, `${path} must be an object, got ${describeType(value)}`);
    return {};
  }
  const size = Object.keys(value).length;
  if (size > limit) {
    scope.add(path, `${path} has ${size} entries; the limit is ${limit}`);
    return {};
  }
  return value;
}

function optionalStringArray(value: unknown, path: string, scope: Scope): string[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) {
    scope.add(path, `${path} must be an array of strings or null, got ${describeType(value)}`);
    return null;
  }
  if (value.length > LIMITS.maxArguments) {
    scope.add(path, `${path} has ${value.length} entries; the limit is ${LIMITS.maxArguments}`);
    return null;
  }
  const strings: string[] = [];
  value.forEach((entry: unknown, index) => {
    const text = checkString(entry, `${path}[${index}]`, scope, { maxBytes: LIMITS.maxArgumentBytes });
    if (text !== undefined) strings.push(text);
  });
  return strings;
}

interface StringRules {
  nonBlank?: boolean;
  maxLength?: number;
  maxBytes?: number;
}

// The fallbacks returned alongside a problem never leave the module: a config with problems is not returned.
function requiredString(
  obj: JsonObject,
  key: string,
  path: string,
  scope: Scope,
  rules: StringRules = {},
): string {
  if (obj[key] === undefined) {
    scope.add(path, `${path} is required`);
    return "";
  }
  return checkString(obj[key], path, scope, rules) ?? "";
}

function optionalString(
  obj: JsonObject,
  key: string,
  path: string,
  scope: Scope,
  rules: StringRules,
): string | null {
  const value = obj[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") {
    scope.add(path, `${path} must be a string or null, got ${describeType(value)}`);
    return null;
  }
  return checkString(value, path, scope, rules) ?? null;
}

function requiredBoolean(obj: JsonObject, key: string, path: string, scope: Scope): boolean {
  const value = obj[key];
  if (typeof value === "boolean") return value;
  scope.add(
    path,
    value === undefined ? `${path} is required` : `${path} must be true or false, got ${describeType(value)}`,
  );
  return false;
}

const utf8 = new TextEncoder();

function checkString(value: unknown, path: string, scope: Scope, rules: StringRules): string | undefined {
  if (typeof value !== "string") {
    scope.add(path, `${path} must be a string, got ${describeType(value)}`);
    return undefined;
  }
  if (rules.nonBlank && value.trim() === "") {
    scope.add(path, `${path} must not be blank`);
  }
  if (rules.maxLength !== undefined && value.length > rules.maxLength) {
    scope.add(path, `${path} is ${value.length} characters long; the limit is ${rules.maxLength}`);
  }
  if (rules.maxBytes !== undefined) {
    const bytes = utf8.encode(value).byteLength;
    if (bytes > rules.maxBytes)
      scope.add(path, `${path} is ${bytes} bytes long (UTF-8); the limit is ${rules.maxBytes}`);
  }
  return value;
}

function rejectUnknownFields(
  obj: JsonObject,
  known: readonly string[],
  path: string,
  where: string,
  scope: Scope,
): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) {
      scope.add(
        childPath(path, key),
        `unknown field ${quote(key)} in ${where}; the fields are ${known.join(", ")}`,
      );
    }
  }
}

function checkTaskIds(tasks: readonly TaskConfig[], problems: ProblemList): void {
  const firstIndex = new Map<string, number>();
  tasks.forEach((task, index) => {
    if (!isValidTaskId(task.id)) return;
    const first = firstIndex.get(task.id);
    if (first === undefined) {
      firstIndex.set(task.id, index);
      return;
    }
    problems
      .scope(task.id)
      .add(`tasks[${index}].id`, `duplicate task id ${quote(task.id)} (tasks[${first}] and tasks[${index}])`);
  });
}

// Self-dependencies are left to `checkCycles`, which reports them as the shortest cycle there is.
function checkDependencies(tasks: readonly TaskConfig[], problems: ProblemList): void {
  const ids = new Set(tasks.map((task) => task.id).filter(isValidTaskId));
  tasks.forEach((task, index) => {
    const validId = isValidTaskId(task.id);
    const scope = problems.scope(usableTaskId(task.id));
    const subject = validId ? `task ${quote(task.id)}` : `tasks[${index}]`;
    for (const parent of Object.keys(task.depends_on)) {
      if (ids.has(parent) || (validId && parent === task.id)) continue;
      scope.add(
        childPath(`tasks[${index}].depends_on`, parent),
        `${subject} depends on ${quote(parent)}, which does not exist`,
      );
    }
  });
}

function checkCycles(tasks: readonly TaskConfig[], problems: ProblemList): void {
  const indexOf = new Map<string, number>();
  tasks.forEach((task, index) => {
    if (isValidTaskId(task.id) && !indexOf.has(task.id)) indexOf.set(task.id, index);
  });
  const nodes = tasks.filter((task, index) => indexOf.get(task.id) === index);
  for (const cycle of findDependencyCycles(nodes)) {
    const [start = "", next = ""] = cycle;
    const path = childPath(`tasks[${indexOf.get(start) ?? 0}].depends_on`, next);
    const shown = cycle.join(" → ");
    problems
      .scope(start)
      .add(
        path,
        cycle.length === 2
          ? `task ${quote(start)} depends on itself (dependency cycle: ${shown})`
          : `dependency cycle: ${shown} (each task depends on the next)`,
      );
  }
}

function isJsonObject(value: unknown): value is JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "object":
      return "an object";
    case "undefined":
      return "undefined";
    default:
      return `a ${typeof value}`;
  }
}

const SHOWN_KEY_LENGTH = 64;
const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

function clip(value: string): string {
  return value.length > SHOWN_KEY_LENGTH ? `${value.slice(0, SHOWN_KEY_LENGTH)}…` : value;
}

// Keys and values are echoed back to users and terminals, so long ones are shortened and odd ones escaped.
function quote(value: string): string {
  const shown = clip(value);
  return /^[^`\p{C}]*$/u.test(shown) ? `\`${shown}\`` : JSON.stringify(shown);
}

function childPath(parent: string, key: string): string {
  if (PLAIN_KEY.test(key) && key.length <= SHOWN_KEY_LENGTH) return parent === "" ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(clip(key))}]`;
}
