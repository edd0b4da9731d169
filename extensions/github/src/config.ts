/**
 * The github extension's install settings. The webhook secret is required. The GitHub App settings (v0's
 * `app_id`, `app_installation`, `app_key`) are optional; with all three the extension can call GitHub as the App,
 * which `pull_request_with_check` subscriptions need to report their runs as check runs.
 */
import { createPrivateKey, type KeyObject } from "node:crypto";

/** What the extension needs to act as a GitHub App installation. */
export interface GithubAppCredentials {
  appId: string;
  installationId: string;
  privateKey: KeyObject;
}

export interface GithubConfig {
  webhookSecret: string;
  /** Present when app_id, app_installation and app_key are all set. */
  app?: GithubAppCredentials;
  /** The App settings missing when only some were given: without them no check run can be reported. */
  missingAppSettings?: string[];
  /** GitHub's REST API, without a trailing slash. */
  apiUrl: string;
  /** Gofer's web UI as people reach it, without a trailing slash; check runs link to the run's page there. */
  webUrl?: string;
}

export type ConfigReader = (key: string) => string | undefined;

export const DEFAULT_API_URL = "https://api.github.com";

const APP_SETTINGS = ["app_id", "app_installation", "app_key"] as const;

/** The config, or throws an Error whose message names the setting and its environment variable. */
export function readGithubConfig(config: ConfigReader): GithubConfig {
  const webhookSecret = config("webhook_secret") ?? config("app_webhook_secret");
  if (!webhookSecret) {
    throw new Error(
      "the webhook secret is not set: install the extension with -c webhook_secret=<the secret set on the GitHub " +
        "webhook> (GOFER_EXTENSION_CONFIG_WEBHOOK_SECRET; v0's GOFER_EXTENSION_CONFIG_APP_WEBHOOK_SECRET also works)",
    );
  }
  const ids: Partial<Record<"app_id" | "app_installation", string>> = {};
  for (const key of ["app_id", "app_installation"] as const) {
    const value = config(key);
    if (value === undefined) continue;
    if (!/^[0-9]+$/.test(value)) {
      throw new Error(
        `GOFER_EXTENSION_CONFIG_${key.toUpperCase()} must be a number (got ${JSON.stringify(value)})`,
      );
    }
    ids[key] = value;
  }
  const keyText = config("app_key");
  let privateKey: KeyObject | undefined;
  if (keyText !== undefined) {
    const read = readPrivateKey(keyText);
    if (!read.ok) throw new Error(`GOFER_EXTENSION_CONFIG_APP_KEY ${read.problem}`);
    privateKey = read.key;
  }

  const result: GithubConfig = {
    webhookSecret,
    apiUrl: readUrl(config, "api_url") ?? DEFAULT_API_URL,
  };
  const webUrl = readUrl(config, "web_url");
  if (webUrl !== undefined) result.webUrl = webUrl;
  if (ids.app_id !== undefined && ids.app_installation !== undefined && privateKey !== undefined) {
    result.app = { appId: ids.app_id, installationId: ids.app_installation, privateKey };
  } else {
    const missing = APP_SETTINGS.filter((key) => config(key) === undefined);
    if (missing.length < APP_SETTINGS.length) result.missingAppSettings = missing;
  }
  return result;
}

function readUrl(config: ConfigReader, key: string): string | undefined {
  const value = config(key)?.trim();
  if (value === undefined || value === "") return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new Error(
      `GOFER_EXTENSION_CONFIG_${key.toUpperCase()} must be an http(s) URL (got ${JSON.stringify(value)})`,
    );
  }
  return value.replace(/\/+$/, "");
}

type KeyRead = { ok: true; key: KeyObject } | { ok: false; problem: string };

/** The private key in `value`: a base64-encoded PEM as v0 took it, or the PEM itself. */
export function readPrivateKey(value: string): KeyRead {
  const pem = value.trimStart().startsWith("-----BEGIN")
    ? value
    : Buffer.from(value, "base64").toString("utf8");
  if (!pem.includes("-----BEGIN")) return { ok: false, problem: "is not a base64-encoded PEM private key" };
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    return {
      ok: false,
      problem: `does not hold a usable private key: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  // GitHub signs App JWTs with RS256 only, so any other key would fail at the first API call instead of now.
  if (key.asymmetricKeyType !== "rsa") {
    return { ok: false, problem: `holds a ${key.asymmetricKeyType} key; a GitHub App's private key is RSA` };
  }
  return { ok: true, key };
}

/** Why `value` is not a base64-encoded PEM private key (a raw PEM is accepted too), or undefined. */
export function privateKeyProblem(value: string): string | undefined {
  const read = readPrivateKey(value);
  return read.ok ? undefined : read.problem;
}
