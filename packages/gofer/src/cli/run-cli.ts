/**
 * The `gofer` command tree. Every failure ends as one line on stderr saying what went wrong, a hint saying what
 * to do where there is one, and a non-zero exit code; `--output json` never mixes messages into stdout.
 */
import { GoferApiError, GoferConnectionError } from "@gofer/sdk/client";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { VERSION } from "../version.ts";
import { registerAuditCommands } from "./audit.ts";
import { OUTPUT_FORMATS } from "./cli-config.ts";
import { CliError } from "./cli-error.ts";
import { registerContextCommand } from "./context.ts";
import { registerEventCommands } from "./event.ts";
import { registerExtensionCommands } from "./extension.ts";
import { registerFetchCommand } from "./fetch.ts";
import { registerNamespaceCommands } from "./namespace.ts";
import { registerNotificationCommands } from "./notification.ts";
import { createStyler } from "./output/style.ts";
import { registerPipelineCommands } from "./pipeline.ts";
import { registerRoleCommands } from "./role.ts";
import { registerRunCommands } from "./run.ts";
import { registerSecretCommands } from "./secret.ts";
import { registerServiceCommands } from "./service.ts";
import { registerSystemCommands } from "./system.ts";
import { registerTaskCommands } from "./task.ts";
import { registerTokenCommands } from "./token.ts";
import { registerUpCommand } from "./up.ts";

export function buildProgram(): Command {
  const program = new Command("gofer")
    .description("Gofer runs pipelines of containers on a timer, a schedule, a webhook or a button.")
    .version(VERSION.semver)
    .option("--config <path>", "configuration file (CLI: ~/.gofer.toml; `service start`: the server's TOML)")
    .option("--api-base-url <url>", "server address (env GOFER_API_BASE_URL; default http://127.0.0.1:8080)")
    .option("--token <secret>", "API token (prefer env GOFER_TOKEN: flags show up in process lists)")
    .option("--namespace <id>", "namespace to work in (env GOFER_NAMESPACE; default `default`)")
    .addOption(new Option("--output <format>", "output format").choices(OUTPUT_FORMATS))
    .option("--json", "same as --output json")
    .option("--detail", "exact timestamps instead of relative ones")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  program.configureHelp({ showGlobalOptions: true, sortSubcommands: false });

  registerUpCommand(program);
  registerFetchCommand(program);
  registerContextCommand(program);
  registerNamespaceCommands(program);
  registerPipelineCommands(program);
  registerRunCommands(program);
  registerTaskCommands(program);
  registerSecretCommands(program);
  registerEventCommands(program);
  registerAuditCommands(program);
  registerExtensionCommands(program);
  registerNotificationCommands(program);
  registerTokenCommands(program);
  registerRoleCommands(program);
  registerSystemCommands(program);
  registerServiceCommands(program);
  // exitOverride is inherited only by commands created after it is set, so apply it to the whole tree.
  const applyExitOverride = (command: Command) => {
    command.exitOverride();
    for (const sub of command.commands) applyExitOverride(sub);
  };
  applyExitOverride(program);
  return program;
}

export async function runCli(argv: string[]): Promise<void> {
  // A reader that goes away (`gofer event list | head`) is not a failure: stop quietly, as Unix tools do.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(0);
  });
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    process.exitCode = report(error);
  }
}

/** Prints a failure for a person and returns the exit code. */
function report(error: unknown): number {
  const style = createStyler(process.stderr);
  const write = (message: string, hint?: string) => {
    process.stderr.write(`${style.paint("red", "error:")} ${message}\n`);
    if (hint) process.stderr.write(`${style.paint("dim", `hint: ${hint}`)}\n`);
  };
  // Checked before CommanderError, which it extends: thrown by an action parsing its own arguments, it was not
  // printed by commander, so without this the process would exit non-zero in silence.
  if (error instanceof InvalidArgumentError) {
    write(error.message, "run the command with --help for its usage");
    return 2;
  }
  if (error instanceof CommanderError) {
    // Commander already printed the usage problem (or the help/version the user asked for). A usage problem
    // exits 2, like a bad argument an action rejects, so scripts can tell "called wrongly" from "it failed".
    return error.exitCode === 0 ? 0 : 2;
  }
  if (error instanceof CliError) {
    write(error.message, error.hint);
    return error.exitCode;
  }
  if (error instanceof GoferApiError) {
    const code = error.errorCode ? `, ${error.errorCode}` : "";
    write(`${error.message} (HTTP ${error.status}${code})`, hintFor(error));
    return 1;
  }
  if (error instanceof GoferConnectionError) {
    const certificate = certificateProblem(error);
    write(
      certificate ? `${error.message}: the server's certificate was refused (${certificate})` : error.message,
      certificate
        ? "trust it with ca_cert_path in the CLI configuration or GOFER_CA_CERT (a PEM file of the server's certificate or its CA)"
        : "start a server with `gofer service start`, or point the CLI at yours with GOFER_API_BASE_URL",
    );
    return 1;
  }
  if (isNamed(error, "ConfigError")) {
    const problems = (error as Error & { problems: string[] }).problems;
    write(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    return 1;
  }
  if (isNamed(error, "PipelineFileError")) {
    write((error as Error).message);
    return 1;
  }
  write(error instanceof Error ? error.message : String(error));
  if (process.env.GOFER_DEBUG && error instanceof Error && error.stack)
    process.stderr.write(`${error.stack}\n`);
  return 1;
}

/** The TLS verification failure somewhere in the causes of a failed connection, if that is what it was. */
function certificateProblem(error: Error): string | undefined {
  for (let cause: unknown = error.cause; cause instanceof Error; cause = cause.cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? "";
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) return cause.message;
  }
  return undefined;
}

function hintFor(error: GoferApiError): string | undefined {
  switch (error.status) {
    case 401:
      return "set a token with GOFER_TOKEN (or `token` in ~/.gofer.toml); a new server gives its first one with `gofer token bootstrap`";
    case 403:
      return "this token's roles do not allow that; ask an admin for a token that does";
    case 404:
      return "check the names and ids (and --namespace); `gofer pipeline list` shows what exists";
    default:
      return undefined;
  }
}

const isNamed = (error: unknown, name: string): boolean => error instanceof Error && error.name === name;
