/** `gofer token …`: the first admin token of a new server, and who the current token belongs to. */
import type { Command } from "commander";
import { contextOf } from "./command-context.ts";

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
}
