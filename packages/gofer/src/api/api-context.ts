/** What route plugins receive: the app typed for TypeBox, and the services behind the API. */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from "fastify";
import type { EventBus } from "../events/event-bus.ts";
import type { LogStore } from "../logs/log-store.ts";
import type { ObjectStore } from "../objects/object-store.ts";
import type { Orchestrator } from "../orchestrator/orchestrator.ts";
import type { GoferDb } from "../storage/database.ts";

export type GoferApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface ApiServices {
  db: GoferDb;
  bus: EventBus;
  logs: LogStore;
  objects: ObjectStore;
  orchestrator: Orchestrator;
  version: { semver: string; commit: string };
  /** Default grace period for task cancellation when the caller gives none. */
  stopTimeoutMs: number;
  /** `api.task_attach`: whether a terminal may be attached to a running task. */
  taskAttach: boolean;
}

export type RoutePlugin = (app: GoferApp, services: ApiServices) => void;
