/**
 * Gofer's side of the extension interface (`gofer-extension.openapi.json`): one call per endpoint, each bounded
 * by a timeout and carrying the shared secret. Answers outside 2xx become {@link ExtensionCallError}s holding
 * the extension's own message, so a refusal ("every must be at least 1m") reaches the user who caused it.
 *
 * Calls go over node:http or node:https rather than fetch: with `extensions.use_tls` they must trust the
 * extensions' certificate (or, as Gofer did, skip checking it), and fetch takes no TLS options without a
 * dispatcher from undici, which this package does not depend on.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { ExtensionDocumentation, ExtensionParameter } from "@gofer/sdk/client";
import type { ExtensionTls } from "../config/config.ts";

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

/** How Gofer reaches every extension: the scheme of their addresses and the connection settings that go with it. */
export interface ExtensionTransport {
  scheme: "http" | "https";
  agent: HttpAgent;
}

/**
 * The transport `extensions.tls` asks for. Connections are not kept alive: calls are seconds apart, and a
 * pooled socket the extension closed meanwhile would fail the next call (a health check, a subscribe).
 */
export function extensionTransport(tls: ExtensionTls | undefined): ExtensionTransport {
  if (!tls) return { scheme: "http", agent: new HttpAgent({ keepAlive: false }) };
  const trust = tls.verify_certs
    ? // The extension serves exactly this certificate, so it is the only one to trust; a partial chain lets a
      // certificate issued by a CA Gofer was not given stand as its own anchor.
      { ca: tls.cert, allowPartialTrustChain: true }
    : { rejectUnauthorized: false };
  return { scheme: "https", agent: new HttpsAgent({ keepAlive: false, ...trust }) };
}

interface Answer {
  status: number;
  contentType: string | null;
  body: string;
}

export class ExtensionClient {
  readonly url: string;
  readonly #secret: string;
  readonly #agent: HttpAgent | undefined;
  readonly #timeoutMs: number;

  /** `agent` must suit the scheme of `url`; without one, Node's global agent for that scheme is used. */
  constructor(url: string, secret: string, options: { agent?: HttpAgent; timeoutMs?: number } = {}) {
    this.url = url;
    this.#secret = secret;
    this.#agent = options.agent;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** True when `/api/health` answers 2xx within `timeoutMs`; never throws. */
  async healthy(timeoutMs = this.#timeoutMs): Promise<boolean> {
    return (await this.checkHealth(timeoutMs)) === undefined;
  }

  /**
   * Why `/api/health` did not answer 2xx within `timeoutMs`, or undefined when it did; never throws. The reason
   * is what tells a refused certificate from an extension that is not up yet.
   */
  async checkHealth(timeoutMs = this.#timeoutMs): Promise<string | undefined> {
    try {
      const answer = await this.#request("GET", "/api/health", {}, undefined, timeoutMs);
      return answer.status >= 200 && answer.status < 300 ? undefined : `it answered ${answer.status}`;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
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
    return this.#send("POST", "/api/external-event", externalEventJson(headers, body));
  }

  async #call(method: string, path: string, body?: unknown): Promise<unknown> {
    const answer = await this.#send(method, path, body);
    if (answer.status < 200 || answer.status >= 300) {
      throw new ExtensionCallError(
        `${method} ${path} answered ${answer.status}: ${errorMessageOf(answer.body)}`,
        answer.status,
      );
    }
    if (answer.body === "") return undefined;
    try {
      return JSON.parse(answer.body) as unknown;
    } catch {
      throw new ExtensionCallError(
        `${method} ${path} answered ${answer.status} with a body that is not JSON`,
      );
    }
  }

  async #send(method: string, path: string, body?: unknown): Promise<Answer> {
    const payload =
      body === undefined ? undefined : body instanceof Uint8Array ? body : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { authorization: `Bearer ${this.#secret}` };
    if (payload !== undefined) headers["content-type"] = "application/json";
    return this.#request(method, path, headers, payload, this.#timeoutMs);
  }

  /**
   * One request, its answer read whole. A redirect is an answer like any other: an extension never sends Gofer
   * elsewhere. The timeout bounds the whole exchange, the answer's body included.
   */
  async #request(
    method: string,
    path: string,
    headers: Record<string, string>,
    payload: Uint8Array | undefined,
    timeoutMs: number,
  ): Promise<Answer> {
    const signal = AbortSignal.timeout(timeoutMs);
    const url = new URL(`${this.url}${path}`);
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    try {
      const response = await new Promise<IncomingMessage>((resolve, reject) => {
        const request = send(url, {
          method,
          headers: { ...headers, "content-length": String(payload?.byteLength ?? 0) },
          signal,
          ...(this.#agent && { agent: this.#agent }),
        });
        request.on("response", resolve).on("error", reject);
        request.end(payload);
      });
      const chunks: Buffer[] = [];
      for await (const chunk of response) chunks.push(chunk as Buffer);
      return {
        status: response.statusCode ?? 0,
        contentType: response.headers["content-type"] ?? null,
        body: Buffer.concat(chunks).toString("utf8"),
      };
    } catch (error) {
      const reason = signal.aborted ? "timed out" : describe(error);
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
