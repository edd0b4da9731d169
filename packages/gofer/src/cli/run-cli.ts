/** The `gofer` command tree. Errors become one readable line on stderr and a non-zero exit. */
import { Command } from "commander";
import { ConfigError } from "../config/index.ts";
import { VERSION } from "../version.ts";
import { registerServiceCommands } from "./service.ts";

export async function runCli(argv: string[]): Promise<void> {
  const program = new Command("gofer")
    .description("Gofer runs pipelines of containers on a timer, a schedule, a webhook or a button.")
    .version(VERSION.semver)
    .showHelpAfterError();
  registerServiceCommands(program);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(
        `gofer: invalid configuration:\n${error.problems.map((problem) => `  - ${problem}`).join("\n")}\n`,
      );
    } else {
      process.stderr.write(`gofer: ${error instanceof Error ? error.message : String(error)}\n`);
    }
    process.exitCode = 1;
  }
}
