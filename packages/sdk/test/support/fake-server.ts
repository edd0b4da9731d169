/**
 * A stand-in for the Gofer server on a free local port: records every request with its body and answers with
 * the next canned response, or with whatever handler a test installs.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** The body decoded as UTF-8. */
  body: string;
  /** The body exactly as it arrived. */
  bytes: Buffer;
}

export interface CannedResponse {
  status: number;
  /** Sent as is when a string, as JSON otherwise; no body when undefined. */
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (request: RecordedRequest, response: ServerResponse) => void;

/** Starts `server` on a free port of 127.0.0.1 and returns its base URL. */
export async function listenLocally(server: Server): Promise<string> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Stops `server`, dropping the connections a client still holds open. */
export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

/** The URL of a local port that was free a moment ago and has nothing listening on it now. */
export async function refusingUrl(): Promise<string> {
  const probe = createServer();
  const url = await listenLocally(probe);
  await closeServer(probe);
  return url;
}

/** Writes `canned` to `response`. */
export function sendCanned(response: ServerResponse, canned: CannedResponse): void {
  const { status, body, headers = {} } = canned;
  if (body === undefined) {
    response.writeHead(status, headers).end();
    return;
  }
  const text = typeof body === "string" ? body : JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", ...headers }).end(text);
}

export class FakeServer {
  readonly requests: RecordedRequest[] = [];
  /** What the default handler answers. */
  next: CannedResponse = { status: 204 };
  handler: Handler = (_request, response) => sendCanned(response, this.next);
  /** When set, answers before the body is read and records nothing, as the real server refuses early. */
  early: ((request: IncomingMessage, response: ServerResponse) => void) | undefined;
  // A client that gives up mid-upload aborts the request; that is the client's failure to test, not the server's.
  #server = createServer((request, response) => void this.#answer(request, response).catch(() => undefined));

  /** Returns the base URL. */
  start(): Promise<string> {
    return listenLocally(this.#server);
  }

  stop(): Promise<void> {
    return closeServer(this.#server);
  }

  get last(): RecordedRequest {
    const request = this.requests.at(-1);
    assert.ok(request, "no request reached the server");
    return request;
  }

  async #answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (this.early) {
      this.early(request, response);
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    const recorded = {
      method: request.method ?? "",
      url: request.url ?? "",
      headers: request.headers,
      body: bytes.toString("utf8"),
      bytes,
    };
    this.requests.push(recorded);
    this.handler(recorded, response);
  }
}
