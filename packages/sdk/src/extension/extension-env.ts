/**
 * Reads the environment Gofer gives an extension's container into one checked value. Every problem is
 * reported at once, each naming its variable, so a misconfigured install is fixed in one edit.
 */

import { createSecureContext } from "node:tls";
import type { ParameterDoc } from "./extension-definition.ts";
import { isLogLevel, LOG_LEVELS, type LogLevel } from "./extension-logger.ts";

export type EnvRecord = Record<string, string | undefined>;

export interface BindAddress {
  /** As given, for messages. */
  text: string;
  host: string;
  port: number;
}

/** A certificate (chain) and its private key, as PEM text. */
export interface TlsPems {
  cert: string;
  key: string;
}

export interface ExtensionEnv {
  id: string;
  secret: string;
  /** Gofer's API base URL with its scheme. */
  goferUrl: string;
  bind: BindAddress;
  logLevel: LogLevel;
  /** What to serve HTTPS with, when GOFER_EXTENSION_SYSTEM_USE_TLS is true; plain HTTP otherwise. */
  tls: TlsPems | undefined;
  config(key: string): string | undefined;
}

/** Where Gofer's own extensions listen when nothing says otherwise. */
const DEFAULT_BIND_ADDRESS = "0.0.0.0:8082";

/** The variable a config param arrives in: `min_interval` → GOFER_EXTENSION_CONFIG_MIN_INTERVAL. */
export function configVariable(key: string): string {
  return `GOFER_EXTENSION_CONFIG_${key.toUpperCase()}`;
}

/** Reads `env`; throws an Error listing every missing or malformed variable, required config params included. */
export function readExtensionEnv(env: EnvRecord, configParams: readonly ParameterDoc[] = []): ExtensionEnv {
  const problems: string[] = [];
  const value = (name: string): string | undefined => {
    const text = env[name];
    return text === undefined || text === "" ? undefined : text;
  };
  const required = (name: string, what: string): string => {
    const text = value(name);
    if (text === undefined) problems.push(`${name} is not set (${what})`);
    return text ?? "";
  };

  const id = required("GOFER_EXTENSION_SYSTEM_ID", "the extension's id");
  const secret = required("GOFER_EXTENSION_SYSTEM_SECRET", "the secret shared with Gofer");
  const useTls = (value("GOFER_EXTENSION_SYSTEM_USE_TLS") ?? "false").toLowerCase();
  if (useTls !== "true" && useTls !== "false") {
    problems.push(`GOFER_EXTENSION_SYSTEM_USE_TLS is ${JSON.stringify(useTls)}; use true or false`);
  }
  const goferUrl = readGoferUrl(value, useTls === "true", problems);
  const tls = useTls === "true" ? readTls(required, problems) : undefined;
  const bind = parseBindAddress(
    value("GOFER_EXTENSION_SYSTEM_BIND_ADDRESS") ?? DEFAULT_BIND_ADDRESS,
    problems,
  );

  const level = (value("GOFER_EXTENSION_SYSTEM_LOG_LEVEL") ?? "info").toLowerCase();
  if (!isLogLevel(level)) {
    problems.push(
      `GOFER_EXTENSION_SYSTEM_LOG_LEVEL is ${JSON.stringify(level)}; use one of ${LOG_LEVELS.join(", ")}`,
    );
  }

  const config = (key: string) => value(configVariable(key));
  for (const param of configParams) {
    if (param.required && config(param.key) === undefined) {
      const doc = param.documentation ? `: ${param.documentation}` : "";
      problems.push(`${configVariable(param.key)} is not set (required config param ${param.key}${doc})`);
    }
  }

  if (problems.length > 0) {
    throw new Error(
      `Invalid extension environment:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`,
    );
  }
  return { id, secret, goferUrl, bind, logLevel: isLogLevel(level) ? level : "info", tls, config };
}

// _URL is the current name; _HOST (no scheme) is what v0 extensions were given, so it still works.
function readGoferUrl(
  value: (name: string) => string | undefined,
  useTls: boolean,
  problems: string[],
): string {
  const url = value("GOFER_EXTENSION_SYSTEM_GOFER_URL");
  const host = value("GOFER_EXTENSION_SYSTEM_GOFER_HOST");
  const [name, candidate] =
    url !== undefined
      ? ["GOFER_EXTENSION_SYSTEM_GOFER_URL", url]
      : host !== undefined
        ? ["GOFER_EXTENSION_SYSTEM_GOFER_HOST", `${useTls ? "https" : "http"}://${host}`]
        : [undefined, undefined];
  if (name === undefined || candidate === undefined) {
    problems.push(
      "GOFER_EXTENSION_SYSTEM_GOFER_URL is not set (Gofer's API URL, e.g. http://127.0.0.1:8080)",
    );
    return "";
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(candidate);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
    problems.push(
      `${name} is ${JSON.stringify(value(name))}, not an http(s) URL such as http://127.0.0.1:8080`,
    );
  }
  return candidate;
}

/** Checked here, so a certificate that does not fit its key stops the extension naming both variables. */
function readTls(required: (name: string, what: string) => string, problems: string[]): TlsPems | undefined {
  const because = "GOFER_EXTENSION_SYSTEM_USE_TLS is true";
  const cert = required(
    "GOFER_EXTENSION_SYSTEM_TLS_CERT",
    `the PEM certificate to serve HTTPS with; ${because}`,
  );
  const key = required(
    "GOFER_EXTENSION_SYSTEM_TLS_KEY",
    `the PEM private key to serve HTTPS with; ${because}`,
  );
  if (cert === "" || key === "") return undefined;
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    problems.push(
      "GOFER_EXTENSION_SYSTEM_TLS_CERT and GOFER_EXTENSION_SYSTEM_TLS_KEY cannot serve HTTPS: " +
        (error instanceof Error ? error.message : String(error)),
    );
    return undefined;
  }
  return { cert, key };
}

function parseBindAddress(text: string, problems: string[]): BindAddress {
  const match = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(text);
  const port = Number(match?.[3]);
  if (match === null || !Number.isInteger(port) || port > 65_535) {
    problems.push(
      `GOFER_EXTENSION_SYSTEM_BIND_ADDRESS is ${JSON.stringify(text)}; use host:port, e.g. 0.0.0.0:8082`,
    );
    return { text, host: "", port: 0 };
  }
  // An empty host (`:8082`) means every interface, as in Go's net.Listen.
  return { text, host: match[1] || match[2] || "0.0.0.0", port };
}
