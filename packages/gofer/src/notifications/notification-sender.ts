/**
 * One POST to a target: the only outgoing HTTP of notifications, and only ever to the target's own URL. Redirects
 * are not followed (they could carry the signed body to another host); the answer is read up to a snippet and
 * the rest dropped; the whole exchange, answer included, is bounded by the timeout. What it reports never holds
 * the URL beyond its origin, as the path may be a secret.
 */
import { RESPONSE_SNIPPET_BYTES } from "../domain/notifications.ts";
import type { OutgoingRequest } from "./notification-request.ts";

export interface SendResult {
  /** The receiver's status; null when it did not answer. */
  status: number | null;
  /** The start of the answer's body, as text. */
  body: string;
  durationMs: number;
  /** Why there was no answer. */
  error: string | null;
}

/** The send was cut short because the server is stopping: nothing is to be recorded. */
export class SendStoppedError extends Error {
  override name = "SendStoppedError";
}

export async function sendNotification(
  url: string,
  request: OutgoingRequest,
  options: { timeoutMs: number; stop?: AbortSignal },
): Promise<SendResult> {
  const started = performance.now();
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.stop ? AbortSignal.any([timeout, options.stop]) : timeout;
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: request.headers,
      body: request.body,
      redirect: "manual",
      signal,
    });
    // The status counts even when the answer's body stalls past the timeout.
    const body = await readSnippet(response).catch(() => "");
    if (options.stop?.aborted) throw new SendStoppedError("the server is stopping");
    return { status: response.status, body, durationMs: elapsed(), error: null };
  } catch (error) {
    if (options.stop?.aborted) throw new SendStoppedError("the server is stopping");
    return {
      status: null,
      body: "",
      durationMs: elapsed(),
      error: describeFailure(error, url, timeout, options),
    };
  }
}

/** Reads at most the snippet's size and cancels the rest, so a receiver streaming a large answer costs nothing. */
async function readSnippet(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < RESPONSE_SNIPPET_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const bytes = Buffer.concat(chunks).subarray(0, RESPONSE_SNIPPET_BYTES);
  // A cut in the middle of a character leaves a replacement character, never an error.
  return new TextDecoder("utf-8", { fatal: false }).decode(bytes);
}

function describeFailure(
  error: unknown,
  url: string,
  timeout: AbortSignal,
  options: { timeoutMs: number },
): string {
  if (timeout.aborted) return `no answer within ${options.timeoutMs / 1000} s`;
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const message = cause instanceof Error ? cause.message : String(cause);
  const text = code && !message.includes(code) ? `${code}: ${message}` : message;
  return `could not reach the receiver (${hideUrl(text, url)})`;
}

/** Error texts of the HTTP stack name hosts and ports, and might name the URL: only its origin may show. */
function hideUrl(text: string, url: string): string {
  const parsed = new URL(url);
  const secretPart = parsed.href.slice(parsed.origin.length);
  let hidden = text.replaceAll(parsed.href, parsed.origin);
  if (secretPart.length > 1) hidden = hidden.replaceAll(secretPart, "/…");
  return hidden;
}
