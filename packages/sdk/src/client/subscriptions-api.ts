/**
 * The `subscriptions` group of the client: a pipeline's subscriptions to extensions ("run every 5 minutes"), each
 * named by the extension's id and a subscription id unique among the pipeline's subscriptions to it.
 */
import { type HttpClient, apiPath as path } from "./http.ts";
import type { CreateSubscriptionInput, Subscription } from "./wire-types.ts";

export interface SubscriptionsApi {
  list(namespace: string, pipelineId: string): Promise<Subscription[]>;
  get(
    namespace: string,
    pipelineId: string,
    extensionId: string,
    subscriptionId: string,
  ): Promise<Subscription>;
  /**
   * Hands the settings to the extension, which must accept them, then stores the subscription as `active`.
   * Setting values may be `pipeline_secret{{key}}`, `global_secret{{key}}` or `pipeline_object{{key}}`
   * references, resolved by the server. An existing subscription answers 409, as does a disabled extension; a
   * missing pipeline or extension, 404.
   */
  create(namespace: string, pipelineId: string, input: CreateSubscriptionInput): Promise<Subscription>;
  /** Sets the status to `active`. The server answers 204 without a body; fetch it to see the change. */
  enable(namespace: string, pipelineId: string, extensionId: string, subscriptionId: string): Promise<void>;
  /** Sets the status to `disabled`: the subscription is kept but starts no runs. */
  disable(namespace: string, pipelineId: string, extensionId: string, subscriptionId: string): Promise<void>;
  /** Removes the subscription and tells the extension to drop it. */
  delete(namespace: string, pipelineId: string, extensionId: string, subscriptionId: string): Promise<void>;
}

export function subscriptionsApi(http: HttpClient): SubscriptionsApi {
  const subscriptions = (namespace: string, pipelineId: string) =>
    path`/api/namespaces/${namespace}/pipelines/${pipelineId}/subscriptions`;
  const subscription = (namespace: string, pipelineId: string, extensionId: string, subscriptionId: string) =>
    subscriptions(namespace, pipelineId) + path`/${extensionId}/${subscriptionId}`;
  return {
    list: async (namespace, pipelineId) =>
      http.json("GET", subscriptions(namespace, pipelineId), "subscriptions"),
    get: async (namespace, pipelineId, extensionId, subscriptionId) =>
      http.json("GET", subscription(namespace, pipelineId, extensionId, subscriptionId), "subscription"),
    create: async (namespace, pipelineId, input) =>
      http.json("POST", subscriptions(namespace, pipelineId), "subscription", {
        body: {
          extension_id: input.extension_id,
          subscription_id: input.subscription_id,
          settings: input.settings,
        },
      }),
    enable: async (namespace, pipelineId, extensionId, subscriptionId) =>
      http.empty("PATCH", subscription(namespace, pipelineId, extensionId, subscriptionId), {
        body: { status: "active" },
      }),
    disable: async (namespace, pipelineId, extensionId, subscriptionId) =>
      http.empty("PATCH", subscription(namespace, pipelineId, extensionId, subscriptionId), {
        body: { status: "disabled" },
      }),
    delete: async (namespace, pipelineId, extensionId, subscriptionId) =>
      http.empty("DELETE", subscription(namespace, pipelineId, extensionId, subscriptionId)),
  };
}
