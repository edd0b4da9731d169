export type { Config } from "./config.ts";
export { ConfigError } from "./config-error.ts";
export type { LogLevel } from "./config-schema.ts";
export { type LoadConfigOptions, loadConfig, SYSTEM_CONFIG_PATH } from "./load-config.ts";
