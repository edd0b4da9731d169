/**
 * What every route needs, in one table keyed by the v0 operation id. Route definitions never declare access
 * inline: the server looks each route up here when it is registered (a route without an entry fails startup
 * rather than shipping open), so a reviewer can audit access in one place.
 *
 * Kinds:
 * - `public`: no token needed.
 * - `authenticated`: any valid token.
 * - `admin`: a token holding the `admin` (or `bootstrap`) role.
 * - `resources`: one action on a list of resources; `{param}` in a target is the concrete id from the path.
 *   A resource without a target (a list route) is satisfied by a permission on that resource with any target.
 *   `anonymous` routes also answer requests without an Authorization header, through the `anonymous` role.
 *
 * Differences from v0, on purpose: cancelling a run needs `runs` write (v0: read); putting and deleting a
 * pipeline secret need `secrets` write and delete (v0: read); `whoami` needs only a valid token, so any token
 * can see itself.
 */
import type { Action, ResourceName } from "../domain/permissions.ts";

/** `namespaces:{namespace_id}` or `runs`: a resource name with an optional target template. */
export type ResourceTemplate = ResourceName | `${ResourceName}:{${string}}`;

export type RouteAccess =
  | { kind: "public" }
  | { kind: "authenticated" }
  | { kind: "admin" }
  | { kind: "resources"; action: Action; resources: ResourceTemplate[]; anonymous: boolean };

const PUBLIC: RouteAccess = { kind: "public" };
const AUTHENTICATED: RouteAccess = { kind: "authenticated" };
const ADMIN: RouteAccess = { kind: "admin" };
const needs =
  (action: Action) =>
  (...resources: ResourceTemplate[]): RouteAccess => ({
    kind: "resources",
    action,
    resources,
    anonymous: false,
  });
const read = needs("read");
const write = needs("write");
const remove = needs("delete");
/** Read access that also answers requests without a token, through the `anonymous` role (v0's dashboard routes). */
const anonymousRead = (...resources: ResourceTemplate[]): RouteAccess => ({
  kind: "resources",
  action: "read",
  resources,
  anonymous: true,
});

const NS = "namespaces:{namespace_id}";
const PIPE = "pipelines:{pipeline_id}";
const EXT = "extensions:{extension_id}";

