/**
 * @gofer/sdk/extension: the kit for writing a Gofer extension, a long-running container that Gofer asks to
 * watch for something (a timer, a schedule, a webhook) on behalf of pipelines and that starts their runs.
 * The kit serves the extension API; the author writes the handlers.
 */

export type {
  ExtensionContext,
  ExtensionDefinition,
  ExternalEvent,
  ParameterDoc,
  Subscription,
  SubscriptionKey,
} from "./extension-definition.ts";
export { defineExtension } from "./extension-definition.ts";
export { ExtensionError, KIT_ERRORS, type KitErrorCode } from "./extension-error.ts";
export type { ExtensionLogger } from "./extension-logger.ts";
export type { RunningExtension, RunOptions } from "./run-extension.ts";
export { runExtension } from "./run-extension.ts";
