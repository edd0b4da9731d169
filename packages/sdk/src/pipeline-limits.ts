/**
 * Upper bounds on a pipeline config. Gofer had none; these refuse hostile or runaway input with a clear message
 * before it costs memory, storage or a container's argument list. They are far above what a real pipeline
 * needs. The server's request body limit still bounds the config as a whole.
 */
export const PIPELINE_CONFIG_LIMITS = {
  /** Tasks in one pipeline. */
  maxTasks: 1000,
  /** Entries in one task's `variables`. */
  maxVariablesPerTask: 1000,
  /** Characters in a variable key. */
  maxVariableKeyLength: 256,
  /** UTF-8 bytes in a variable value. */
  maxVariableValueBytes: 64 * 1024,
  /** Entries in an `entrypoint` or `command` array. */
  maxArguments: 1000,
  /** UTF-8 bytes in one `entrypoint` or `command` entry (a whole `bash -c` script fits). */
  maxArgumentBytes: 64 * 1024,
  /** Characters in a pipeline `name`. */
  maxNameLength: 256,
  /** Characters in a pipeline or task `description`. */
  maxDescriptionLength: 4096,
  /** Characters in a task `image` reference. */
  maxImageLength: 1024,
  /** Characters in `registry_auth.user` or `registry_auth.pass` (registry access tokens can be long). */
  maxCredentialLength: 8192,
  /**
   * The longest timeout or retry delay, in milliseconds: 168h, a week. Also keeps every duration within what
   * a single timer can wait for (about 24.8 days).
   */
  maxDurationMs: 7 * 24 * 3_600_000,
  /** A task's `retries.limit`: attempts after the first. */
  maxRetries: 10,
  /** A task's `retries.factor`. */
  maxRetryFactor: 100,
  /** Characters in a `concurrency.group` template. */
  maxConcurrencyGroupLength: 256,
  /** Entries in a pipeline's `subscriptions`. */
  maxSubscriptions: 100,
  /** Entries in one declared subscription's `settings`. */
  maxSubscriptionSettings: 100,
} as const;