// biome-ignore format: one line per operation keeps the table auditable
export const ROUTE_ACCESS: Record<string, RouteAccess> = {
  get_system_metadata:             PUBLIC,
  get_openapi_document:            PUBLIC,
  get_system_preferences:          ADMIN,
  list_replicas:                   ADMIN,
  update_system_preferences:       ADMIN,

  create_bootstrap_token:          PUBLIC,
  whoami:                          AUTHENTICATED,
  list_tokens:                     ADMIN,
  create_token:                    ADMIN,
  get_token_by_id:                 read("tokens"),
  update_token:                    ADMIN,
  delete_token:                    ADMIN,

  list_roles:                      read("permissions"),
  get_role:                        read("permissions"),
  create_role:                     ADMIN,
  update_role:                     ADMIN,
  delete_role:                     ADMIN,

  list_namespaces:                 read("namespaces"),
  create_namespace:                ADMIN,
  get_namespace:                   read(NS),
  update_namespace:                ADMIN,
  delete_namespace:                ADMIN,

  list_pipelines:                  anonymousRead(NS, "pipelines"),
  get_pipeline:                    anonymousRead(NS, PIPE),
  update_pipeline:                 write(NS, PIPE),
  delete_pipeline:                 remove(NS, PIPE),

  list_configs:                    read(NS, PIPE, "configs"),
  register_config:                 write(NS, PIPE, "configs"),
  get_config:                      read(NS, PIPE, "configs"),
  deploy_config:                   ADMIN,
  delete_config:                   remove(NS, PIPE, "configs"),

  list_deployments:                read(NS, PIPE, "deployments"),
  get_deployment:                  read(NS, PIPE, "deployments"),

  list_runs:                       anonymousRead(NS, PIPE, "runs"),
  start_run:                       write(NS, PIPE, "runs"),
  get_run:                         anonymousRead(NS, PIPE, "runs"),
  cancel_run:                      write(NS, PIPE, "runs"),
  retry_run:                       write(NS, PIPE, "runs"),

  list_task_executions:            read(NS, PIPE, "runs", "task_executions"),
  get_task_execution:              read(NS, PIPE, "runs", "task_executions"),
  cancel_task_execution:           remove(NS, PIPE, "runs", "task_executions"),
  get_logs:                        read(NS, PIPE, "runs", "task_executions"),
  list_task_attempts:              read(NS, PIPE, "runs", "task_executions"),
  get_attempt_logs:                read(NS, PIPE, "runs", "task_executions"),
  delete_logs:                     remove(NS, PIPE, "runs", "task_executions"),
  attach_task_execution:           write(NS, PIPE, "runs", "task_executions"),

  list_pipeline_objects:           read(NS, PIPE, "objects"),
  get_pipeline_object:             read(NS, PIPE, "objects"),
  put_pipeline_object:             write(NS, PIPE, "objects"),
  delete_pipeline_object:          remove(NS, PIPE, "objects"),
  list_run_objects:                read(NS, PIPE, "runs", "objects"),
  get_run_object:                  read(NS, PIPE, "runs", "objects"),
  put_run_object:                  write(NS, PIPE, "runs", "objects"),
  delete_run_object:               remove(NS, PIPE, "runs", "objects"),
  list_extension_objects:          read(EXT, "objects"),
  get_extension_object:            read(EXT, "objects"),
  put_extension_object:            write(EXT, "objects"),
  delete_extension_object:         remove(EXT, "objects"),

  list_pipeline_secrets:           read(NS, PIPE, "secrets"),
  get_pipeline_secret:             read(NS, PIPE, "secrets"),
  put_pipeline_secret:             write(NS, PIPE, "secrets"),
  delete_pipeline_secret:          remove(NS, PIPE, "secrets"),
  list_global_secrets:             ADMIN,
  get_global_secret:               ADMIN,
  put_global_secret:               ADMIN,
  delete_global_secret:            ADMIN,

  list_subscriptions:              read(NS, PIPE, "subscriptions"),
  create_subscription:             write(NS, PIPE, "subscriptions"),
  get_subscription:                read(NS, PIPE, "subscriptions"),
  update_subscription:             write(NS, PIPE, "subscriptions"),
  delete_subscription:             remove(NS, PIPE, "subscriptions"),

  // Notification targets (an extension of v0) belong to their namespace or pipeline like its other settings.
  list_namespace_notifications:             read(NS),
  create_namespace_notification:            write(NS),
  get_namespace_notification:               read(NS),
  update_namespace_notification:            write(NS),
  delete_namespace_notification:            remove(NS),
  list_namespace_notification_deliveries:   read(NS),
  test_namespace_notification:              write(NS),
  list_pipeline_notifications:              read(NS, PIPE),
  create_pipeline_notification:             write(NS, PIPE),
  get_pipeline_notification:                read(NS, PIPE),
  update_pipeline_notification:             write(NS, PIPE),
  delete_pipeline_notification:             remove(NS, PIPE),
  list_pipeline_notification_deliveries:    read(NS, PIPE),
  test_pipeline_notification:               write(NS, PIPE),

  list_extensions:                 read("extensions"),
  install_extension:               ADMIN,
  get_extension:                   read(EXT),
  update_extension:                ADMIN,
  uninstall_extension:             ADMIN,
  get_extension_debug_info:        ADMIN,
  get_extension_logs:              read(EXT),
  list_extension_subscriptions:    read(EXT),

  stream_events:                   read("events"),
  get_event:                       read("events"),
  delete_event:                    ADMIN,

  list_audit_events:               ADMIN,
};

export function accessFor(operationId: string): RouteAccess {
  const access = ROUTE_ACCESS[operationId];
  if (!access) throw new Error(`route ${operationId} has no entry in ROUTE_ACCESS (auth/route-access.ts)`);
  return access;
}
