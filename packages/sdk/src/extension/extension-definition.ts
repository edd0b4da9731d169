/**
 * What an extension author writes: the documentation Gofer shows for the extension and the handlers the kit
 * calls for each request Gofer sends. The kit does the HTTP, the authentication and the validation around them.
 */

import type { GoferClient } from "../client/index.ts";
import type { ExtensionLogger } from "./extension-logger.ts";

/** One install setting or subscription parameter, as Gofer lists it to users. */
export interface ParameterDoc {
  /** Letters, digits and `_`. A config param `min_interval` arrives as GOFER_EXTENSION_CONFIG_MIN_INTERVAL. */
  key: string;
  required: boolean;
  documentation: string;
}

/** Which subscription a request is about: a pipeline may subscribe to one extension several times. */
export interface SubscriptionKey {
  namespaceId: string;
  pipelineId: string;
  /** Chosen by the pipeline's owner, unique among the pipeline's subscriptions to this extension. */
  subscriptionId: string;
}

export interface Subscription extends SubscriptionKey {
  /** The pipeline's settings for this subscription; every required subscription param is present. */
  params: Record<string, string>;
}

/** A request a third party sent to Gofer for this extension (e.g. a webhook), as Gofer passes it on. */
export interface ExternalEvent {
  headers: Record<string, string>;
  body: Uint8Array;
}

/** What every handler gets: the extension's settings and the means to act on Gofer. */
export interface ExtensionContext {
  /** GOFER_EXTENSION_SYSTEM_ID, e.g. `interval`. */
  id: string;
  /** GOFER_EXTENSION_CONFIG_<KEY upper-cased>; an empty value reads as undefined. */
  config(key: string): string | undefined;
  /** Gofer's API, authenticated as the extension (its token is the system secret). */
  client: GoferClient;
  /** JSON lines on stdout, at GOFER_EXTENSION_SYSTEM_LOG_LEVEL or more severe. */
  log: ExtensionLogger;
  /** Starts a run of the pipeline; resolves with the run id. Failures are logged and rethrown. */
  startRun(
    key: { namespaceId: string; pipelineId: string },
    variables?: Record<string, string>,
  ): Promise<number>;
  /** Aborted when the extension is shutting down: timers and loops stop on it. */
  signal: AbortSignal;
}

export interface ExtensionDefinition {
  documentation: {
    /** Shown to users looking the extension up (`gofer extension get`, the web UI); Markdown, rendered in the web UI. */
    body: string;
    configParams?: ParameterDoc[];
    subscriptionParams?: ParameterDoc[];
  };
  /** Once, before listening: read and check config; throw ExtensionError/Error → the process exits 1 with the message. */
  setup?(context: ExtensionContext): void | Promise<void>;
  /** Idempotent: the same key may arrive again (Gofer replays after restarts); replace the previous one. */
  subscribe(subscription: Subscription, context: ExtensionContext): void | Promise<void>;
  /** An unknown key is no error: Gofer may unsubscribe what a restart already forgot. */
  unsubscribe(key: SubscriptionKey, context: ExtensionContext): void | Promise<void>;
  /** Absent → 404 on /api/external-event. */
  externalEvent?(event: ExternalEvent, context: ExtensionContext): void | Promise<void>;
  /** The text of GET /api/debug; absent → a summary of the extension's subscriptions. */
  debug?(context: ExtensionContext): string | Promise<string>;
  /** Called once when the extension stops, after `context.signal` is aborted; given at most 10 seconds. */
  shutdown?(context: ExtensionContext): void | Promise<void>;
}

/** Returns `definition` unchanged: it exists so an object literal is checked against ExtensionDefinition. */
export function defineExtension(definition: ExtensionDefinition): ExtensionDefinition {
  return definition;
}
