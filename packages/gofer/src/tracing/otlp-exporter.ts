/**
 * Sends finished spans to an OTLP/HTTP endpoint as JSON, in batches: every second, or sooner once 512 are
 * waiting, one request at a time. A collector that is down costs at most a bounded queue (older spans are dropped
 * beyond 4,096, and said so once), never a blocked run loop. `close()` sends what is left, for a few seconds.
 */
import { randomBytes } from "node:crypto";
import type { TracingConfig } from "../config/tracing-config.ts";

export type AttributeValue = string | number | boolean;

export interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** 1 internal, 2 server, 3 client. */
  kind: 1 | 2 | 3;
  startMs: number;
  endMs: number;
  attributes: Record<string, AttributeValue | undefined>;
  /** `error` marks a failed operation (OTLP status code 2). */
  error?: string;
  events?: Array<{ name: string; timeMs: number; attributes?: Record<string, AttributeValue> }>;
}

const BATCH = 512;
const MAX_QUEUED = 4_096;
const FLUSH_MS = 1_000;
const SEND_TIMEOUT_MS = 10_000;
/** How long a stopping server goes on sending the spans it still holds. */
const CLOSE_DEADLINE_MS = 3_000;

export const newSpanId = (): string => randomBytes(8).toString("hex");
export const newTraceId = (): string => randomBytes(16).toString("hex");

export class OtlpExporter {
  readonly #config: TracingConfig;
  readonly #version: string;
  readonly #warn: (message: string) => void;
  #queue: Span[] = [];
  #timer: NodeJS.Timeout | undefined;
  #sending: Promise<void> = Promise.resolve();
  #busy = false;
  #closed = false;
  #dropped = 0;
  #failing = false;

  constructor(config: TracingConfig, version: string, warn: (message: string) => void) {
    this.#config = config;
    this.#version = version;
    this.#warn = warn;
  }

  export(span: Span): void {
    if (this.#closed) return;
    if (this.#queue.length >= MAX_QUEUED) {
      this.#queue.shift();
      if (this.#dropped++ === 0)
        this.#warn(`the trace collector keeps up too slowly: dropping the oldest spans`);
    }
    this.#queue.push(span);
    this.#sendSoon(this.#queue.length >= BATCH ? 0 : FLUSH_MS);
  }

  /** Sends what is queued, batch after batch, for at most `deadlineMs`; what is left then is dropped. */
  async close(deadlineMs = CLOSE_DEADLINE_MS): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const deadline = Date.now() + deadlineMs;
    await this.#sending;
    while (this.#queue.length > 0 && Date.now() < deadline) {
      this.#sending = this.#post(this.#queue.splice(0, BATCH), Math.max(100, deadline - Date.now()));
      await this.#sending;
    }
  }

  #sendSoon(delayMs: number): void {
    if (this.#busy || (this.#timer !== undefined && delayMs > 0)) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#sendNext();
    }, delayMs);
    this.#timer.unref();
  }

  /**
   * One request at a time: spans wait in the bounded queue, never in a growing chain of requests, so a slow
   * collector costs at most {@link MAX_QUEUED} spans of memory.
   */
  #sendNext(): void {
    if (this.#busy || this.#closed || this.#queue.length === 0) return;
    this.#busy = true;
    this.#sending = this.#post(this.#queue.splice(0, BATCH), SEND_TIMEOUT_MS).finally(() => {
      this.#busy = false;
      if (this.#queue.length > 0) this.#sendSoon(this.#queue.length >= BATCH ? 0 : FLUSH_MS);
    });
  }

  async #post(spans: Span[], timeoutMs: number): Promise<void> {
    try {
      const response = await fetch(this.#config.endpoint, {
        method: "POST",
        headers: { "content-type": "application/json", ...this.#config.headers },
        body: JSON.stringify(this.#encode(spans)),
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body?.cancel();
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      if (this.#failing) this.#warn(`the trace collector at ${this.#config.endpoint} takes spans again`);
      this.#failing = false;
    } catch (error) {
      // Said once per outage, not per batch.
      if (!this.#failing) {
        this.#warn(
          `could not send ${spans.length} span(s) to ${this.#config.endpoint}: ` +
            `${error instanceof Error ? error.message : String(error)}; spans are dropped until it answers`,
        );
      }
      this.#failing = true;
    }
  }

  #encode(spans: Span[]) {
    const attributes = (values: Record<string, AttributeValue | undefined>) =>
      Object.entries(values).flatMap(([key, value]) =>
        value === undefined ? [] : [{ key, value: encodeValue(value) }],
      );
    return {
      resourceSpans: [
        {
          resource: {
            attributes: attributes({
              ...this.#config.resourceAttributes,
              "service.name": this.#config.serviceName,
              "service.version": this.#version,
            }),
          },
          scopeSpans: [
            {
              scope: { name: "gofer", version: this.#version },
              spans: spans.map((span) => ({
                traceId: span.traceId,
                spanId: span.spanId,
                ...(span.parentSpanId && { parentSpanId: span.parentSpanId }),
                name: span.name,
                kind: span.kind,
                startTimeUnixNano: nanos(span.startMs),
                endTimeUnixNano: nanos(Math.max(span.endMs, span.startMs)),
                attributes: attributes(span.attributes),
                events: (span.events ?? []).map((event) => ({
                  name: event.name,
                  timeUnixNano: nanos(event.timeMs),
                  attributes: attributes(event.attributes ?? {}),
                })),
                status: span.error !== undefined ? { code: 2, message: span.error } : { code: 1 },
              })),
            },
          ],
        },
      ],
    };
  }
}

const nanos = (ms: number): string => (BigInt(Math.round(ms * 1000)) * 1000n).toString();

function encodeValue(value: AttributeValue) {
  if (typeof value === "boolean") return { boolValue: value };
  if (typeof value === "number")
    return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  return { stringValue: value };
}
