/**
 * Where each CLI setting came from, by the precedence `loadCliConfig` applies (flag, then environment variable,
 * then the configuration file, then the built-in default), so `gofer context` can say why the CLI talks to the
 * server it does, in the namespace it does, as whom.
 */
import { readFileSync } from "node:fs";
import { parse } from "smol-toml";
import { defaultConfigPath, type GlobalFlags } from "./cli-config.ts";

export type SettingSource = "flag" | "env" | "file" | "default";

export interface SettingOrigin {
  source: SettingSource;
  /** The flag, variable or file that set it; absent for a built-in default. */
  name?: string;
}

export interface CliConfigOrigins {
  apiBaseUrl: SettingOrigin;
  /** Undefined when no token is set anywhere. */
  token: SettingOrigin | undefined;
  namespace: SettingOrigin;
  output: SettingOrigin;
  detail: SettingOrigin;
  /** The configuration file the CLI looks for, whether it exists, and what chose that path. */
  file: { path: string; found: boolean; chosenBy: SettingOrigin };
}

export function cliConfigOrigins(
  flags: GlobalFlags & { json?: boolean },
  env: NodeJS.ProcessEnv = process.env,
): CliConfigOrigins {
  const chosenBy: SettingOrigin =
    flags.config !== undefined
      ? { source: "flag", name: "--config" }
      : env.GOFER_CONFIG !== undefined
        ? { source: "env", name: "GOFER_CONFIG" }
        : { source: "default" };
  const path = flags.config ?? env.GOFER_CONFIG ?? defaultConfigPath();
  const keys = fileKeys(path);
  const fromFile = (key: string): SettingOrigin | undefined =>
    keys?.has(key) ? { source: "file", name: path } : undefined;
  const fromEnv = (name: string): SettingOrigin | undefined =>
    env[name] ? { source: "env", name } : undefined;
  const fromFlag = (given: unknown, name: string): SettingOrigin | undefined =>
    given === undefined ? undefined : { source: "flag", name };
  const builtIn: SettingOrigin = { source: "default" };

  return {
    apiBaseUrl:
      fromFlag(flags.apiBaseUrl, "--api-base-url") ??
      fromEnv("GOFER_API_BASE_URL") ??
      fromFile("api_base_url") ??
      builtIn,
    token: fromFlag(flags.token, "--token") ?? fromEnv("GOFER_TOKEN") ?? fromFile("token"),
    namespace:
      fromFlag(flags.namespace, "--namespace") ??
      fromEnv("GOFER_NAMESPACE") ??
      fromFile("namespace") ??
      builtIn,
    output:
      fromFlag(flags.json || undefined, "--json") ??
      fromFlag(flags.output, "--output") ??
      fromFile("output_format") ??
      builtIn,
    detail: fromFlag(flags.detail, "--detail") ?? fromFile("detail") ?? builtIn,
    file: { path, found: keys !== undefined, chosenBy },
  };
}

/**
 * The keys the file sets, or undefined when there is no file. `loadCliConfig` has already read and checked it
 * by the time this runs, so a file that cannot be read now counts as absent rather than failing a second time.
 */
function fileKeys(path: string): Set<string> | undefined {
  try {
    return new Set(Object.keys(parse(readFileSync(path, "utf8"))));
  } catch {
    return undefined;
  }
}
