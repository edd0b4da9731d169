/**
 * Decides whether a request may reach its route, from the route's entry in ROUTE_ACCESS and the caller's
 * token. It runs before the route looks anything up, so a refusal is the same whether or not the named
 * namespace or pipeline exists.
 */
import { GoferError } from "../domain/errors.ts";
import {
  ANONYMOUS_ROLE,
  describeNeeds,
  type ResourceName,
  type ResourceNeed,
  rolesSatisfy,
} from "../domain/permissions.ts";
import type { GoferDb } from "../storage/database.ts";
import { getRoles } from "../storage/roles-store.ts";
import type { ResourceTemplate, RouteAccess } from "./route-access.ts";
import { ANONYMOUS, authenticate, BYPASS, type Principal } from "./tokens.ts";

export interface AccessRequest {
  access: RouteAccess;
  authorization: string | undefined;
  /** Path parameters, already decoded: the concrete targets of the route's resources. */
  params: Record<string, string | undefined>;
  bypassAuth: boolean;
}

/** Fills `{param}` targets from the path. */
export function resolveNeeds(
  resources: ResourceTemplate[],
  params: Record<string, string | undefined>,
): ResourceNeed[] {
  return resources.map((template) => {
    const match = /^(\w+):\{(\w+)\}$/.exec(template);
    if (!match) return { name: template as ResourceName };
    const [, name, param] = match as unknown as [string, ResourceName, string];
    const target = params[param];
    if (target === undefined)
      throw new Error(`route access names path parameter {${param}}, which the route lacks`);
    return { name, target };
  });
}

/** Returns who is calling, or throws the 401 or 403 the caller gets. */
export async function authorizeRequest(db: GoferDb, request: AccessRequest): Promise<Principal> {
  const { access, authorization } = request;
  if (access.kind === "public") return ANONYMOUS;
  if (request.bypassAuth && !authorization) return BYPASS;

  if (!authorization && access.kind === "resources" && access.anonymous) {
    const needs = resolveNeeds(access.resources, request.params);
    if (rolesSatisfy(await getRoles(db, [ANONYMOUS_ROLE]), access.action, needs)) return ANONYMOUS;
    throw new GoferError(
      "UNAUTHENTICATED",
      `Requests without a token may not ${access.action} ${describeNeeds(needs)}; send \`Authorization: Bearer <token>\``,
    );
  }

  const principal = await authenticate(db, authorization);
  if (principal.admin || access.kind === "authenticated") return principal;
  if (access.kind === "admin") {
    throw new GoferError("FORBIDDEN", "This route needs an admin token (a token with the `admin` role)");
  }
  const needs = resolveNeeds(access.resources, request.params);
  const roles = await getRoles(db, principal.token?.roles ?? []);
  if (!rolesSatisfy(roles, access.action, needs)) {
    throw new GoferError(
      "FORBIDDEN",
      `This token may not ${access.action} ${describeNeeds(needs)}: no single role of it grants ${access.action} on all of these`,
    );
  }
  return principal;
}
