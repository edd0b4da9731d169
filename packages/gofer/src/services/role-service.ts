/** The roles tokens carry, and their permissions. System roles are read-only: the code defines them. */
import { GoferError, notFound } from "../domain/errors.ts";
import { type Permission, type Role, validatePermissions } from "../domain/permissions.ts";
import type { EventBus } from "../events/event-bus.ts";
import type { GoferDb } from "../storage/database.ts";
import { deleteRole, getRole, insertRole, listRoles, updateRole } from "../storage/roles-store.ts";

export interface RoleChange {
  description?: string | null | undefined;
  permissions?: Permission[] | null | undefined;
}

const systemRoleRefusal = (id: string) =>
  new GoferError("FORBIDDEN", `Role "${id}" is a system role; system roles cannot be changed or deleted`);

export class RoleService {
  readonly #db: GoferDb;
  readonly #bus: EventBus;

  constructor({ db, bus }: { db: GoferDb; bus: EventBus }) {
    this.#db = db;
    this.#bus = bus;
  }

  list(): Promise<Role[]> {
    return listRoles(this.#db);
  }

  async get(id: string): Promise<Role> {
    const role = await getRole(this.#db, id);
    if (!role) throw notFound(`Role "${id}"`);
    return role;
  }

  /** Resource strings are checked and target regexes compiled before anything is stored. */
  async create(input: { id: string; description: string; permissions: Permission[] }): Promise<Role> {
    validatePermissions(input.permissions);
    const role: Role = {
      id: input.id,
      description: input.description,
      permissions: input.permissions,
      system_role: false,
    };
    await this.#bus.transaction(async (tx, publish) => {
      if (!(await insertRole(tx, role))) {
        throw new GoferError("ALREADY_EXISTS", `Role "${role.id}" already exists`);
      }
      await publish("created_role", { role_id: role.id });
    });
    return role;
  }

  async update(id: string, { description, permissions }: RoleChange): Promise<Role> {
    if ((description ?? null) === null && (permissions ?? null) === null) {
      throw new GoferError("BAD_REQUEST", "Nothing to update; send `description` and/or `permissions`");
    }
    const role = await this.get(id);
    if (role.system_role) throw systemRoleRefusal(role.id);
    if (permissions) validatePermissions(permissions);
    const updated: Role = {
      ...role,
      description: description ?? role.description,
      permissions: permissions ?? role.permissions,
    };
    await updateRole(this.#db, updated);
    return updated;
  }

  /** Tokens that carry the role keep its id but lose its permissions. */
  async delete(id: string): Promise<void> {
    const role = await this.get(id);
    if (role.system_role) throw systemRoleRefusal(role.id);
    await this.#bus.transaction(async (tx, publish) => {
      await deleteRole(tx, role.id);
      await publish("deleted_role", { role_id: role.id });
    });
  }
}
