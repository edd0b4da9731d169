/** `gofer namespace …`: the folders that separate teams' pipelines. */
import type { Command } from "commander";
import { contextOf } from "./command-context.ts";

export function registerNamespaceCommands(program: Command): void {
  const namespace = program.command("namespace").description("Manage namespaces (groups of pipelines)");

  namespace
    .command("list")
    .description("List all namespaces")
    .action(async (_options, command: Command) => {
      const { client, out } = contextOf(command);
      const namespaces = await client.namespaces.list();
      out.result(namespaces, () =>
        out.table(
          ["id", "name", "description", "created"],
          namespaces.map((item) => [item.id, item.name, item.description, out.time(item.created)]),
        ),
      );
    });

  namespace
    .command("get <id>")
    .description("Show one namespace")
    .action(async (id: string, _options, command: Command) => {
      const { client, out } = contextOf(command);
      const item = await client.namespaces.get(id);
      out.result(item, () =>
        out.fields([
          ["id", item.id],
          ["name", item.name],
          ["description", item.description || "-"],
          ["created", out.time(item.created)],
          ["modified", out.time(item.modified)],
        ]),
      );
    });

  namespace
    .command("create <id> <name> [description]")
    .description("Create a namespace")
    .action(async (id: string, name: string, description: string | undefined, _options, command: Command) => {
      const { client, out } = contextOf(command);
      const item = await client.namespaces.create({ id, name, description: description ?? "" });
      out.result(item, () => `Created namespace ${item.id}`);
    });

  namespace
    .command("update <id>")
    .description("Change a namespace's name or description")
    .option("--name <name>", "new name")
    .option("-d, --description <text>", "new description")
    .action(async (id: string, options: { name?: string; description?: string }, command: Command) => {
      const { client, out } = contextOf(command);
      const item = await client.namespaces.update(id, options);
      out.result(item, () => `Updated namespace ${item.id}`);
    });

  namespace
    .command("delete <id>")
    .description("Delete a namespace and everything in it")
    .action(async (id: string, _options, command: Command) => {
      const { client, out } = contextOf(command);
      await client.namespaces.delete(id);
      out.result({ deleted: id }, () => `Deleted namespace ${id}`);
    });
}
