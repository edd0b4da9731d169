/**
 * `gofer extension …`: install, inspect and control extensions, the long-running containers that start runs
 * when something happens. Installing and controlling them is for admins; anyone who may read them sees
 * their setting values as `[redacted]`.
 */
import type { RegistryAuth } from "@gofer/sdk";
import { type Extension, type ExtensionParameter, GoferApiError } from "@gofer/sdk/client";
import type { Command } from "commander";
import { collectVariable } from "./arguments.ts";
import { CliError } from "./cli-error.ts";
import { contextOf } from "./command-context.ts";
import { printLogLines } from "./output/log-lines.ts";
import type { Printer } from "./output/printer.ts";
import { registerExtensionInitCommand } from "./project-init/init-commands.ts";
import { subscriptionSettings } from "./subscription.ts";

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Long enough to say why, short enough to keep a listing on one line per extension. */
const REASON_WIDTH = 60;
/**
 * An install answers once the container runs and is healthy, which can take a while (an image pull); a refusal
 * (a bad name, an image that is not there) comes sooner, and then no note that it is waiting is printed.
 */
const WAITING_NOTE_AFTER_MS = 1_000;

const INSTALL_HELP = `
Settings:
  -c KEY=VALUE sets one of the extension's config parameters; an unknown key is refused with the list of known
  ones, and \`gofer extension get <id>\` documents them. The long form is --setting because --config names
  the CLI's own configuration file (--config KEY=VALUE is refused with that advice).

If it does not start, nothing is installed and the error quotes the end of its output;
\`gofer extension logs <id>\` shows all that its last container printed.

Examples:
  gofer extension install interval gofer/extension-interval:latest -c min_interval=1m
  printf '%s' "$REGISTRY_TOKEN" | gofer extension install cron registry.example/gofer/cron:1 \\
    --registry-user robot --registry-pass-stdin -a my-extra-role
`;

interface InstallOptions {
  setting?: Record<string, string>;
  registryUser?: string;
  registryPassStdin?: boolean;
  additionalRole?: string[];
}

/** Usage errors exit 2, like the ones commander reports, so scripts can tell "called wrongly" from "failed". */
const usageError = (message: string, hint: string) => new CliError(message, { hint, exitCode: 2 });

/**
 * `--config KEY=VALUE` is taken by the global option that names the CLI's configuration file, so the setting
 * would be read as a file name; a value that reads as a setting is surely one.
 */
function refuseConfigAsSetting(command: Command): void {
  const { config } = command.optsWithGlobals<{ config?: string }>();
  if (config === undefined || !/^[A-Za-z][A-Za-z0-9_]*=/.test(config)) return;
  throw usageError(
    `--config ${config} names the CLI's configuration file, not a setting of the extension`,
    `give settings with -c (or --setting): -c ${config}`,
  );
}

/** Says where the whole output of an extension that did not start can be read. */
function withLogsHint(error: unknown, id: string): unknown {
  if (!(error instanceof GoferApiError) || error.errorCode !== "EXTENSION_START_FAILED") return error;
  return new CliError(error.message, {
    hint: `nothing was installed; its container's last output: gofer extension logs ${id}`,
  });
}

