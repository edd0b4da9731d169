/** `gofer system …`: server-wide switches an admin flips, such as pausing every new run. */
import type { SystemPreferences } from "@gofer/sdk/client";
import type { Command } from "commander";
import { type CommandContext, contextOf } from "./command-context.ts";

export function registerSystemCommands(program: Command): void {
  const system = program.command("system").description("Server-wide switches (admin tokens only)");

  system
    .command("get")
    .description("Show whether new runs are paused and whether the bootstrap token was given out")
    .action(async (_options, command: Command) => {
      const context = contextOf(command);
      printPreferences(context, await context.client.system.preferences());
    });

  system
    .command("pause")
    .description("Refuse every new run (manual, extension or API) until resumed; runs already started go on")
    .action(async (_options, command: Command) => {
      const context = contextOf(command);
      printPreferences(context, await context.client.system.setRunsPaused(true));
    });

  system
    .command("resume")
    .description("Accept new runs again")
    .action(async (_options, command: Command) => {
      const context = contextOf(command);
      printPreferences(context, await context.client.system.setRunsPaused(false));
    });
}

function printPreferences({ out }: CommandContext, preferences: SystemPreferences): void {
  out.result(preferences, () =>
    out.fields([
      ["new runs", preferences.ignore_pipeline_run_events ? out.style.outcome("paused") : "accepted"],
      ["bootstrap token", preferences.bootstrap_token_created ? "given out" : "not yet created"],
    ]),
  );
}
