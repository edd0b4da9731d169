/**
 * `gofer context`: which server the CLI talks to, in which namespace, as whom, and why (the flag, variable or
 * file each setting came from), with the server's version, and its switches for an admin. Gofer's version
 * printed its whole configuration, token included; this never prints the token's secret.
 */
import {
  GoferApiError,
  GoferConnectionError,
  type SystemMetadata,
  type SystemPreferences,
  type Token,
} from "@gofer/sdk/client";
import type { Command } from "commander";
import type { GlobalFlags } from "./cli-config.ts";
import { type CliConfigOrigins, cliConfigOrigins, type SettingOrigin } from "./cli-config-origins.ts";
import { CliError } from "./cli-error.ts";
import { type CommandContext, contextOf } from "./command-context.ts";

/** `--json` output: a setting's value and where it came from (`name` is the flag, variable or file). */
type JsonSetting<T> = { value: T } & SettingOrigin;

interface ContextReport {
  cli: {
    api_base_url: JsonSetting<string>;
    namespace: JsonSetting<string>;
    /** Whether a token is set and where; never the secret. */
    token: { set: boolean } & Partial<SettingOrigin>;
    output_format: JsonSetting<string>;
    detail: JsonSetting<boolean>;
    config_file: { path: string; found: boolean } & SettingOrigin;
  };
  /** The token's identity; null without a token or when the server refused it (see `whoami_error`). */
  whoami: Token | null;
  whoami_error: string | null;
  server: {
    metadata: SystemMetadata;
    /** `GET /api/system`; null unless the token is an admin's. */
    system: SystemPreferences | null;
  };
}

export function registerContextCommand(program: Command): void {
  program
    .command("context")
    .description(
      "Show which server, namespace and token the CLI uses and where each came from, who the token " +
        "belongs to, and the server's version (and, for admins, its switches)",
    )
    .action(async (_options, command: Command) => {
      const context = contextOf(command);
      const origins = cliConfigOrigins(command.optsWithGlobals<GlobalFlags & { json?: boolean }>());
      const report = await gatherReport(context, origins);
      context.out.result(report, () => renderReport(context, report));
    });
}

async function gatherReport(context: CommandContext, origins: CliConfigOrigins): Promise<ContextReport> {
  const { client, config } = context;
  const hasToken = config.token !== undefined && config.token !== "";
  let metadata: SystemMetadata;
  let whoami: Token | null = null;
  let whoamiError: string | null = null;
  let system: SystemPreferences | null = null;
  try {
    const [served, identity, preferences] = await Promise.all([
      client.system.metadata(),
      hasToken ? settle(client.tokens.whoami()) : undefined,
      // Who counts as an admin is the server's decision, so it is asked rather than guessed from role names.
      hasToken ? settle(client.system.preferences()) : undefined,
    ]);
    metadata = served;
    if (identity && "value" in identity) whoami = identity.value;
    // A refused token is what this command is for finding out about, so it is reported, not raised.
    else if (identity && isRefusal(identity.error)) whoamiError = identity.error.message;
    else if (identity) throw identity.error;
    if (preferences && "value" in preferences) system = preferences.value;
    else if (preferences && !isRefusal(preferences.error)) throw preferences.error;
  } catch (error) {
    if (error instanceof GoferConnectionError) throw unreachable(error, origins);
    throw error;
  }

  return {
    cli: {
      api_base_url: { value: config.apiBaseUrl, ...origins.apiBaseUrl },
      namespace: { value: config.namespace, ...origins.namespace },
      token: { set: hasToken, ...origins.token },
      output_format: { value: config.output, ...origins.output },
      detail: { value: config.detail, ...origins.detail },
      config_file: { path: origins.file.path, found: origins.file.found, ...origins.file.chosenBy },
    },
    whoami,
    whoami_error: whoamiError,
    server: { metadata, system },
  };
}

type Settled<T> = { value: T } | { error: unknown };

const settle = <T>(promise: Promise<T>): Promise<Settled<T>> =>
  promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );

/** The server turned the token away (unknown, disabled, expired) or it may not do this (not an admin). */
const isRefusal = (error: unknown): error is GoferApiError =>
  error instanceof GoferApiError && (error.status === 400 || error.status === 401 || error.status === 403);

/** No server answered: say which address was tried and which setting chose it. */
function unreachable(error: GoferConnectionError, origins: CliConfigOrigins): CliError {
  return new CliError(error.message, {
    hint:
      `the address came from ${describeOrigin(origins.apiBaseUrl)}; start a server with \`gofer service ` +
      "start`, or point the CLI at yours with --api-base-url, GOFER_API_BASE_URL or `api_base_url` in " +
      origins.file.path,
  });
}

function describeOrigin(origin: SettingOrigin): string {
  switch (origin.source) {
    case "flag":
      return `the flag ${origin.name}`;
    case "env":
      return `the environment variable ${origin.name}`;
    case "file":
      return `the file ${origin.name}`;
    case "default":
      return "the built-in default";
  }
}

function renderReport({ out }: CommandContext, report: ContextReport): string[] {
  const { cli, whoami, server } = report;
  const from = (origin: Partial<SettingOrigin>) =>
    origin.source === "default" ? "built-in default" : (origin.name ?? "-");
  const title = (text: string) => out.style.paint("bold", text);
  const dim = (text: string) => out.style.paint("dim", text);

  const settings = out.table(
    ["setting", "value", "from"],
    [
      ["server", cli.api_base_url.value, from(cli.api_base_url)],
      ["namespace", cli.namespace.value, from(cli.namespace)],
      ["token", cli.token.set ? "set (secret not shown)" : "none", cli.token.set ? from(cli.token) : "-"],
      ["output", cli.output_format.value, from(cli.output_format)],
      ["detail", cli.detail.value ? "on" : "off", from(cli.detail)],
      [
        "config file",
        cli.config_file.found ? cli.config_file.path : `${cli.config_file.path} (not found)`,
        cli.config_file.source === "default" ? "default location" : from(cli.config_file),
      ],
    ],
  );

  const identity = whoami
    ? out.fields([
        ["token", whoami.id],
        ["user", whoami.user],
        ["roles", whoami.roles.join(", ") || "-"],
        ["expires", whoami.expires ? out.time(whoami.expires) : "never"],
        ...(whoami.disabled ? [["disabled", out.style.outcome("disabled")] as [string, string]] : []),
      ])
    : report.whoami_error
      ? [
          `${out.style.paint("red", "refused:")} ${report.whoami_error}`,
          dim(
            `  the token came from ${from(cli.token)}; ask an admin for a working one (\`gofer token create\`)`,
          ),
        ]
      : [
          "no token: requests go out anonymous, so only what the server lets anyone read is visible",
          dim(
            "  set one with GOFER_TOKEN or `token` in the config file; a new server gives its first with `gofer token bootstrap`",
          ),
        ];

  const serverFields = out.fields([
    ["version", `${server.metadata.semver} (commit ${server.metadata.commit})`],
    ...(server.system
      ? ([
          ["new runs", server.system.ignore_pipeline_run_events ? out.style.outcome("paused") : "accepted"],
          ["bootstrap token", server.system.bootstrap_token_created ? "given out" : "not yet created"],
        ] as [string, string][])
      : ([["switches", dim("shown to admin tokens only")]] as [string, string][])),
  ]);

  return [
    title("CLI configuration"),
    settings,
    "",
    title("Who am I"),
    ...identity,
    "",
    title(`Server ${cli.api_base_url.value}`),
    ...serverFields,
  ];
}
