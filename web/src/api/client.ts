/**
 * Calls to the v0 API: the version header on every request, the session's token when signed in, and failures
 * turned into an ApiError carrying the server's own message from the v0 error envelope.
 */
import { session } from "../state/session.ts";

export class ApiError extends Error {
  override name = "ApiError";
  readonly status: number;
  readonly code: string;

  constructor(message: string, status: number, code: string) {
    super(message);
    this.status = status;
    this.code = code;
  }

  /** The token is missing, unknown or lacks a permission: the person can do something about it. */
  get isPermission(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

export function apiHeaders(extra: Record<string, string> = {}): Record<string, string> {
  const token = session.token.value;
  return {
    "gofer-api-version": "v0",
    ...(token && { authorization: `Bearer ${token}` }),
    ...extra,
  };
}

export async function apiFetch(
  method: string,
  path: string,
  options: { body?: unknown; signal?: AbortSignal } = {},
): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: apiHeaders(options.body === undefined ? {} : { "content-type": "application/json" }),
      ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
      ...(options.signal && { signal: options.signal }),
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new ApiError("The Gofer server cannot be reached; check that it is running", 0, "UNREACHABLE");
  }
  if (!response.ok) throw await errorOf(response);
  return response;
}

/** A JSON call; `field` picks the one field of the answer the caller wants. */
export async function api<T>(method: string, path: string, field?: string, body?: unknown): Promise<T> {
  const response = await apiFetch(method, path, { body });
  if (response.status === 204) return undefined as T;
  const json = (await response.json()) as Record<string, unknown>;
  return (field ? json[field] : json) as T;
}

async function errorOf(response: Response): Promise<ApiError> {
  let message = `The server answered ${response.status} ${response.statusText}`;
  let code = "HTTP_ERROR";
  try {
    const envelope = (await response.json()) as { message?: string; error_code?: string };
    if (envelope.message) message = envelope.message;
    if (envelope.error_code) code = envelope.error_code;
  } catch {
    // Not the envelope (a proxy's page, say): the status line is all there is to tell.
  }
  if (response.status === 401 && !session.token.value)
    message = `${message}. Sign in with a token to see more.`;
  return new ApiError(message, response.status, code);
}

/** Path segments are encoded one by one, so ids can never change the shape of a path. */
export function apiPath(strings: TemplateStringsArray, ...values: (string | number)[]): string {
  return strings.reduce(
    (path, part, index) =>
      path + part + (index < values.length ? encodeURIComponent(String(values[index])) : ""),
    "",
  );
}

/** The WebSocket address of an API path, and the subprotocols that carry what headers carry over HTTP. */
export function openApiSocket(pathAndQuery: string): WebSocket {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const token = session.token.value;
  const protocols = ["gofer-api-version.v0", ...(token ? [`gofer-token.${token}`] : [])];
  const socket = new WebSocket(`${scheme}//${location.host}${pathAndQuery}`, protocols);
  socket.binaryType = "arraybuffer";
  return socket;
}
