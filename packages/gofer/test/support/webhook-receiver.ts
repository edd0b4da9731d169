/**
 * A webhook receiver on 127.0.0.1 for notification tests: records every request, answers as the test says, and
 * checks Gofer's signature the way a receiver's own code would, from the documented scheme alone (HMAC-SHA256 of
 * `<X-Gofer-Timestamp>.<body>`, compared in constant time, a timestamp at most five minutes old).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  path: string;
  at: number;
}

/** What to answer the n-th request (from 0): a status and body, or `hang` to never answer. */
export type Answer = { status: number; body?: string } | "hang";

export interface Receiver {
  /** The base URL, e.g. `http://127.0.0.1:40123`; add any path. */
  url: string;
  received: Received[];
  /** Changes the answers from now on. */
  answer(next: (index: number) => Answer): void;
  /** Waits (bounded) until at least `count` requests arrived. */
  waitForRequests(count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(
  answer: (index: number) => Answer = () => ({ status: 200 }),
): Promise<Receiver> {
  const received: Received[] = [];
  let answers = answer;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const index = received.length;
      received.push({
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        path: request.url ?? "",
        at: Date.now(),
      });
      const next = answers(index);
      if (next === "hang") return;
      response.writeHead(next.status, { "content-type": "text/plain" }).end(next.body ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    answer(next) {
      answers = next;
    },
    async waitForRequests(count, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) {
          throw new Error(`the receiver got ${received.length} request(s), not ${count}, in ${timeoutMs} ms`);
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return received.slice(0, count);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What a receiver checks before it trusts a delivery. */
export function verifySignature(
  secret: string,
  request: Pick<Received, "headers" | "body">,
  now = Date.now(),
): { ok: true } | { ok: false; why: string } {
  const timestamp = request.headers["x-gofer-timestamp"];
  const signature = request.headers["x-gofer-signature-256"];
  if (typeof timestamp !== "string" || !/^\d+$/.test(timestamp)) return { ok: false, why: "no timestamp" };
  if (typeof signature !== "string" || !signature.startsWith("sha256="))
    return { ok: false, why: "no signature" };
  if (Math.abs(now / 1000 - Number(timestamp)) > 300) return { ok: false, why: "timestamp too old" };
  const expected = createHmac("sha256", secret).update(`${timestamp}.${request.body}`).digest();
  const given = Buffer.from(signature.slice("sha256=".length), "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, why: "signature does not match" };
  }
  return { ok: true };
}
