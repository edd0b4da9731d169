/**
 * One HTTP exchange with the server: the v0 headers, JSON bodies, the per-request timeout, and the mapping of
 * every failure onto {@link GoferApiError} (the server said no) or {@link GoferConnectionError} (no usable
 * answer). Everything above this module works with unwrapped values and those two errors only.
 */

import { GoferApiError, GoferConnectionError } from "./errors.ts";

export type QueryValue = string | number | boolean | undefined;
export type Query = Record<string, QueryValue>;

export interface SocketTarget {
  /** `ws:` or `wss:` URL of the route with its query. */
  url: string;
  headers: Record<string, string>;
  /** For error messages. */
  baseUrl: string;
  explainRefusal: () => Promise<unknown>;
}

export interface HttpClientOptions {
  baseUrl: string;
  token?: string | undefined;
  timeoutMs: number;
  fetch?: typeof fetch | undefined;
  userAgent?: string | undefined;
}

export interface RequestOptions {
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
}

/** Raw bytes to send: a stream is sent as it is read, never gathered first. */
export type RawBody = Uint8Array | ReadableStream<Uint8Array> | Blob;

export interface RawRequestOptions {
  query?: Query;
  body: RawBody;
  /** Default `application/octet-stream`. */
  contentType?: string;
}

export interface StreamOptions {
  query?: Query;
  signal?: AbortSignal | undefined;
}

/**
 * Builds an API path from a template whose interpolated values each become exactly one encoded path segment,
 * so an id can never reach another route.
 */
export function apiPath(literals: TemplateStringsArray, ...segments: (string | number)[]): string {
  let path = literals[0] ?? "";
  segments.forEach((segment, index) => {
    const text = String(segment);
    // URL parsing resolves `.` and `..` segments even when percent-encoded, and an empty one names another route.
    if (text === "" || text === "." || text === "..") {
      throw new TypeError(
        `Invalid id ${JSON.stringify(text)} in an API path: ids must not be empty, "." or ".."`,
      );
    }
    path += encodeURIComponent(text) + (literals[index + 1] ?? "");
  });
  return path;
}

