/** `gofer token …`: the first admin token of a new server, tokens an admin hands out, and who the current one is. */
import type { Token } from "@gofer/sdk/client";
import type { Command } from "commander";
import { collectVariable, nonNegativeInteger } from "./arguments.ts";
import { contextOf } from "./command-context.ts";
import type { Printer } from "./output/printer.ts";

const collectRole = (value: string, previous: string[] = []): string[] => [...previous, value];

const expiryText = (out: Printer, token: Token): string =>
  token.expires ? out.time(token.expires) : "never";

const tokenFields = (out: Printer, item: Token): string[] =>
  out.fields([
    ["id", item.id],
    ["user", item.user],
    ["roles", item.roles.join(", ") || "-"],
    ["created", out.time(item.created)],
    ["expires", expiryText(out, item)],
    ["disabled", item.disabled ? "yes" : "no"],
    [
      "metadata",
      Object.entries(item.metadata)
        .map(([key, value]) => `${key}=${value}`)
        .join(", ") || "-",
    ],
  ]);

export function registerTokenCommands(program: Command): void {
  const token = program.command("token").description("Manage API tokens");

  token
    .command("bootstrap")
    .description("Create the first admin token of a new server (works once)")
    .action(async (_options, command: Command) => {
      const { client, out } = contextOf(command);
      const created = await client.tokens.bootstrap();
      out.result(created, () => [
        `Created the bootstrap token ${created.token_details.id}. Its secret is shown only this once:`,
        "",
        `  ${out.style.paint("bold", created.secret)}`,
        "",
        "Use it from this shell with:",
        `  export GOFER_TOKEN=${created.secret}`,
        "or keep it in ~/.gofer.toml as:",
        `  token = "${created.secret}"`,
      ]);
    });

  token
    .command("whoami")
    .description("Show the token the CLI is using")
    .action(async (_options, command: Command) => {
      const { client, out, config } = contextOf(command);
      const item = await client.tokens.whoami();
      out.result(item, () =>
        out.fields([
          ["token", item.id],
          ["user", item.user],
          ["roles", item.roles.join(", ") || "-"],
          ["expires", item.expires ? out.time(item.expires) : "never"],
          ["server", config.apiBaseUrl],
        ]),
      );
    });

  token
    .command("list")
    .description("List every token (admin)")
    .action(async (_options, command: Command) => {
      const { client, out } = contextOf(command);
      const tokens = await client.tokens.list();
      out.result(tokens, () =>
        out.table(
          ["id", "user", "roles", "created", "expires", "disabled"],
          tokens.map((item) => [
            item.id,
            item.user,
            item.roles.join(", ") || "-",
            out.time(item.created),
            expiryText(out, item),
            item.disabled ? "yes" : "no",
          ]),
        ),
      );
    });

  token
    .command("get <id>")
    .description("Show one token")
    .action(async (id: string, _options, command: Command) => {
      const { client, out } = contextOf(command);
      const item = await client.tokens.get(id);
      out.result(item, () => tokenFields(out, item));
    });

  token
    .command("create <user>")
    .description("Create a token for a user (admin); its secret is shown only once")
    .option("-r, --role <role>", "role to give the token (repeatable; see `gofer role list`)", collectRole)
    .option(
      "-e, --expires <seconds>",
      "seconds until the token stops working; 0 = never",
      nonNegativeInteger,
      0,
    )
    .option("-m, --metadata <KEY=VALUE>", "label to attach (repeatable)", collectVariable)
    .action(
      async (
        user: string,
        options: { role?: string[]; expires: number; metadata?: Record<string, string> },
        command: Command,
      ) => {
        const { client, out } = contextOf(command);
        const created = await client.tokens.create({
          user,
          roles: options.role ?? [],
          expires: options.expires,
          metadata: options.metadata ?? {},
        });
        out.result(created, () => [
          `Created token ${created.token_details.id} for ${user}. Its secret is shown only this once:`,
          "",
          `  ${out.style.paint("bold", created.secret)}`,
        ]);
      },
    );

  for (const [name, disabled] of [
    ["enable", false],
    ["disable", true],
  ] as const) {
    token
      .command(`${name} <id>`)
      .description(`${disabled ? "Disable" : "Enable"} a token (admin; not the one you are using)`)
      .action(async (id: string, _options, command: Command) => {
        const { client, out } = contextOf(command);
        await client.tokens.setDisabled(id, disabled);
        out.result({ id, disabled }, () => `${disabled ? "Disabled" : "Enabled"} token ${id}`);
      });
  }

  token
    .command("delete <id>")
    .description("Delete a token (admin); requests with it are refused from then on")
    .action(async (id: string, _options, command: Command) => {
      const { client, out } = contextOf(command);
      await client.tokens.delete(id);
      out.result({ deleted: id }, () => `Deleted token ${id}`);
    });
}
