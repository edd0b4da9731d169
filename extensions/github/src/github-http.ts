/**
 * One request to GitHub's REST API with the headers GitHub asks integrations to send, bounded in time, and
 * failing with a {@link GithubApiError} that says whether trying again could help.
 */

/** The REST API version the requests are written against. */
export const GITHUB_API_VERSION = "2022-11-28";
const USER_AGENT = "gofer-extension-github";

export class GithubApiError extends Error {
  override name = "GithubApiError";
  /** GitHub's status; undefined when no answer came (unreachable, timed out, cut off). */
  readonly status: number | undefined;

  constructor(message: string, status?: number, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }

  /** No answer, a server error or rate limiting: the same request may succeed later. */
  get retryable(): boolean {
    return this.status === undefined || this.status >= 500 || this.status === 429;
  }
}

export interface GithubRequest {
  method: "GET" | "POST" | "PATCH";
  url: string;
  /** The whole Authorization header: `Bearer <jwt>` or `token <installation token>`. */
  authorization: string;
  body?: unknown;
  fetch: typeof fetch;
  timeoutMs: number;
  /** Stops the request, e.g. when the extension shuts down. */
  signal?: AbortSignal | undefined;
}

/** The answer's JSON (undefined for an empty body), or throws GithubApiError. */
export async function callGithub(request: GithubRequest): Promise<unknown> {
  const { method, url } = request;
  const where = `${method} ${new URL(url).pathname}`;
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
  const headers: Record<string, string> = {
    accept: "application/vnd.github+json",
    authorization: request.authorization,
    "user-agent": USER_AGENT,
    "x-github-api-version": GITHUB_API_VERSION,
  };
  if (request.body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  let text: string;
  try {
    response = await request.fetch(url, {
      method,
      headers,
      body: request.body === undefined ? null : JSON.stringify(request.body),
      signal,
    });
    text = await response.text();
  } catch (error) {
    const why = timeout.aborted
      ? `no answer within ${request.timeoutMs} ms`
      : error instanceof Error
        ? (error.cause instanceof Error ? error.cause.message : undefined) || error.message
        : String(error);
    throw new GithubApiError(`GitHub could not be reached (${where}): ${why}`, undefined, { cause: error });
  }
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const message =
      typeof json === "object" && json !== null && typeof (json as { message?: unknown }).message === "string"
        ? (json as { message: string }).message
        : text.slice(0, 200) || response.statusText;
    throw new GithubApiError(`GitHub answered ${response.status} to ${where}: ${message}`, response.status);
  }
  return json;
}
