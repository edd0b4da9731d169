/** Loads the server configuration: built-in defaults, then a TOML file, then GOFER_WEB_* environment variables. */
import { resolve } from "node:path";
import { Value } from "typebox/value";
import type { Config } from "./config.ts";
import { ConfigError } from "./config-error.ts";
import { type Settings, SettingsSchema } from "./config-schema.ts";
import { readEnvLayer } from "./env-layer.ts";
import { readFileLayer } from "./file-layer.ts";
import type { LayerValue } from "./layer.ts";
import { resolveConfig } from "./resolve-config.ts";

export const SYSTEM_CONFIG_PATH = "/etc/gofer/gofer_web.toml";

export interface LoadConfigOptions {
  /** A file the user named (`--config`); it must exist. Relative to the working directory. */
  configPath?: string;
  /** Where GOFER_WEB_* overrides and XDG_DATA_HOME, HOME, DOCKER_HOST are read. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Read when no configPath is given, if it exists. Default: SYSTEM_CONFIG_PATH; tests point it elsewhere. */
  systemConfigPath?: string;
}

/** Throws a ConfigError listing every problem found, not just the first. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const fileLayer =
    options.configPath === undefined
      ? readFileLayer(resolve(options.systemConfigPath ?? SYSTEM_CONFIG_PATH), false)
      : readFileLayer(resolve(options.configPath), true);
  const envLayer = readEnvLayer(env, process.cwd());

  const merged = new Map([...fileLayer.values, ...envLayer.values]);
  const problems = [...fileLayer.problems, ...envLayer.problems];
  const config = resolveConfig(
    applyOverDefaults(merged),
    { env, sourceOf: (key) => merged.get(key)?.source ?? "the built-in default" },
    problems,
  );
  if (problems.length > 0) throw new ConfigError(problems);
  return { ...config, warnings: [...fileLayer.warnings, ...envLayer.warnings] };
}

function applyOverDefaults(values: Map<string, LayerValue>): Settings {
  const settings = Value.Create(SettingsSchema);
  for (const [key, { value }] of values) setIn(settings, key.split("."), value);
  // Every value was checked against its own schema on the way in, so a failure here is a bug in this module.
  if (!Value.Check(SettingsSchema, settings))
    throw new Error("merged configuration does not match its schema");
  return settings;
}

function setIn(table: Record<string, unknown>, path: string[], value: unknown) {
  const [name = "", ...rest] = path;
  if (rest.length === 0) {
    table[name] = value;
    return;
  }
  const child = table[name];
  if (typeof child !== "object" || child === null)
    throw new Error(`configuration section ${name} is missing`);
  setIn(child as Record<string, unknown>, rest, value);
}