export class HttpClient {
  /** As configured, for error messages. */
  readonly baseUrl: string;
  readonly #root: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: HttpClientOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.baseUrl);
    } catch {
      throw new TypeError(
        `baseUrl ${JSON.stringify(options.baseUrl)} is not a URL; use e.g. http://127.0.0.1:8080`,
      );
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new TypeError(`baseUrl ${JSON.stringify(options.baseUrl)} must start with http:// or https://`);
    }
    this.baseUrl = options.baseUrl;
    // A base with a path prefix (a reverse proxy's `/gofer`) keeps it; paths are appended, not resolved.
    this.#root = `${parsed.origin}${parsed.pathname.replace(/\/+$/, "")}`;
    this.#headers = { "gofer-api-version": "v0" };
    if (options.token) this.#headers.authorization = `Bearer ${options.token}`;
    if (options.userAgent) this.#headers["user-agent"] = options.userAgent;
    this.#timeoutMs = options.timeoutMs;
    // Looked up per call rather than bound once, so a fetch installed after construction is the one used.
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** The headers every request, including a WebSocket upgrade, must carry. */
  headers(): Record<string, string> {
    return { ...this.#headers };
  }

  url(path: string, query?: Query): URL {
    const url = new URL(this.#root + path);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    return url;
  }

  /**
   * Where and how to open a WebSocket route: its ws(s) URL, the headers the upgrade needs, and how to learn why
   * an upgrade was refused (the WebSocket API hides the refusing response).
   */
  socketTarget(path: string, query: Query): SocketTarget {
    const url = this.url(path, query);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    return {
      url: url.href,
      headers: this.headers(),
      baseUrl: this.baseUrl,
      explainRefusal: () => this.explainRefusedUpgrade(path, query),
    };
  }

  /**
   * Sends a request and returns the field `key` of the JSON answer (the v0 envelope `{namespace: {…}}`), or
   * the whole answer when `key` is undefined.
   */
  async json<T>(
    method: string,
    path: string,
    key: string | undefined,
    options: RequestOptions = {},
  ): Promise<T> {
    const { text } = await this.#exchange(method, path, options);
    return this.#unwrap<T>(text, method, path, key);
  }

  /**
   * Sends `options.body` as raw bytes and returns the field `key` of the JSON answer. For a stream body the
   * timeout restarts with every chunk read from it, so a long upload is fine and only a stalled one times out;
   * a Uint8Array or Blob is sent with its length, within one timeout. A failure of the body stream itself (a
   * file that cannot be read) is thrown as it is, not as a connection failure.
   */
  async rawJson<T>(
    method: string,
    path: string,
    key: string | undefined,
    options: RawRequestOptions,
  ): Promise<T> {
    const deadline = new Deadline(this.#timeoutMs);
    const headers = { ...this.headers(), "content-type": options.contentType ?? "application/octet-stream" };
    // `duplex` is what fetch requires for a streamed request body; Node's RequestInit type knows it.
    const init: RequestInit & { duplex?: "half" } = { method, headers };
    let source: ReadableStreamDefaultReader<Uint8Array> | undefined;
    let sourceFailure: { error: unknown } | undefined;
    if (options.body instanceof ReadableStream) {
      const reader = options.body.getReader();
      source = reader;
      // Pulled one chunk at a time as fetch sends them, so at most a chunk or two is ever held in memory.
      init.body = new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            const chunk = await reader.read().catch((error: unknown) => {
              sourceFailure = { error };
              throw error;
            });
            deadline.restart();
            if (chunk.done) controller.close();
            else controller.enqueue(chunk.value);
          },
          cancel: (reason) => reader.cancel(reason),
        },
        { highWaterMark: 0 },
      );
      init.duplex = "half";
    } else {
      // The DOM's BodyInit (the web UI's tests compile this file with it) names only ArrayBuffer-backed arrays;
      // fetch sends the bytes of any Uint8Array.
      init.body = options.body as Blob | Uint8Array<ArrayBuffer>;
    }
    try {
      const text = await this.#send(method, path, options.query, init, deadline, (response) =>
        response.text(),
      );
      return this.#unwrap<T>(text, method, path, key);
    } catch (error) {
      throw sourceFailure ? sourceFailure.error : error;
    } finally {
      // The server may answer (a refusal) before reading the whole body: stop reading the source then too.
      await source?.cancel().catch(() => undefined);
    }
  }

  /** Sends a request and returns the answer's raw bytes, all read within the timeout. */
  async bytes(method: string, path: string, options: { query?: Query } = {}): Promise<Uint8Array> {
    return this.#send(
      method,
      path,
      options.query,
      { method, headers: this.headers() },
      new Deadline(this.#timeoutMs),
      async (response) => new Uint8Array(await response.arrayBuffer()),
    );
  }

  /** Sends a request whose success carries no body (204). */
  async empty(method: string, path: string, options: RequestOptions = {}): Promise<void> {
    await this.#exchange(method, path, options);
  }

  /**
   * Opens a streamed GET. The timeout covers only the wait for the response headers, because a followed log
   * may rightly stay silent for hours; after that, only `signal` ends it.
   */
  async stream(path: string, options: StreamOptions = {}): Promise<Response> {
    const { signal } = options;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.#timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal;
    const url = this.url(path, options.query);
    try {
      const response = await this.#fetch(url, { method: "GET", headers: this.headers(), signal: combined });
      clearTimeout(timer);
      if (!response.ok) throw toApiError(response, await response.text());
      return response;
    } catch (error) {
      throw this.#connectionFailure(error, "GET", path, timeout.signal, signal);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The chunks of a streamed body. A break in the connection surfaces as a {@link GoferConnectionError}; ending
   * the iteration early cancels the request, which tells the server to stop.
   */
  async *body(response: Response, path: string, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
    if (!response.body) return;
    const reader = response.body.getReader();
    let finished = false;
    try {
      for (;;) {
        const chunk = await reader.read().catch((error: unknown) => {
          throw this.#connectionFailure(error, "GET", path, undefined, signal);
        });
        if (chunk.done) {
          finished = true;
          return;
        }
        yield chunk.value;
      }
    } finally {
      if (!finished) await reader.cancel().catch(() => undefined);
    }
  }

  /**
   * A streamed body as a ReadableStream, read only as fast as its consumer pulls. A break in the connection
   * errors it with a {@link GoferConnectionError} (or the reason of an aborted `signal`); cancelling it cancels
   * the request.
   */
  byteStream(response: Response, path: string, signal?: AbortSignal): ReadableStream<Uint8Array> {
    if (!response.body) return new ReadableStream<Uint8Array>({ start: (controller) => controller.close() });
    const reader = response.body.getReader();
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          const chunk = await reader.read().catch((error: unknown) => {
            throw this.#connectionFailure(error, "GET", path, undefined, signal);
          });
          if (chunk.done) controller.close();
          else controller.enqueue(chunk.value);
        },
        cancel: (reason) => reader.cancel(reason),
      },
      { highWaterMark: 0 },
    );
  }

  /**
   * Why a WebSocket upgrade of `path` failed. The WebSocket API hides the refusing response, so the same
   * request is repeated as plain HTTP, which runs through the same version and auth checks and answers with
   * the error envelope.
   */
  async explainRefusedUpgrade(path: string, query: Query | undefined): Promise<unknown> {
    try {
      await this.#exchange("GET", path, query ? { query } : {});
    } catch (error) {
      return error;
    }
    return new GoferConnectionError(
      `The server at ${this.baseUrl} refused the WebSocket connection to ${path}; check that any proxy in ` +
        "between forwards WebSocket upgrades",
      this.baseUrl,
    );
  }

  async #exchange(method: string, path: string, options: RequestOptions): Promise<{ text: string }> {
    const headers = this.headers();
    const init: RequestInit = { method, headers };
    if (options.body !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    const text = await this.#send(
      method,
      path,
      options.query,
      init,
      new Deadline(this.#timeoutMs),
      (response) => response.text(),
    );
    return { text };
  }

  /** One fetch under `deadline`, reading a successful answer with `read`; failures mapped onto our two errors. */
  async #send<T>(
    method: string,
    path: string,
    query: Query | undefined,
    init: RequestInit,
    deadline: Deadline,
    read: (response: Response) => Promise<T>,
  ): Promise<T> {
    init.signal = deadline.signal;
    try {
      const response = await this.#fetch(this.url(path, query), init);
      if (!response.ok) throw toApiError(response, await response.text());
      return await read(response);
    } catch (error) {
      throw this.#connectionFailure(error, method, path, deadline.signal, undefined);
    } finally {
      deadline.clear();
    }
  }

  /** The field `key` of a JSON answer, or the whole answer when `key` is undefined. */
  #unwrap<T>(text: string, method: string, path: string, key: string | undefined): T {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw this.#notGofer(method, path, "an answer that is not JSON");
    }
    if (key === undefined) return parsed as T;
    if (typeof parsed !== "object" || parsed === null || !(key in parsed)) {
      throw this.#notGofer(method, path, `JSON without the expected "${key}" field`);
    }
    return (parsed as Record<string, unknown>)[key] as T;
  }

  /** Maps a failure of fetch or of reading a body; errors that are already ours, and caller aborts, pass through. */
  #connectionFailure(
    error: unknown,
    method: string,
    path: string,
    timeout: AbortSignal | undefined,
    caller: AbortSignal | undefined,
  ): unknown {
    if (error instanceof GoferApiError || error instanceof GoferConnectionError) return error;
    if (caller?.aborted) return caller.reason;
    if (timeout?.aborted) {
      return new GoferConnectionError(
        `The Gofer server at ${this.baseUrl} did not answer ${method} ${path} within ${this.#timeoutMs} ms; ` +
          "check that it is running and reachable, or allow a longer timeoutMs",
        this.baseUrl,
        { timedOut: true, cause: error },
      );
    }
    const code = systemErrorCode(error);
    return new GoferConnectionError(
      `Could not reach the Gofer server at ${this.baseUrl}${code ? ` (${code})` : ""}: ${method} ${path} failed; ` +
        "check that the server is running and that the URL is right",
      this.baseUrl,
      { cause: error },
    );
  }

  #notGofer(method: string, path: string, what: string): GoferConnectionError {
    return new GoferConnectionError(
      `${method} ${path} at ${this.baseUrl} got ${what}; check that the URL points at a Gofer server`,
      this.baseUrl,
    );
  }
}

