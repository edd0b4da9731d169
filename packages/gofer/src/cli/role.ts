/** `gofer role …`: the roles tokens carry, written as one `--permission` flag per grant. */
import type { Permission, PermissionAction, Role } from "@gofer/sdk/client";
import { type Command, InvalidArgumentError } from "commander";
import { contextOf } from "./command-context.ts";

const ACTIONS: readonly PermissionAction[] = ["read", "write", "delete"];

const PERMISSION_HELP = `
Permissions:
  --permission "<resource>[,<resource>...]=<action>[,<action>...]"   (repeatable; one flag per grant)

  resources: all, configs, deployments, events, objects, permissions, runs, secrets, subscriptions, system,
             task_executions, tokens, and with a target regex: namespaces:<regex>, pipelines:<regex>,
             extensions:<regex>. A regex must match the whole id: "pipelines:web" is only "web".
  actions:   read, write, delete

  A route is allowed when ONE role of the token grants its action on every resource it touches, e.g. listing
  runs needs read on namespaces:<ns>, pipelines:<pipeline> and runs.

Example:
  gofer role create devops -d "DevOps team" \\
    --permission "namespaces:^devops.*,pipelines:.*,configs,deployments,runs,task_executions=read,write,delete" \\
    --permission "namespaces:^default$,pipelines:.*,runs=read"
`;

/**
 * Splits on commas outside `{}`, `[]` and `()`, so a regex such as `^a{1,3}$` stays one resource.
 */
function splitResources(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const character of text) {
    if ("{[(".includes(character)) depth += 1;
    if ("}])".includes(character) && depth > 0) depth -= 1;
    if (character === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else current += character;
  }
  parts.push(current);
  return parts.map((part) => part.trim()).filter((part) => part !== "");
}

/** Parses `resources=actions`; the last `=` separates them, since actions never contain one. */
export function parsePermission(text: string, previous: Permission[] = []): Permission[] {
  const separator = text.lastIndexOf("=");
  if (separator <= 0) {
    throw new InvalidArgumentError(
      `expected "<resources>=<actions>", e.g. "namespaces:^devops.*,pipelines:.*=read,write", got "${text}"`,
    );
  }
  const resources = splitResources(text.slice(0, separator));
  const actions = text
    .slice(separator + 1)
    .split(",")
    .map((action) => action.trim().toLowerCase())
    .filter((action) => action !== "");
  const unknown = actions.filter((action) => !(ACTIONS as readonly string[]).includes(action));
  if (unknown.length > 0 || actions.length === 0) {
    throw new InvalidArgumentError(
      `actions must be read, write and/or delete, got "${text.slice(separator + 1)}" in "${text}"`,
    );
  }
  return [...previous, { resources, actions: actions as PermissionAction[] }];
}

const describePermission = (permission: Permission): string =>
  `${permission.resources.join(", ")} = ${permission.actions.join(", ")}`;

function roleLines(out: ReturnType<typeof contextOf>["out"], role: Role): string[] {
  return [
    ...out.fields([
      ["id", role.id],
      ["description", role.description || "-"],
      ["system role", role.system_role ? "yes" : "no"],
    ]),
    "permissions:",
    ...(role.permissions.length > 0
      ? role.permissions.map((permission) => `  ${describePermission(permission)}`)
      : ["  (none)"]),
  ];
}

export function registerRoleCommands(program: Command): void {
  const role = program.command("role").description("Manage roles: the permissions tokens carry");

  role
    .command("list")
    .description("List every role")
    .action(async (_options, command: Command) => {
      const { client, out } = contextOf(command);
      const roles = await client.roles.list();
      out.result(roles, () =>
        out.table(
          ["id", "system", "description", "permissions"],
          roles.map((item) => [
            item.id,
            item.system_role ? "yes" : "no",
            item.description,
            item.permissions.map(describePermission).join("\n"),
          ]),
        ),
      );
    });

  role
    .command("get <id>")
    .description("Show one role with its permissions")
    .action(async (id: string, _options, command: Command) => {
      const { client, out } = contextOf(command);
      const item = await client.roles.get(id);
      out.result(item, () => roleLines(out, item));
    });

  role
    .command("create <id>")
    .description("Create a role (admin)")
    .option("-d, --description <text>", "what the role is for")
    .requiredOption(
      "-p, --permission <resources=actions>",
      'a grant, e.g. "namespaces:^devops.*,pipelines:.*=read,write" (repeatable)',
      parsePermission,
    )
    .addHelpText("after", PERMISSION_HELP)
    .action(
      async (id: string, options: { description?: string; permission: Permission[] }, command: Command) => {
        const { client, out } = contextOf(command);
        const item = await client.roles.create({
          id,
          description: options.description ?? "",
          permissions: options.permission,
        });
        out.result(item, () => `Created role ${item.id}`);
      },
    );

  role
    .command("update <id>")
    .description("Change a role's description, or replace all its permissions (admin; not system roles)")
    .option("-d, --description <text>", "new description")
    .option("-p, --permission <resources=actions>", "replaces every permission (repeatable)", parsePermission)
    .addHelpText("after", PERMISSION_HELP)
    .action(
      async (id: string, options: { description?: string; permission?: Permission[] }, command: Command) => {
        const { client, out } = contextOf(command);
        const item = await client.roles.update(id, {
          description: options.description,
          permissions: options.permission,
        });
        out.result(item, () => `Updated role ${item.id}`);
      },
    );

  role
    .command("delete <id>")
    .description("Delete a role (admin; not system roles); tokens carrying it lose its permissions")
    .action(async (id: string, _options, command: Command) => {
      const { client, out } = contextOf(command);
      await client.roles.delete(id);
      out.result({ deleted: id }, () => `Deleted role ${id}`);
    });
}
