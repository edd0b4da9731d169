/** `/api/roles`: the roles tokens carry, and their permissions. System roles are read-only. */
import { Type } from "typebox";
import { GoferError, notFound } from "../../domain/errors.ts";
import { type Permission, type Role, validatePermissions } from "../../domain/permissions.ts";
import { deleteRole, getRole, insertRole, listRoles, updateRole } from "../../storage/roles-store.ts";
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

const systemRoleRefusal = (id: string) =>
  new GoferError("FORBIDDEN", `Role "${id}" is a system role; system roles cannot be changed or deleted`);

async function requireRole(db: Parameters<RoutePlugin>[1]["db"], id: string): Promise<Role> {
  const role = await getRole(db, id);
  if (!role) throw notFound(`Role "${id}"`);
  return role;
}

export const roleRoutes: RoutePlugin = (app, { db, bus }) => {
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
    async () => ({ roles: await listRoles(db) }),
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
      validatePermissions(permissions as Permission[]);
      const role: Role = { id, description, permissions: permissions as Permission[], system_role: false };
      if (!(await insertRole(db, role))) {
        throw new GoferError("ALREADY_EXISTS", `Role "${id}" already exists`);
      }
      await bus.publish("created_role", { role_id: id });
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
    async (request) => ({ role: await requireRole(db, request.params.role_id) }),
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
      if ((description ?? null) === null && (permissions ?? null) === null) {
        throw new GoferError("BAD_REQUEST", "Nothing to update; send `description` and/or `permissions`");
      }
      const role = await requireRole(db, request.params.role_id);
      if (role.system_role) throw systemRoleRefusal(role.id);
      if (permissions) validatePermissions(permissions as Permission[]);
      const updated: Role = {
        ...role,
        description: description ?? role.description,
        permissions: (permissions as Permission[] | null | undefined) ?? role.permissions,
      };
      await updateRole(db, updated);
      return { role: updated };
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
      const role = await requireRole(db, request.params.role_id);
      if (role.system_role) throw systemRoleRefusal(role.id);
      await deleteRole(db, role.id);
      await bus.publish("deleted_role", { role_id: role.id });
      return reply.code(204).send(null);
    },
  );
};
