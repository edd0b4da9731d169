/**
 * What every client command works with: the resolved CLI configuration, an API client for it, and the printer.
 * Built from the command's own and global flags, so a flag given anywhere on the line is honoured.
 */
import { GoferClient } from "@gofer/sdk/client";
import type { Command } from "commander";
import { VERSION } from "../version.ts";
import { type CliConfig, type GlobalFlags, loadCliConfig } from "./cli-config.ts";
import { applyClientTls } from "./client-tls.ts";
import { Printer } from "./output/printer.ts";

export interface CommandContext {
  config: CliConfig;
  client: GoferClient;
  out: Printer;
  namespace: string;
}

export function contextOf(command: Command): CommandContext {
  const flags = command.optsWithGlobals<GlobalFlags & { json?: boolean }>();
  const config = loadCliConfig({ ...flags, output: flags.json ? "json" : flags.output });
  applyClientTls(config);
  const client = new GoferClient({
    baseUrl: config.apiBaseUrl,
    token: config.token,
    userAgent: `gofer-cli/${VERSION.semver}`,
  });
  const out = new Printer({ format: config.output, detail: config.detail });
  return { config, client, out, namespace: config.namespace };
}
