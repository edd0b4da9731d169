/**
 * Roles and permissions (v0's RBAC model), as pure logic: parsing a role's resource strings, the system roles,
 * and deciding whether a set of roles grants what a route needs.
 *
 * Targets are regexes matched against the WHOLE id (`^(?:re)$`): v0 matched unanchored, so `pipelines:web`
 * also granted `web-internal`; an anchored match makes a role mean what it says.
 */
import { GoferError } from "./errors.ts";

export const ACTIONS = ["read", "write", "delete"] as const;
export type Action = (typeof ACTIONS)[number];

/** Resources that name a specific object and so take a target regex (`namespaces:^devops.*`). */
const TARGETED = ["extensions", "namespaces", "pipelines"] as const;
/** Resources that stand for a group of endpoints and take no target. */
const PLAIN = [
  "all",
  "configs",
  "deployments",
  "events",
  "objects",
  "permissions",
  "runs",
  "secrets",
  "subscriptions",
  "system",
  "task_executions",
  "tokens",
] as const;

export type ResourceName = (typeof TARGETED)[number] | (typeof PLAIN)[number];
export const RESOURCE_NAMES: readonly ResourceName[] = [...PLAIN, ...TARGETED].sort();
/** The resources that take no target, `all` among them. */
export const PLAIN_RESOURCE_NAMES: readonly ResourceName[] = PLAIN;

/** A permission as the API carries it. */
export interface Permission {
  resources: string[];
  actions: Action[];
}

export interface Role {
  id: string;
  description: string;
  permissions: Permission[];
  /** Created by Gofer itself; cannot be updated or deleted. */
  system_role: boolean;
}

/** What a route needs of one resource. `target` absent: any object of that kind will do (list routes). */
export interface ResourceNeed {
  name: ResourceName;
  target?: string;
}

interface CompiledResource {
  name: ResourceName;
  /** Set for targeted resources only. */
  pattern?: RegExp;
}

/** Role ids that pass every check. */
export const ADMIN_ROLES: ReadonlySet<string> = new Set(["admin", "bootstrap"]);
export const ANONYMOUS_ROLE = "anonymous";

const isTargeted = (name: string): name is (typeof TARGETED)[number] =>
  (TARGETED as readonly string[]).includes(name);
const isPlain = (name: string): name is (typeof PLAIN)[number] => (PLAIN as readonly string[]).includes(name);

/**
 * Parses one resource string. The name is case-insensitive; the target is everything after the first `:`, so
 * (unlike v0) a target regex may itself contain `:`. Every mistake is a 400 naming the string.
 */
export function parseResource(text: string): CompiledResource {
  const colon = text.indexOf(":");
  const name = (colon === -1 ? text : text.slice(0, colon)).trim().toLowerCase();
  const target = colon === -1 ? undefined : text.slice(colon + 1);
  if (isTargeted(name)) {
    if (target === undefined || target === "") {
      throw new GoferError(
        "INVALID_PERMISSION",
        `Resource "${text}" needs a target regex, e.g. "${name}:.*" for every ${name} or "${name}:^prod$"`,
      );
    }
    try {
      return { name, pattern: new RegExp(`^(?:${target})$`) };
    } catch (error) {
      throw new GoferError(
        "INVALID_PERMISSION",
        `Resource "${text}" has an invalid regex: ${(error as Error).message}`,
      );
    }
  }
  if (isPlain(name)) {
    if (target !== undefined) {
      throw new GoferError("INVALID_PERMISSION", `Resource "${text}": "${name}" takes no target`);
    }
    return { name };
  }
  throw new GoferError(
    "INVALID_PERMISSION",
    `Unknown resource "${text}"; resources are ${RESOURCE_NAMES.map((item) => (isTargeted(item) ? `${item}:<regex>` : item)).join(", ")}`,
  );
}

/** Checks a role's permissions before they are stored, so evaluation never meets a bad one. */
export function validatePermissions(permissions: Permission[]): void {
  permissions.forEach((permission, index) => {
    if (permission.resources.length === 0 || permission.actions.length === 0) {
      throw new GoferError(
        "INVALID_PERMISSION",
        `Permission ${index + 1} needs at least one resource and one action`,
      );
    }
    for (const resource of permission.resources) parseResource(resource);
  });
}

function grants(resource: CompiledResource, need: ResourceNeed): boolean {
  if (resource.name === "all") return true;
  if (resource.name !== need.name) return false;
  if (need.target === undefined || !resource.pattern) return true;
  return resource.pattern.test(need.target);
}

/** True when one permission of the role grants `action` on each needed resource. */
export function roleSatisfies(role: Role, action: Action, needs: ResourceNeed[]): boolean {
  if (ADMIN_ROLES.has(role.id)) return true;
  const usable = role.permissions
    .filter((permission) => permission.actions.includes(action))
    .flatMap((permission) => permission.resources.map(parseResource));
  return needs.every((need) => usable.some((resource) => grants(resource, need)));
}

/** v0's rule: some SINGLE role must cover every resource; two roles each covering half do not combine. */
export const rolesSatisfy = (roles: Role[], action: Action, needs: ResourceNeed[]): boolean =>
  roles.some((role) => roleSatisfies(role, action, needs));

const ALL_ACTIONS: Action[] = ["read", "write", "delete"];

/**
 * Roles Gofer creates at boot. `user` adds `task_executions` to v0's list: without it a user could start runs
 * but not list their tasks or read their logs.
 */
export const SYSTEM_ROLES: Role[] = [
  {
    id: "bootstrap",
    description: "The one-time root token's role; every permission.",
    permissions: [{ resources: ["all"], actions: ALL_ACTIONS }],
    system_role: true,
  },
  {
    id: "admin",
    description: "Every permission, including tokens, roles and server settings.",
    permissions: [{ resources: ["all"], actions: ALL_ACTIONS }],
    system_role: true,
  },
  {
    id: "user",
    description: "Works with pipelines in the default namespace: configs, runs, tasks and their logs.",
    permissions: [
      {
        resources: [
          "namespaces:^default$",
          "pipelines:.*",
          "configs",
          "deployments",
          "events",
          "objects",
          "runs",
          "secrets",
          "subscriptions",
          "task_executions",
        ],
        actions: ALL_ACTIONS,
      },
    ],
    system_role: true,
  },
  {
    id: ANONYMOUS_ROLE,
    description: "Requests without a token: read pipelines and runs of the default namespace.",
    permissions: [{ resources: ["namespaces:^default$", "pipelines:.*", "runs"], actions: ["read"] }],
    system_role: true,
  },
];

/** A target regex matching exactly `id` (ids may hold regex metacharacters such as `.`). */
export const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Describes needs for a refusal message: only what the caller sent, so nothing about what exists leaks. */
export const describeNeeds = (needs: ResourceNeed[]): string =>
  needs.map((need) => (need.target === undefined ? need.name : `${need.name}:${need.target}`)).join(", ");
