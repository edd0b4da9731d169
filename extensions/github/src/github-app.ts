/**
 * Authenticating as a GitHub App installation: a short-lived JWT signed with the App's private key (RS256)
 * proves the App, and buys an installation access token (valid for an hour) that the API calls use. The token is
 * kept until shortly before it expires, so a burst of pull requests costs one token request.
 */
import { type KeyObject, sign } from "node:crypto";
import type { GithubAppCredentials } from "./config.ts";
import { callGithub, GithubApiError } from "./github-http.ts";

/** A token this close to its expiry is replaced: it could expire between being handed out and being used. */
export const TOKEN_REFRESH_MARGIN_MS = 60_000;
const DEFAULT_TIMEOUT_MS = 10_000;

const base64url = (text: string) => Buffer.from(text).toString("base64url");

/**
 * The App's JWT. `iat` is a minute in the past and `exp` nine minutes ahead, inside GitHub's ten-minute limit,
 * so a clock a little off from GitHub's is still accepted.
 */
export function createAppJwt(appId: string, privateKey: KeyObject, nowMs: number): string {
  const now = Math.floor(nowMs / 1000);
  const header = base64url(JSON.stringify({ alg: "RS256", typ: "JWT" }));
  const claims = base64url(JSON.stringify({ iat: now - 60, exp: now + 540, iss: appId }));
  const signature = sign("sha256", Buffer.from(`${header}.${claims}`), privateKey);
  return `${header}.${claims}.${signature.toString("base64url")}`;
}

export interface InstallationTokensOptions {
  app: GithubAppCredentials;
  /** GitHub's REST API, without a trailing slash. */
  apiUrl: string;
  fetch?: typeof fetch;
  /** Milliseconds since the epoch; the wall clock unless a test gives its own. */
  now?: () => number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class InstallationTokens {
  readonly #options: InstallationTokensOptions;
  readonly #now: () => number;
  #cached: { token: string; expiresAt: number } | undefined;
  /** Concurrent callers share one request rather than each buying a token. */
  #pending: Promise<string> | undefined;
  #requested = 0;

  constructor(options: InstallationTokensOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** How many tokens have been requested from GitHub so far. */
  get requested(): number {
    return this.#requested;
  }

  /** A valid installation token, from the cache when it has more than the margin left. */
  token(): Promise<string> {
    const cached = this.#cached;
    if (cached && this.#now() < cached.expiresAt - TOKEN_REFRESH_MARGIN_MS)
      return Promise.resolve(cached.token);
    this.#pending ??= this.#request().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** Forgets the cached token, after GitHub refused it (revoked, or the clocks disagree). */
  invalidate(): void {
    this.#cached = undefined;
  }

  async #request(): Promise<string> {
    const { app, apiUrl } = this.#options;
    this.#requested += 1;
    const answer = await callGithub({
      method: "POST",
      url: `${apiUrl}/app/installations/${encodeURIComponent(app.installationId)}/access_tokens`,
      authorization: `Bearer ${createAppJwt(app.appId, app.privateKey, this.#now())}`,
      fetch: this.#options.fetch ?? fetch,
      timeoutMs: this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      signal: this.#options.signal,
    });
    const { token, expires_at: expiresAt } = (answer ?? {}) as { token?: unknown; expires_at?: unknown };
    if (typeof token !== "string" || token === "") {
      throw new GithubApiError("GitHub's answer to the installation token request holds no token");
    }
    // Without a readable expiry the token is used once and not kept: a guessed lifetime could outlive it.
    const expiry = typeof expiresAt === "string" ? Date.parse(expiresAt) : Number.NaN;
    this.#cached = Number.isNaN(expiry) ? undefined : { token, expiresAt: expiry };
    return token;
  }
}
