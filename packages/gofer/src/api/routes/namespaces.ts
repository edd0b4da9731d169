import { Type } from "typebox";
import type { RoutePlugin } from "../api-context.ts";
import { requireIdentifier } from "../guards.ts";
import { errorResponses, NamespaceParams } from "../schemas/common.ts";

const Text = (max: number) => Type.String({ maxLength: max });

export const namespaceRoutes: RoutePlugin = (app, { namespaces }) => {
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
    async () => ({ namespaces: await namespaces.list() }),
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
      requireIdentifier(request.body.id, "namespace id");
      return reply.code(201).send({ namespace: await namespaces.create(request.body) });
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
    async (request) => ({ namespace: await namespaces.get(request.params.namespace_id) }),
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
    async (request) => ({ namespace: await namespaces.update(request.params.namespace_id, request.body) }),
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
      await namespaces.delete(request.params.namespace_id);
      return reply.code(204).send(null);
    },
  );
};
