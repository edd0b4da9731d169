/**
 * Where the CLI sends its requests and as whom: built-in defaults, then `~/.gofer.toml` (or `--config`), then
 * `GOFER_API_BASE_URL` / `GOFER_TOKEN` / `GOFER_NAMESPACE`, then flags. Gofer's CLI read the same file and the
 * same variable names, so an existing set-up keeps working.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parse, TomlError } from "smol-toml";
import { suggestKey } from "../config/suggest.ts";
import { CliError } from "./cli-error.ts";

export type OutputFormat = "table" | "json";
export const OUTPUT_FORMATS: readonly OutputFormat[] = ["table", "json"];

export interface CliConfig {
  apiBaseUrl: string;
  token: string | undefined;
  namespace: string;
  output: OutputFormat;
  /** Exact timestamps instead of "3m ago". */
  detail: boolean;
  /** A PEM file of the CA (or self-signed certificate) an https:// server's certificate is checked against. */
  caCertPath: string | undefined;
  /** Accept any certificate from an https:// server: Gofer's escape hatch for test set-ups, never the default. */
  insecureSkipTlsVerify: boolean;
  /** Which file was read, for messages; undefined when none was. */
  source: string | undefined;
}

/** The flags every command accepts; undefined means "not given". */
export interface GlobalFlags {
  config?: string;
  apiBaseUrl?: string;
  token?: string;
  namespace?: string;
  output?: string;
  detail?: boolean;
}

export const DEFAULT_API_BASE_URL = "http://127.0.0.1:8080";

/** Keys of the TOML file. `output_format` is Gofer's name; `plain` there meant what `table` means here. */
const FILE_KEYS = [
  "api_base_url",
  "token",
  "namespace",
  "output_format",
  "detail",
  "debug",
  "ca_cert_path",
  "insecure_skip_tls_verify",
] as const;

/** Gofer's CLI read ~/.gofer.toml, else ~/.config/gofer.toml; the first is named when neither exists. */
export function defaultConfigPath(): string {
  const home = join(homedir(), ".gofer.toml");
  const xdg = join(homedir(), ".config", "gofer.toml");
  return !existsSync(home) && existsSync(xdg) ? xdg : home;
}

export function loadCliConfig(flags: GlobalFlags, env: NodeJS.ProcessEnv = process.env): CliConfig {
  const explicit = flags.config !== undefined;
  const path = flags.config ?? env.GOFER_CONFIG ?? defaultConfigPath();
  const file = readConfigFile(path, explicit || env.GOFER_CONFIG !== undefined);

  const output = parseOutput(
    flags.output ?? file.output_format,
    flags.output === undefined ? path : "--output",
  );
  const config: CliConfig = {
    apiBaseUrl: stripTrailingSlash(
      flags.apiBaseUrl ?? nonEmpty(env.GOFER_API_BASE_URL) ?? file.api_base_url ?? DEFAULT_API_BASE_URL,
    ),
    token: flags.token ?? nonEmpty(env.GOFER_TOKEN) ?? file.token,
    namespace: flags.namespace ?? nonEmpty(env.GOFER_NAMESPACE) ?? file.namespace ?? "default",
    output,
    detail: flags.detail ?? file.detail ?? false,
    caCertPath: nonEmpty(env.GOFER_CA_CERT) ?? file.ca_cert_path,
    insecureSkipTlsVerify:
      parseBoolean(env.GOFER_INSECURE_SKIP_TLS_VERIFY, "GOFER_INSECURE_SKIP_TLS_VERIFY") ??
      file.insecure_skip_tls_verify ??
      false,
    source: file.found ? path : undefined,
  };
  checkUrl(config.apiBaseUrl);
  return config;
}

interface FileValues {
  found: boolean;
  api_base_url?: string;
  token?: string;
  namespace?: string;
  output_format?: string;
  detail?: boolean;
  ca_cert_path?: string;
  insecure_skip_tls_verify?: boolean;
}

function readConfigFile(path: string, required: boolean): FileValues {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === "ENOENT") return { found: false };
    throw new CliError(`cannot read the CLI configuration ${path}: ${(error as Error).message}`, {
      hint: "pass an existing file with --config, or leave it out to use ~/.gofer.toml",
    });
  }
  let table: Record<string, unknown>;
  try {
    table = parse(text);
  } catch (error) {
    const where = error instanceof TomlError ? ` (line ${error.line}, column ${error.column})` : "";
    throw new CliError(`${path} is not valid TOML${where}: ${firstLine((error as Error).message)}`);
  }
  const values: FileValues = { found: true };
  for (const [key, value] of Object.entries(table)) {
    if (!(FILE_KEYS as readonly string[]).includes(key)) {
      const guess = suggestKey(key, FILE_KEYS);
      throw new CliError(`${path}: unknown key "${key}"${guess ? ` (did you mean "${guess}"?)` : ""}`, {
        hint: `the CLI configuration knows ${FILE_KEYS.join(", ")}`,
      });
    }
    if (key === "debug") continue;
    if (key === "detail" || key === "insecure_skip_tls_verify") {
      if (typeof value !== "boolean") throw new CliError(`${path}: "${key}" must be true or false`);
      values[key] = value;
      continue;
    }
    if (typeof value !== "string") throw new CliError(`${path}: "${key}" must be a string`);
    values[key as "api_base_url" | "token" | "namespace" | "output_format" | "ca_cert_path"] = value;
  }
  return values;
}

function parseOutput(value: string | undefined, origin: string): OutputFormat {
  if (value === undefined || value === "plain") return "table";
  if ((OUTPUT_FORMATS as readonly string[]).includes(value)) return value as OutputFormat;
  throw new CliError(`${origin}: unknown output format "${value}"`, {
    hint: `use one of ${OUTPUT_FORMATS.join(", ")}`,
  });
}

function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`"${url}" is not a URL`, {
      hint: "set the server address like http://127.0.0.1:8080 (GOFER_API_BASE_URL or --api-base-url)",
    });
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw new CliError(`the server address ${url} must start with http:// or https://`, {
      hint: "set it like http://127.0.0.1:8080 (GOFER_API_BASE_URL, --api-base-url or api_base_url)",
    });
}

function parseBoolean(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined || value === "") return undefined;
  if (/^(true|1)$/i.test(value)) return true;
  if (/^(false|0)$/i.test(value)) return false;
  throw new CliError(`${name} must be true or false, not "${value}"`);
}

const nonEmpty = (value: string | undefined): string | undefined =>
  value === undefined || value === "" ? undefined : value;
const stripTrailingSlash = (url: string): string => url.replace(/\/+$/, "");
const firstLine = (text: string): string => text.split("\n")[0] ?? text;