async function readPassword(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline is what `echo` and most password managers add; it is not part of the password.
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

async function registryAuth(options: InstallOptions): Promise<RegistryAuth | undefined> {
  if (options.registryUser === undefined && !options.registryPassStdin) return undefined;
  if (options.registryUser === undefined)
    throw usageError("--registry-pass-stdin needs --registry-user", "give the registry user name too");
  if (!options.registryPassStdin)
    throw usageError(
      "--registry-user needs --registry-pass-stdin",
      "pipe the password in, e.g. printf '%s' \"$TOKEN\" | gofer extension install … --registry-pass-stdin",
    );
  if (process.stdin.isTTY) process.stderr.write("Registry password (end with Ctrl-D): ");
  const pass = await readPassword();
  if (pass === "") throw usageError("the registry password read from stdin is empty", "pipe it in");
  return { user: options.registryUser, pass };
}

const truncate = (text: string, width: number): string =>
  text.length > width ? `${text.slice(0, width - 1)}…` : text;

/** Running is good news, exited after a failure bad news; a disabled extension is stopped on purpose. */
function stateText(out: Printer, item: Extension): string {
  if (item.state !== "exited") return out.style.outcome(item.state);
  const failed = item.state_reason !== null && item.state_reason.reason !== "disabled";
  return out.style.paint(failed ? "red" : "yellow", item.state);
}

const reasonText = (item: Extension): string =>
  item.state_reason ? `${item.state_reason.reason}: ${item.state_reason.description}` : "";

function parameterTable(out: Printer, parameters: ExtensionParameter[]): string {
  return out.table(
    ["key", "required", "documentation"],
    parameters.map((parameter) => [
      parameter.key,
      parameter.required ? "yes" : "no",
      parameter.documentation,
    ]),
  );
}

function extensionLines(out: Printer, item: Extension): string[] {
  const { registration, documentation } = item;
  const reason = reasonText(item);
  const lines = out.fields([
    ["id", registration.extension_id],
    ["image", registration.image],
    ["status", out.style.outcome(registration.status)],
    ["state", stateText(out, item)],
    ...(reason ? [["reason", out.style.paint("red", reason)] as [string, string]] : []),
    ["restarts", String(item.restarts)],
    ["url", item.url || "-"],
    ["started", out.time(item.started)],
    ["installed", out.time(registration.created)],
    ["roles", registration.additional_roles.join(", ") || "-"],
    ["registry user", registration.registry_auth?.user ?? "-"],
    ["settings", registration.settings.map(({ key, value }) => `${key}=${value}`).join(", ") || "-"],
  ]);
  const documented =
    documentation.body !== "" ||
    documentation.config_params.length > 0 ||
    documentation.pipeline_subscription_params.length > 0;
  if (!documented)
    return [
      ...lines,
      "",
      out.style.paint("dim", "(no documentation yet: the extension has not started once)"),
    ];
  return [
    ...lines,
    ...(documentation.body.trim() ? ["", documentation.body.trimEnd()] : []),
    "",
    out.style.paint("bold", "Config parameters (gofer extension install -c KEY=VALUE):"),
    parameterTable(out, documentation.config_params),
    "",
    out.style.paint("bold", "Subscription parameters (gofer pipeline subscribe -s KEY=VALUE):"),
    parameterTable(out, documentation.pipeline_subscription_params),
  ];
}

export function registerExtensionCommands(program: Command): void {
  const extension = program
    .command("extension")
    .description("Manage extensions: containers that start runs on a timer, a schedule or a webhook");

  extension
    .command("list")
    .description("List installed extensions")
    .action(async (_options, command: Command) => {
      const { client, out } = contextOf(command);
      const extensions = await client.extensions.list();
      out.result(extensions, () =>
        out.table(
          ["id", "image", "status", "state", "started", "reason"],
          extensions.map((item) => [
            item.registration.extension_id,
            item.registration.image,
            out.style.outcome(item.registration.status),
            stateText(out, item),
            out.time(item.started),
            truncate(reasonText(item), REASON_WIDTH),
          ]),
        ),
      );
    });

  extension
    .command("get <id>")
    .description("Show an extension: its state, settings and the parameters it documents")
    .action(async (id: string, _options, command: Command) => {
      const { client, out } = contextOf(command);
      const item = await client.extensions.get(id);
      out.result(item, () => extensionLines(out, item));
    });

  extension
    .command("install <id> <image>")
    .description("Install an extension and start it; nothing is installed if it does not start (admin)")
    .option("-c, --setting <KEY=VALUE>", "config parameter of the extension (repeatable)", collectVariable)
    .option("--registry-user <user>", "user for a private registry (with --registry-pass-stdin)")
    .option("--registry-pass-stdin", "read the registry password or token from stdin")
    .option("-a, --additional-role <role>", "role added to the extension's own token (repeatable)", collect)
    .addHelpText("after", INSTALL_HELP)
    .action(async (id: string, image: string, options: InstallOptions, command: Command) => {
      refuseConfigAsSetting(command);
      const auth = await registryAuth(options);
      const { client, out } = contextOf(command);
      const waiting = out.json
        ? undefined
        : setTimeout(
            () => out.note(`Installing ${id} from ${image}: the server answers once it runs and is healthy…`),
            WAITING_NOTE_AFTER_MS,
          );
      const installed = await client.extensions
        .install({
          id,
          image,
          settings: options.setting ?? {},
          ...(auth && { registry_auth: auth }),
          ...(options.additionalRole && { additional_roles: options.additionalRole }),
        })
        .catch((error: unknown) => {
          throw withLogsHint(error, id);
        })
        .finally(() => clearTimeout(waiting));
      out.result(installed, () => `Extension ${installed.registration.extension_id} installed`);
      if (!out.json)
        out.note(
          `its state: \`gofer extension get ${id}\`; its log: \`gofer extension logs ${id} --follow\``,
        );
    });

  extension
    .command("uninstall <id>")
    .description("Unsubscribe everything from an extension, stop it and remove it (admin)")
    .action(async (id: string, _options, command: Command) => {
      const { client, out } = contextOf(command);
      await client.extensions.uninstall(id);
      out.result({ uninstalled: id }, () => `Extension ${id} uninstalled`);
    });

  for (const [name, verb] of [
    ["enable", "enabled"],
    ["disable", "disabled"],
  ] as const) {
    extension
      .command(`${name} <id>`)
      .description(
        name === "enable"
          ? "Start a disabled extension again, with its subscriptions (admin)"
          : "Stop an extension; its subscriptions are kept but start no runs (admin)",
      )
      .action(async (id: string, _options, command: Command) => {
        const { client, out } = contextOf(command);
        if (name === "enable") await client.extensions.enable(id);
        else await client.extensions.disable(id);
        const item = await client.extensions.get(id);
        out.result(item, () => `Extension ${id} ${verb}`);
      });
  }

  extension
    .command("logs <id>")
    .description("Print the extension container's log")
    .option("-f, --follow", "keep printing new lines until the container stops")
    .action(async (id: string, options: { follow?: boolean }, command: Command) => {
      const { client, out } = contextOf(command);
      const follow = options.follow ?? false;
      await printLogLines(out, (signal) => client.extensions.logs(id, { follow, signal }));
    });

  extension
    .command("debug <id>")
    .description("Print what the extension reports about its own state (admin)")
    .action(async (id: string, _options, command: Command) => {
      const { client, out } = contextOf(command);
      const info = await client.extensions.debug(id);
      out.result({ info }, () => info.trimEnd());
    });

  extension
    .command("subscriptions <id>")
    .description("List every pipeline's subscriptions to an extension, in all namespaces")
    .action(async (id: string, _options, command: Command) => {
      const { client, out } = contextOf(command);
      const subscriptions = await client.extensions.subscriptions(id);
      out.result(subscriptions, () =>
        out.table(
          ["namespace", "pipeline", "subscription", "status", "settings"],
          subscriptions.map((item) => [
            item.namespace_id,
            item.pipeline_id,
            item.subscription_id,
            out.style.outcome(item.status),
            subscriptionSettings(item),
          ]),
        ),
      );
    });

  registerExtensionInitCommand(extension);
}
