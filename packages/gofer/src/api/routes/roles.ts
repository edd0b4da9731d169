/** `/api/roles`: the roles tokens carry, and their permissions. System roles are read-only. */
import { Type } from "typebox";
import type { Permission } from "../../domain/permissions.ts";
import type { RoutePlugin } from "../api-context.ts";
import { requireIdentifier } from "../guards.ts";
import { errorResponses, IdentifierParam, Nullable } from "../schemas/common.ts";

const RoleParams = Type.Object({ role_id: IdentifierParam });
const PermissionInput = Type.Object(
  {
    resources: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    actions: Type.Array(Type.Union(["read", "write", "delete"].map((value) => Type.Literal(value))), {
      minItems: 1,
    }),
  },
  { additionalProperties: false },
);
const RoleEnvelope = Type.Object({ role: Type.Ref("Role") });

export const roleRoutes: RoutePlugin = (app, { roles }) => {
  app.get(
    "/api/roles",
    {
      schema: {
        operationId: "list_roles",
        tags: ["Permissions"],
        summary: "List every role, system roles included.",
        response: { 200: Type.Object({ roles: Type.Array(Type.Ref("Role")) }), ...errorResponses },
      },
    },
    async () => ({ roles: await roles.list() }),
  );

  app.post(
    "/api/roles",
    {
      schema: {
        operationId: "create_role",
        tags: ["Permissions"],
        summary:
          "Create a role. Resource strings are checked and target regexes compiled before it is stored.",
        body: Type.Object(
          {
            id: Type.String(),
            description: Type.String(),
            permissions: Type.Array(PermissionInput),
          },
          { additionalProperties: false },
        ),
        response: { 201: RoleEnvelope, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { id, description, permissions } = request.body;
      requireIdentifier(id, "role id");
      const role = await roles.create({ id, description, permissions: permissions as Permission[] });
      return reply.code(201).send({ role });
    },
  );

  app.get(
    "/api/roles/:role_id",
    {
      schema: {
        operationId: "get_role",
        tags: ["Permissions"],
        summary: "Get one role.",
        params: RoleParams,
        response: { 200: RoleEnvelope, ...errorResponses },
      },
    },
    async (request) => ({ role: await roles.get(request.params.role_id) }),
  );

  app.patch(
    "/api/roles/:role_id",
    {
      schema: {
        operationId: "update_role",
        tags: ["Permissions"],
        summary: "Change a role's description or replace its permissions. System roles answer 403.",
        params: RoleParams,
        body: Type.Object(
          {
            description: Type.Optional(Nullable(Type.String())),
            permissions: Type.Optional(Nullable(Type.Array(PermissionInput))),
          },
          { additionalProperties: false },
        ),
        response: { 200: RoleEnvelope, ...errorResponses },
      },
    },
    async (request) => {
      const { description, permissions } = request.body;
      const change = { description, permissions: permissions as Permission[] | null | undefined };
      return { role: await roles.update(request.params.role_id, change) };
    },
  );

  app.delete(
    "/api/roles/:role_id",
    {
      schema: {
        operationId: "delete_role",
        tags: ["Permissions"],
        summary: "Delete a role. Tokens that carry it lose its permissions. System roles answer 403.",
        params: RoleParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await roles.delete(request.params.role_id);
      return reply.code(204).send(null);
    },
  );
};
