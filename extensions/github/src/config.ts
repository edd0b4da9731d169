/**
 * The github extension's install settings. Only the webhook secret is used; the GitHub App settings are
 * accepted (and checked, so a broken key is noticed at install time) for installs that carry them over from v0,
 * but this extension makes no GitHub API calls.
 */
import { createPrivateKey } from "node:crypto";

export interface GithubConfig {
  webhookSecret: string;
  appId?: string;
  appInstallation?: string;
}

export type ConfigReader = (key: string) => string | undefined;

/** The config, or throws an Error whose message names the setting and its environment variable. */
export function readGithubConfig(config: ConfigReader): GithubConfig {
  const webhookSecret = config("webhook_secret") ?? config("app_webhook_secret");
  if (!webhookSecret) {
    throw new Error(
      "the webhook secret is not set: install the extension with -c webhook_secret=<the secret set on the GitHub " +
        "webhook> (GOFER_EXTENSION_CONFIG_WEBHOOK_SECRET; v0's GOFER_EXTENSION_CONFIG_APP_WEBHOOK_SECRET also works)",
    );
  }
  const result: GithubConfig = { webhookSecret };
  for (const [key, name] of [
    ["app_id", "appId"],
    ["app_installation", "appInstallation"],
  ] as const) {
    const value = config(key);
    if (value === undefined) continue;
    if (!/^[0-9]+$/.test(value)) {
      throw new Error(
        `GOFER_EXTENSION_CONFIG_${key.toUpperCase()} must be a number (got ${JSON.stringify(value)})`,
      );
    }
    result[name] = value;
  }
  const key = config("app_key");
  if (key !== undefined) {
    const problem = privateKeyProblem(key);
    if (problem) throw new Error(`GOFER_EXTENSION_CONFIG_APP_KEY ${problem}`);
  }
  return result;
}

/** Why `value` is not a base64-encoded PEM private key (a raw PEM is accepted too), or undefined. */
export function privateKeyProblem(value: string): string | undefined {
  const pem = value.trimStart().startsWith("-----BEGIN")
    ? value
    : Buffer.from(value, "base64").toString("utf8");
  if (!pem.includes("-----BEGIN")) return "is not a base64-encoded PEM private key";
  try {
    createPrivateKey(pem);
    return undefined;
  } catch (error) {
    return `does not hold a usable private key: ${error instanceof Error ? error.message : String(error)}`;
  }
}
