/**
 * The `notifications` group of the client (an extension of v0): a namespace's or a pipeline's notification
 * targets, and what was delivered to them. A scope is a namespace (its target fires for every pipeline in it) or a
 * namespace and a pipeline.
 */
import { type HttpClient, apiPath as path } from "./http.ts";
import type {
  CreatedNotification,
  CreateNotificationInput,
  Notification,
  NotificationDelivery,
} from "./notification-types.ts";

/** Whose targets: a namespace's own, or one pipeline's. */
export interface NotificationScope {
  namespace: string;
  /** Omitted: the namespace's targets. */
  pipelineId?: string | undefined;
}

export interface ListDeliveriesOptions {
  /** At most this many, newest first; 1–200, default 50. */
  limit?: number;
}

export interface NotificationsApi {
  list(scope: NotificationScope): Promise<Notification[]>;
  get(scope: NotificationScope, notificationId: string): Promise<Notification>;
  /**
   * Stores the target (enabled). For a `json` target without a `secret`, Gofer makes one: it is in this answer
   * only. A bad URL, event or format answers 400.
   */
  create(scope: NotificationScope, input: CreateNotificationInput): Promise<CreatedNotification>;
  /** Enabling clears a failing target's count of failures, so it gets a fresh run of attempts. */
  setState(
    scope: NotificationScope,
    notificationId: string,
    state: "enabled" | "disabled",
  ): Promise<Notification>;
  /** Deletes the target and its deliveries; one being sent is dropped. */
  delete(scope: NotificationScope, notificationId: string): Promise<void>;
  /** Newest first. */
  deliveries(
    scope: NotificationScope,
    notificationId: string,
    options?: ListDeliveriesOptions,
  ): Promise<NotificationDelivery[]>;
  /**
   * Sends a `test` delivery now, once (even to a disabled target), and answers when the receiver has (or the
   * timeout passed): the delivery with its one attempt. It never changes the target's state.
   */
  test(scope: NotificationScope, notificationId: string): Promise<NotificationDelivery>;
}

export function notificationsApi(http: HttpClient): NotificationsApi {
  const targets = ({ namespace, pipelineId }: NotificationScope) =>
    pipelineId === undefined
      ? path`/api/namespaces/${namespace}/notifications`
      : path`/api/namespaces/${namespace}/pipelines/${pipelineId}/notifications`;
  const target = (scope: NotificationScope, notificationId: string) =>
    targets(scope) + path`/${notificationId}`;
  return {
    list: async (scope) => http.json("GET", targets(scope), "notifications"),
    get: async (scope, notificationId) => http.json("GET", target(scope, notificationId), "notification"),
    create: async (scope, input) =>
      http.json("POST", targets(scope), undefined, {
        body: {
          url: input.url,
          events: input.events,
          format: input.format,
          secret: input.secret,
          description: input.description,
        },
      }),
    setState: async (scope, notificationId, state) =>
      http.json("PATCH", target(scope, notificationId), "notification", { body: { state } }),
    delete: async (scope, notificationId) => http.empty("DELETE", target(scope, notificationId)),
    deliveries: async (scope, notificationId, options = {}) =>
      http.json("GET", `${target(scope, notificationId)}/deliveries`, "deliveries", {
        query: { limit: options.limit },
      }),
    test: async (scope, notificationId) =>
      http.json("POST", `${target(scope, notificationId)}/test`, "delivery"),
  };
}
