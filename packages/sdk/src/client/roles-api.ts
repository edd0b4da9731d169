/** The `roles` group of the client: the roles tokens carry and their permissions. */
import { type HttpClient, apiPath as path } from "./http.ts";
import type { CreateRoleInput, Role, UpdateRoleInput } from "./wire-types.ts";

export interface RolesApi {
  /** Every role, system roles included. */
  list(): Promise<Role[]>;
  get(id: string): Promise<Role>;
  /** Fails with 400 `INVALID_PERMISSION` naming a resource string the server does not know. */
  create(input: CreateRoleInput): Promise<Role>;
  /** Changes only the fields given; system roles answer 403. */
  update(id: string, input: UpdateRoleInput): Promise<Role>;
  /** Tokens that carry the role lose its permissions. System roles answer 403. */
  delete(id: string): Promise<void>;
}

export function rolesApi(http: HttpClient): RolesApi {
  return {
    list: async () => http.json("GET", "/api/roles", "roles"),
    get: async (id) => http.json("GET", path`/api/roles/${id}`, "role"),
    create: async (input) =>
      http.json("POST", "/api/roles", "role", {
        body: { id: input.id, description: input.description ?? "", permissions: input.permissions },
      }),
    update: async (id, input) =>
      http.json("PATCH", path`/api/roles/${id}`, "role", {
        body: { description: input.description, permissions: input.permissions },
      }),
    delete: async (id) => http.empty("DELETE", path`/api/roles/${id}`),
  };
}
