/** What route plugins receive: the app typed for TypeBox, and the services behind the API. */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from "fastify";
import type { AuditService } from "../services/audit-service.ts";
import type { ConfigService } from "../services/config-service.ts";
import type { DeploymentService } from "../services/deployment-service.ts";
import type { EventService } from "../services/event-service.ts";
import type { NamespaceService } from "../services/namespace-service.ts";
import type { ObjectService } from "../services/object-service.ts";
import type { PipelineService } from "../services/pipeline-service.ts";
import type { ReplicaService } from "../services/replica-service.ts";
import type { RoleService } from "../services/role-service.ts";
import type { RunService } from "../services/run-service.ts";
import type { SystemService } from "../services/system-service.ts";
import type { TaskExecutionService } from "../services/task-execution-service.ts";
import type { TokenService } from "../services/token-service.ts";

export type GoferApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** The services routes call: a route reaches nothing else. */
export interface ApiServices {
  audit: AuditService;
  objects: ObjectService;
  configs: ConfigService;
  deployments: DeploymentService;
  events: EventService;
  namespaces: NamespaceService;
  pipelines: PipelineService;
  roles: RoleService;
  runs: RunService;
  system: SystemService;
  replicas: ReplicaService;
  taskExecutions: TaskExecutionService;
  tokens: TokenService;
}

export type RoutePlugin = (app: GoferApp, services: ApiServices) => void;
