/**
 * What the cron extension keeps in its object store for a `catch_up=true` subscription: the scheduled time of
 * the last tick it handled, so that after downtime it can tell whether a tick was missed.
 */
/**
 * One object per subscription. Object keys are single names (no `/` or `\`, no control characters, at most
 * 256 bytes); each part is percent-encoded, so `:` separates them unambiguously whatever the ids hold.
 */
export function lastFireKey(key: {
  namespaceId: string;
  pipelineId: string;
  subscriptionId: string;
}): string {
  return ["last-fire", key.namespaceId, key.pipelineId, key.subscriptionId].map(encodeURIComponent).join(":");
}

export interface LastFireRecord {
  /** The scheduled time of the last tick handled (or of the subscription, before its first tick). */
  lastFire: Date;
  expression: string;
  timezone: string;
}

export function encodeLastFire(record: LastFireRecord): Uint8Array {
  const json = {
    last_fire: record.lastFire.toISOString(),
    expression: record.expression,
    timezone: record.timezone,
  };
  return new TextEncoder().encode(JSON.stringify(json));
}

/** The record in `bytes`, or undefined when they hold none (a foreign or damaged object is ignored). */
export function decodeLastFire(bytes: Uint8Array): LastFireRecord | undefined {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof json !== "object" || json === null) return undefined;
  const { last_fire, expression, timezone } = json as Record<string, unknown>;
  if (typeof last_fire !== "string" || typeof expression !== "string" || typeof timezone !== "string") {
    return undefined;
  }
  const lastFire = new Date(last_fire);
  if (Number.isNaN(lastFire.getTime())) return undefined;
  return { lastFire, expression, timezone };
}
