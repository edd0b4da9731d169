/**
 * Calls an extension's API the way Gofer does, and reads the answers the kit sends back.
 */
import assert from "node:assert/strict";

export const SECRET = "extension-secret";

export interface CallOptions {
  /** The Authorization header; the correct bearer secret when omitted, no header when null. */
  authorization?: string | null;
  /** Sent as JSON unless already a string. */
  body?: unknown;
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

export async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  const authorization = options.authorization === undefined ? `Bearer ${SECRET}` : options.authorization;
  if (authorization !== null) headers.authorization = authorization;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers["content-type"] = "application/json";
    body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
  }
  const response = await fetch(baseUrl + path, { method, headers, body });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** A call with `secret` as the bearer and a JSON body, answering the status and the parsed JSON (if any). */
export async function callJson(
  baseUrl: string,
  secret: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> | undefined }> {
  const answer = await call(baseUrl, method, path, { authorization: `Bearer ${secret}`, body });
  return {
    status: answer.status,
    json: answer.text ? (JSON.parse(answer.text) as Record<string, unknown>) : undefined,
  };
}

export interface Envelope {
  message: string;
  request_id: string;
  error_code: string;
}

/** Checks that `answer` is the kit's error envelope with `status` and `code`, and returns it. */
export function assertEnvelope(answer: Answer, status: number, code: string): Envelope {
  assert.equal(answer.status, status, answer.text);
  assert.match(answer.headers.get("content-type") ?? "", /^application\/json/);
  const envelope = JSON.parse(answer.text) as Envelope;
  assert.equal(envelope.error_code, code);
  assert.equal(typeof envelope.message, "string");
  assert.match(envelope.request_id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(answer.headers.get("x-request-id"), envelope.request_id);
  return envelope;
}
