/**
 * Gofer's side of the extension interface (`gofer-extension.openapi.json`): one call per endpoint, each bounded
 * by a timeout and carrying the shared secret. Answers outside 2xx become {@link ExtensionCallError}s holding
 * the extension's own message, so a refusal ("every must be at least 1m") reaches the user who caused it.
 */
import type { ExtensionDocumentation, ExtensionParameter } from "@gofer/sdk/client";

export interface SubscriptionMessage {
  namespace_id: string;
  pipeline_id: string;
  pipeline_subscription_id: string;
}

export class ExtensionCallError extends Error {
  override name = "ExtensionCallError";
  /** The extension's HTTP status; undefined when it could not be reached or did not answer in time. */
  readonly status: number | undefined;

  constructor(message: string, status?: number, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

const DEFAULT_TIMEOUT_MS = 10_000;

export class ExtensionClient {
  readonly url: string;
  readonly #secret: string;
  readonly #timeoutMs: number;

  constructor(url: string, secret: string, timeoutMs = DEFAULT_TIMEOUT_MS) {
    this.url = url;
    this.#secret = secret;
    this.#timeoutMs = timeoutMs;
  }

  /** True when `/api/health` answers 2xx within `timeoutMs`; never throws. */
  async healthy(timeoutMs = this.#timeoutMs): Promise<boolean> {
    try {
      const response = await fetch(`${this.url}/api/health`, { signal: AbortSignal.timeout(timeoutMs) });
      await response.body?.cancel();
      return response.ok;
    } catch {
      return false;
    }
  }

  async info(): Promise<{ extension_id: string; documentation: ExtensionDocumentation }> {
    const body = await this.#call("GET", "/api/info");
    return { extension_id: stringField(body, "extension_id"), documentation: documentationOf(body) };
  }

  async debug(): Promise<string> {
    return stringField(await this.#call("GET", "/api/debug"), "info");
  }

  async subscribe(subscription: SubscriptionMessage, params: Record<string, string>): Promise<void> {
    await this.#call("POST", "/api/subscribe", { ...subscription, pipeline_subscription_params: params });
  }

  async unsubscribe(subscription: SubscriptionMessage): Promise<void> {
    await this.#call("DELETE", "/api/subscribe", subscription);
  }

  async shutdown(): Promise<void> {
    await this.#call("POST", "/api/shutdown");
  }

  /** Forwards a webhook; answers with the extension's status and body so the sender sees the real verdict. */
  async externalEvent(
    headers: Record<string, string>,
    body: Uint8Array,
  ): Promise<{ status: number; body: string; contentType: string | null }> {
    const response = await this.#send("POST", "/api/external-event", externalEventJson(headers, body));
    return {
      status: response.status,
      body: await response.text(),
      contentType: response.headers.get("content-type"),
    };
  }

  async #call(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await this.#send(method, path, body);
    const text = await response.text();
    if (!response.ok) {
      throw new ExtensionCallError(
        `${method} ${path} answered ${response.status}: ${errorMessageOf(text)}`,
        response.status,
      );
    }
    if (text === "") return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ExtensionCallError(
        `${method} ${path} answered ${response.status} with a body that is not JSON`,
      );
    }
  }

  async #send(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(`${this.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.#secret}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined || body instanceof Uint8Array ? body : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
        // An extension answers; it never sends Gofer elsewhere.
        redirect: "manual",
      });
    } catch (error) {
      const reason = error instanceof Error && error.name === "TimeoutError" ? "timed out" : describe(error);
      throw new ExtensionCallError(`${method} ${path} failed: ${reason}`, undefined, { cause: error });
    }
  }
}

/**
 * `{headers, body: [bytes as numbers]}` written straight into one buffer: for a 10 MiB webhook, building a
 * 10-million-element array and stringifying it would cost hundreds of megabytes and block the event loop.
 */
export function externalEventJson(headers: Record<string, string>, body: Uint8Array): Buffer {
  const head = Buffer.from(`{"headers":${JSON.stringify(headers)},"body":[`);
  const out = Buffer.allocUnsafe(head.length + body.length * 4 + 2);
  head.copy(out);
  let at = head.length;
  for (let index = 0; index < body.length; index++) {
    if (index > 0) out[at++] = 0x2c; // ","
    const byte = body[index] as number;
    if (byte >= 100) out[at++] = 0x30 + Math.floor(byte / 100);
    if (byte >= 10) out[at++] = 0x30 + (Math.floor(byte / 10) % 10);
    out[at++] = 0x30 + (byte % 10);
  }
  out[at++] = 0x5d; // "]"
  out[at++] = 0x7d; // "}"
  return out.subarray(0, at);
}

/** The extension's `message` when it sent the error envelope, else the start of whatever it sent. */
export function errorMessageOf(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === "string" && parsed.message !== "") return parsed.message;
  } catch {
    // Not JSON: the raw text is the best description there is.
  }
  return text.trim().slice(0, 300) || "(no body)";
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}

function stringField(body: unknown, field: string): string {
  const value = (body as Record<string, unknown> | undefined)?.[field];
  if (typeof value !== "string")
    throw new ExtensionCallError(`the extension's answer lacks the string "${field}"`);
  return value;
}

/** Checks the shape an extension declares, so a sloppy extension cannot put garbage into API answers. */
function documentationOf(body: unknown): ExtensionDocumentation {
  const documentation = (body as { documentation?: Record<string, unknown> } | undefined)?.documentation;
  if (!documentation || typeof documentation !== "object") {
    throw new ExtensionCallError('the extension\'s /api/info answer lacks "documentation"');
  }
  return {
    body: typeof documentation.body === "string" ? documentation.body : "",
    config_params: parametersOf(documentation.config_params, "config_params"),
    pipeline_subscription_params: parametersOf(
      documentation.pipeline_subscription_params,
      "pipeline_subscription_params",
    ),
  };
}

function parametersOf(value: unknown, field: string): ExtensionParameter[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value))
    throw new ExtensionCallError(`the extension's documentation.${field} is not a list`);
  return value.map((item: unknown, index) => {
    const parameter = item as Partial<ExtensionParameter> | null;
    if (!parameter || typeof parameter.key !== "string") {
      throw new ExtensionCallError(`the extension's documentation.${field}[${index}] has no string "key"`);
    }
    return {
      key: parameter.key,
      required: parameter.required === true,
      documentation: typeof parameter.documentation === "string" ? parameter.documentation : "",
    };
  });
}
