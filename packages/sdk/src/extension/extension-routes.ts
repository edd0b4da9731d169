/**
 * The seven endpoints of the extension API (Gofer's extension OpenAPI document), each bound to the author's
 * handlers. Bodies arrive parsed and checked; what a handler throws is answered by `extension-http.ts`.
 */

import type { ExtensionContext, ExtensionDefinition, SubscriptionKey } from "./extension-definition.ts";
import type { Route } from "./extension-http.ts";
import { parseExternalEvent, parseSubscription, parseSubscriptionKey } from "./extension-requests.ts";

const MiB = 1024 * 1024;
const JSON_BODY_LIMIT = MiB;
/**
 * External events carry a third party's payload as a JSON array of numbers: up to four characters per byte. Gofer
 * bounds the raw payload (`external_events.body_limit`, 10 MiB by default), so this bound leaves room for that
 * whole payload once encoded.
 */
const EXTERNAL_EVENT_BODY_LIMIT = 48 * MiB;

export interface RouteOptions {
  definition: ExtensionDefinition;
  context: ExtensionContext;
  /** Starts the graceful shutdown; called once the 204 to POST /api/shutdown has been sent. */
  requestShutdown(): void;
}

export function extensionRoutes({ definition, context, requestShutdown }: RouteOptions): Route[] {
  const { documentation } = definition;
  const requiredParams = (documentation.subscriptionParams ?? [])
    .filter((param) => param.required)
    .map((param) => param.key);
  // Only for the default debug text: the kit knows which subscriptions succeeded, the author need not track them.
  const active = new Map<string, SubscriptionKey>();
  const keyOf = (key: SubscriptionKey) =>
    JSON.stringify([key.namespaceId, key.pipelineId, key.subscriptionId]);

  const routes: Route[] = [
    { method: "GET", path: "/api/health", public: true, handle: async () => ({ status: 204 }) },
    {
      method: "GET",
      path: "/api/info",
      handle: async () => ({
        status: 200,
        body: {
          extension_id: context.id,
          documentation: {
            body: documentation.body,
            config_params: (documentation.configParams ?? []).map(toWire),
            pipeline_subscription_params: (documentation.subscriptionParams ?? []).map(toWire),
          },
        },
      }),
    },
    {
      method: "GET",
      path: "/api/debug",
      handle: async () => ({
        status: 200,
        body: {
          info: definition.debug
            ? await definition.debug(context)
            : summary(context.id, [...active.values()]),
        },
      }),
    },
    {
      method: "POST",
      path: "/api/subscribe",
      bodyLimit: JSON_BODY_LIMIT,
      handle: async (body) => {
        const subscription = parseSubscription(body, requiredParams);
        await definition.subscribe(subscription, context);
        active.set(keyOf(subscription), {
          namespaceId: subscription.namespaceId,
          pipelineId: subscription.pipelineId,
          subscriptionId: subscription.subscriptionId,
        });
        context.log.info("subscribed", logFields(subscription));
        return { status: 204 };
      },
    },
    {
      method: "DELETE",
      path: "/api/subscribe",
      bodyLimit: JSON_BODY_LIMIT,
      handle: async (body) => {
        const key = parseSubscriptionKey(body);
        await definition.unsubscribe(key, context);
        active.delete(keyOf(key));
        context.log.info("unsubscribed", logFields(key));
        return { status: 204 };
      },
    },
    {
      method: "POST",
      path: "/api/shutdown",
      handle: async () => ({ status: 204, afterSend: requestShutdown }),
    },
  ];

  const { externalEvent } = definition;
  if (externalEvent) {
    routes.push({
      method: "POST",
      path: "/api/external-event",
      bodyLimit: EXTERNAL_EVENT_BODY_LIMIT,
      handle: async (body) => {
        await externalEvent.call(definition, parseExternalEvent(body), context);
        return { status: 204 };
      },
    });
  }
  return routes;
}

function toWire(param: { key: string; required: boolean; documentation: string }) {
  return { key: param.key, required: param.required, documentation: param.documentation };
}

function logFields(key: SubscriptionKey): Record<string, string> {
  return { namespace: key.namespaceId, pipeline: key.pipelineId, subscription: key.subscriptionId };
}

function summary(id: string, subscriptions: SubscriptionKey[]): string {
  const count = subscriptions.length === 1 ? "1 subscription" : `${subscriptions.length} subscriptions`;
  const lines = subscriptions.map((key) => `  ${key.namespaceId}/${key.pipelineId} ${key.subscriptionId}`);
  return [`Extension ${id}: ${count}`, ...lines].join("\n");
}
