/**
 * @gofer/sdk/client: the typed client for Gofer's v0 API. Depends on nothing but the platform (`fetch`,
 * `WebSocket`, `AbortSignal`, `TextDecoder`), and does no work until a client is constructed.
 */

export type { PipelineConfig } from "../pipeline-config.ts";
export type { AuditApi, ListAuditOptions } from "./audit-api.ts";
export type { GoferApiErrorDetails, GoferConnectionErrorOptions } from "./errors.ts";
export { GoferApiError, GoferConnectionError } from "./errors.ts";
export { eventOf } from "./event-kinds.ts";
export type { ExtensionLogOptions, ExtensionsApi } from "./extensions-api.ts";
export type {
  CancelTaskOptions,
  ConfigsApi,
  DeploymentsApi,
  EventStreamOptions,
  EventsApi,
  GoferClientOptions,
  ListRunsOptions,
  NamespacesApi,
  PipelinesApi,
  RunsApi,
  SystemApi,
  TaskLogOptions,
  TasksApi,
  TokensApi,
} from "./gofer-client.ts";
export { GoferClient } from "./gofer-client.ts";
export type { TaskLogLine } from "./line-stream.ts";
export type * from "./notification-types.ts";
export type {
  ListDeliveriesOptions,
  NotificationScope,
  NotificationsApi,
} from "./notifications-api.ts";
export type {
  ExtensionObjectsApi,
  ObjectBody,
  ObjectStreamOptions,
  ObjectsApi,
  PipelineObjectsApi,
  PutObjectOptions,
  RunObjectsApi,
  StoredObject,
} from "./objects-api.ts";
export type { RolesApi } from "./roles-api.ts";
export type {
  GetSecretOptions,
  GlobalSecretsApi,
  PipelineSecretsApi,
  PutGlobalSecretOptions,
  PutSecretOptions,
  Secret,
  SecretsApi,
  SecretWithValue,
} from "./secrets-api.ts";
export type { SubscriptionsApi } from "./subscriptions-api.ts";
export type { AttachOptions, TaskTerminal } from "./task-terminal.ts";
export type * from "./wire-types.ts";
export { RUN_LIST_STATUSES } from "./wire-types.ts";
