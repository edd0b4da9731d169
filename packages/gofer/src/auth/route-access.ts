/**
 * What every route needs, in one table keyed by the v0 operation id. Route definitions read their entry from
 * here (never declare it inline), so a reviewer can audit access in one place and a route without an entry
 * fails at startup rather than shipping open.
 *
 * `public`: no token needed. `authenticated`: any valid token. Resource and action checks (roles) extend the
 * `authenticated` entries without changing the routes.
 */
export type RouteAccess = { kind: "public" } | { kind: "authenticated" };

const PUBLIC: RouteAccess = { kind: "public" };
const AUTHENTICATED: RouteAccess = { kind: "authenticated" };

export const ROUTE_ACCESS: Record<string, RouteAccess> = {
  get_system_metadata: PUBLIC,
  create_bootstrap_token: PUBLIC,
  get_openapi_document: PUBLIC,
  whoami: AUTHENTICATED,
  list_namespaces: AUTHENTICATED,
  create_namespace: AUTHENTICATED,
  get_namespace: AUTHENTICATED,
  update_namespace: AUTHENTICATED,
  delete_namespace: AUTHENTICATED,
  list_pipelines: AUTHENTICATED,
  get_pipeline: AUTHENTICATED,
  update_pipeline: AUTHENTICATED,
  delete_pipeline: AUTHENTICATED,
  list_configs: AUTHENTICATED,
  register_config: AUTHENTICATED,
  get_config: AUTHENTICATED,
  deploy_config: AUTHENTICATED,
  delete_config: AUTHENTICATED,
  list_deployments: AUTHENTICATED,
  get_deployment: AUTHENTICATED,
  list_runs: AUTHENTICATED,
  start_run: AUTHENTICATED,
  get_run: AUTHENTICATED,
  cancel_run: AUTHENTICATED,
  list_task_executions: AUTHENTICATED,
  get_task_execution: AUTHENTICATED,
  cancel_task_execution: AUTHENTICATED,
  get_logs: AUTHENTICATED,
  delete_logs: AUTHENTICATED,
  stream_events: AUTHENTICATED,
  get_event: AUTHENTICATED,
  delete_event: AUTHENTICATED,
};

export function accessFor(operationId: string): RouteAccess {
  const access = ROUTE_ACCESS[operationId];
  if (!access) throw new Error(`route ${operationId} has no entry in ROUTE_ACCESS`);
  return access;
}
