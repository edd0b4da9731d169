/**
 * Checks the JSON bodies Gofer sends and turns them into the values handlers receive. Checked by hand so each
 * refusal names the field at fault; fields the kit does not know are ignored, as a newer Gofer may add some.
 */

import type { ExternalEvent, Subscription, SubscriptionKey } from "./extension-definition.ts";
import { kitError } from "./extension-error.ts";

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeJson(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

function body(value: unknown): JsonObject {
  if (!isObject(value))
    throw kitError("BAD_REQUEST", `The body must be a JSON object, not ${describeJson(value)}`);
  return value;
}

function identifier(object: JsonObject, field: string): string {
  const value = object[field];
  if (value === undefined) throw kitError("BAD_REQUEST", `${field} is missing`);
  if (typeof value !== "string") {
    throw kitError("BAD_REQUEST", `${field} must be a string, not ${describeJson(value)}`);
  }
  if (value === "") throw kitError("BAD_REQUEST", `${field} must not be empty`);
  return value;
}

function stringMap(object: JsonObject, field: string): Record<string, string> {
  const value = object[field];
  if (value === undefined) throw kitError("BAD_REQUEST", `${field} is missing`);
  if (!isObject(value))
    throw kitError("BAD_REQUEST", `${field} must be an object, not ${describeJson(value)}`);
  const entries = Object.entries(value).map(([key, entry]) => {
    if (typeof entry !== "string") {
      throw kitError("BAD_REQUEST", `${field}.${key} must be a string, not ${describeJson(entry)}`);
    }
    return [key, entry] as const;
  });
  // fromEntries defines own properties, so a key such as `__proto__` stays an ordinary entry.
  return Object.fromEntries(entries);
}

export function parseSubscriptionKey(value: unknown): SubscriptionKey {
  const object = body(value);
  return {
    namespaceId: identifier(object, "namespace_id"),
    pipelineId: identifier(object, "pipeline_id"),
    subscriptionId: identifier(object, "pipeline_subscription_id"),
  };
}

/**
 * Gofer checks required params before it subscribes, but an extension can be called directly, so the kit
 * refuses a subscription lacking one (an empty value counts as lacking) rather than let a handler trip on it.
 */
export function parseSubscription(value: unknown, requiredParams: readonly string[]): Subscription {
  const key = parseSubscriptionKey(value);
  const params = stringMap(body(value), "pipeline_subscription_params");
  const missing = requiredParams.filter((param) => !Object.hasOwn(params, param) || params[param] === "");
  if (missing.length > 0) {
    const names = missing.map((param) => JSON.stringify(param)).join(", ");
    const noun = missing.length === 1 ? "parameter" : "parameters";
    throw kitError("INVALID_SUBSCRIPTION", `Missing required subscription ${noun} ${names}`);
  }
  return { ...key, params };
}

export function parseExternalEvent(value: unknown): ExternalEvent {
  const object = body(value);
  const headers = stringMap(object, "headers");
  const bytes = object.body;
  if (bytes === undefined) throw kitError("BAD_REQUEST", "body is missing");
  if (!Array.isArray(bytes)) {
    throw kitError("BAD_REQUEST", `body must be an array of bytes (0..255), not ${describeJson(bytes)}`);
  }
  const result = new Uint8Array(bytes.length);
  bytes.forEach((byte: unknown, index) => {
    if (typeof byte !== "number" || !Number.isInteger(byte) || byte < 0 || byte > 255) {
      throw kitError(
        "BAD_REQUEST",
        `body[${index}] must be an integer from 0 to 255, not ${JSON.stringify(byte)}`,
      );
    }
    result[index] = byte;
  });
  return { headers, body: result };
}
