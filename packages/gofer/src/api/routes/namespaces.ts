import { Type } from "typebox";
import { badRequest, GoferError, notFound } from "../../domain/errors.ts";
import type { Namespace } from "../../domain/models.ts";
import { requireNamespace } from "../../services/lookups.ts";
import {
  deleteNamespace,
  insertNamespace,
  listNamespaces,
  updateNamespace,
} from "../../storage/namespaces-store.ts";
import { listUnfinishedRuns } from "../../storage/runs-store.ts";
import type { RoutePlugin } from "../api-context.ts";
import { requireIdentifier } from "../guards.ts";
import { errorResponses, NamespaceParams } from "../schemas/common.ts";

const Text = (max: number) => Type.String({ maxLength: max });

export const namespaceRoutes: RoutePlugin = (app, { db, bus }) => {
  app.get(
    "/api/namespaces",
    {
      schema: {
        operationId: "list_namespaces",
        tags: ["Namespaces"],
        summary: "List all namespaces.",
        response: { 200: Type.Object({ namespaces: Type.Array(Type.Ref("Namespace")) }), ...errorResponses },
      },
    },
    async () => ({ namespaces: await listNamespaces(db) }),
  );

  app.post(
    "/api/namespaces",
    {
      schema: {
        operationId: "create_namespace",
        tags: ["Namespaces"],
        summary: "Create a namespace.",
        body: Type.Object(
          { id: Type.String({ maxLength: 64 }), name: Text(256), description: Text(4096) },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ namespace: Type.Ref("Namespace") }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { id, name, description } = request.body;
      requireIdentifier(id, "namespace id");
      const now = Date.now();
      const namespace: Namespace = { id, name, description, created: now, modified: now };
      const event = await db.transaction().execute(async (tx) => {
        if (!(await insertNamespace(tx, namespace))) {
          throw new GoferError("ALREADY_EXISTS", `Namespace "${id}" already exists`);
        }
        return bus.publish("created_namespace", { namespace_id: id }, tx);
      });
      bus.deliver(event);
      return reply.code(201).send({ namespace });
    },
  );

  app.get(
    "/api/namespaces/:namespace_id",
    {
      schema: {
        operationId: "get_namespace",
        tags: ["Namespaces"],
        summary: "Get a namespace.",
        params: NamespaceParams,
        response: { 200: Type.Object({ namespace: Type.Ref("Namespace") }), ...errorResponses },
      },
    },
    async (request) => ({ namespace: await requireNamespace(db, request.params.namespace_id) }),
  );

  app.patch(
    "/api/namespaces/:namespace_id",
    {
      schema: {
        operationId: "update_namespace",
        tags: ["Namespaces"],
        summary: "Change a namespace's name or description.",
        params: NamespaceParams,
        body: Type.Object(
          {
            name: Type.Optional(Type.Union([Text(256), Type.Null()])),
            description: Type.Optional(Type.Union([Text(4096), Type.Null()])),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ namespace: Type.Ref("Namespace") }), ...errorResponses },
      },
    },
    async (request) => {
      const { name, description } = request.body;
      if ((name === undefined || name === null) && (description === undefined || description === null)) {
        throw badRequest("Nothing to update; send `name` and/or `description`");
      }
      await requireNamespace(db, request.params.namespace_id);
      const namespace = await updateNamespace(db, request.params.namespace_id, {
        ...(typeof name === "string" && { name }),
        ...(typeof description === "string" && { description }),
        modified: Date.now(),
      });
      if (!namespace) throw notFound(`Namespace "${request.params.namespace_id}"`);
      return { namespace };
    },
  );

  app.delete(
    "/api/namespaces/:namespace_id",
    {
      schema: {
        operationId: "delete_namespace",
        tags: ["Namespaces"],
        summary:
          "Delete a namespace with its pipelines and runs. Refused while any of its runs is unfinished.",
        params: NamespaceParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const namespaceId = request.params.namespace_id;
      await requireNamespace(db, namespaceId);
      const busy = (await listUnfinishedRuns(db)).filter((run) => run.namespace_id === namespaceId);
      if (busy.length > 0) {
        throw new GoferError(
          "CONFLICT",
          `Namespace "${namespaceId}" has ${busy.length} unfinished run(s); cancel them and retry`,
        );
      }
      await deleteNamespace(db, namespaceId);
      await bus.publish("deleted_namespace", { namespace_id: namespaceId });
      return reply.code(204).send(null);
    },
  );
};