/** A timeout that can be restarted while an exchange shows progress (an upload's chunks being read). */
class Deadline {
  readonly #controller = new AbortController();
  readonly #ms: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #cleared = false;

  constructor(ms: number) {
    this.#ms = ms;
    this.restart();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  restart(): void {
    // fetch may still pull an upload's body after the answer (a refusal sent before reading it all); a timer
    // armed then would only keep the process alive.
    if (this.#cleared || this.#controller.signal.aborted) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#controller.abort(), this.#ms);
  }

  clear(): void {
    this.#cleared = true;
    clearTimeout(this.#timer);
  }
}

/** A non-2xx answer as an error, from the v0 envelope when the body is one and the status text otherwise. */
export function toApiError(response: Response, text: string): GoferApiError {
  const headerRequestId = response.headers.get("x-request-id") ?? undefined;
  const envelope = parseEnvelope(text);
  if (envelope) {
    return new GoferApiError(response.status, envelope.message, {
      errorCode: envelope.error_code,
      requestId: envelope.request_id || headerRequestId,
    });
  }
  return new GoferApiError(response.status, response.statusText || `HTTP ${response.status}`, {
    requestId: headerRequestId,
  });
}

function parseEnvelope(
  text: string,
): { message: string; request_id?: string; error_code?: string } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const { message, request_id, error_code } = parsed as Record<string, unknown>;
  if (typeof message !== "string" || message === "") return undefined;
  return {
    message,
    ...(typeof request_id === "string" && { request_id }),
    ...(typeof error_code === "string" && { error_code }),
  };
}

/** The errno-style code (`ECONNREFUSED`, `ENOTFOUND`) Node puts on a failed fetch's cause, when there is one. */
function systemErrorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 4; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^E[A-Z_]+$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
