/**
 * The slice of Gofer's API the github extension uses, on a free port of 127.0.0.1: starting runs, reading a
 * run, the event stream (a WebSocket, written out here with node:http's upgrade and node:crypto, since the
 * extension's own tests need no WebSocket package) and the extension's objects. Runs end when a test says so.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { closeServer, listenLocally } from "../../../../packages/sdk/test/support/fake-server.ts";

export interface StartedRun {
  namespaceId: string;
  pipelineId: string;
  runId: number;
  variables: Record<string, string>;
}

type RunStatus = "unknown" | "failed" | "successful" | "cancelled";

interface RunRecord extends StartedRun {
  state: "running" | "complete";
  status: RunStatus;
  started: number;
  ended: number;
}

const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

export class FakeGofer {
  readonly started: StartedRun[] = [];
  readonly objects = new Map<string, Uint8Array>();
  /** Object writes and deletes, in order: `put <key>` / `delete <key>`. */
  readonly objectLog: string[] = [];
  /** While true, the event stream's upgrade is refused, as by a proxy that does not forward WebSockets. */
  refuseEvents = false;
  /** Runs start already complete with this status (a run that ends before anyone looks). */
  completeOnStart: RunStatus | undefined;
  /** How many times the event stream was opened. */
  streamsOpened = 0;
  readonly #token: string;
  readonly #runs = new Map<string, RunRecord>();
  readonly #sockets = new Set<Duplex>();
  #nextRunId = 1;
  #nextEventId = 1;
  #server = createServer((request, response) => void this.#answer(request, response));

  constructor(token: string) {
    this.#token = token;
    this.#server.on("upgrade", (request, socket) => this.#upgrade(request, socket));
  }

  start(): Promise<string> {
    return listenLocally(this.#server);
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await closeServer(this.#server);
  }

  /** Event streams open now. */
  get openStreams(): number {
    return this.#sockets.size;
  }

  /** Ends a run; with `announce` (the default) a completed_run event goes to every open stream. */
  completeRun(run: StartedRun, status: RunStatus, announce = true): void {
    const record = this.#runs.get(runKey(run));
    if (!record) throw new Error(`no run ${runKey(run)}`);
    Object.assign(record, { state: "complete", status, ended: record.started + 65_000 });
    if (announce) {
      this.#broadcast({
        completed_run: {
          namespace_id: run.namespaceId,
          pipeline_id: run.pipelineId,
          run_id: run.runId,
          status,
        },
      });
    }
  }

  /** A run that exists without having been started through the API, e.g. before the extension restarted. */
  addRun(run: StartedRun, status?: RunStatus): void {
    this.#runs.set(runKey(run), {
      ...run,
      state: status === undefined ? "running" : "complete",
      status: status ?? "unknown",
      started: Date.now(),
      ended: status === undefined ? 0 : Date.now() + 3_000,
    });
  }

  deleteRun(run: StartedRun): void {
    this.#runs.delete(runKey(run));
  }

  #broadcast(kind: Record<string, unknown>): void {
    const event = JSON.stringify({ id: String(this.#nextEventId++), kind, emitted: Date.now() });
    for (const socket of this.#sockets) socket.write(frame(0x1, Buffer.from(event)));
  }

  #upgrade(request: IncomingMessage, socket: Duplex): void {
    const key = request.headers["sec-websocket-key"];
    const authorized = request.headers.authorization === `Bearer ${this.#token}`;
    if (this.refuseEvents || request.url?.split("?")[0] !== "/api/events" || !key || !authorized) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const accept = createHash("sha1")
      .update(key + WEBSOCKET_GUID)
      .digest("base64");
    socket.write(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    this.streamsOpened += 1;
    this.#sockets.add(socket);
    socket.on("data", (data: Buffer) => {
      // A close frame from the client (opcode 8): answer it and hang up, as the protocol asks.
      if (((data[0] ?? 0) & 0x0f) === 0x8) {
        socket.end(frame(0x8, Buffer.from([0x03, 0xe8])));
        this.#sockets.delete(socket);
      }
    });
    socket.on("close", () => this.#sockets.delete(socket));
    socket.on("error", () => this.#sockets.delete(socket));
  }

  async #answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(request.url ?? "/", "http://gofer");
    const method = request.method ?? "";
    const json = (status: number, value: unknown): void => {
      response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
    };
    const notFound = (message: string) => json(404, { message, request_id: "fake", error_code: "NOT_FOUND" });
    if (request.headers.authorization !== `Bearer ${this.#token}`) {
      return json(401, { message: "unknown token", request_id: "fake", error_code: "UNAUTHENTICATED" });
    }

    const runs = /^\/api\/namespaces\/([^/]+)\/pipelines\/([^/]+)\/runs(?:\/(\d+))?$/.exec(url.pathname);
    if (runs) {
      const [, namespaceId = "", pipelineId = "", idText] = runs;
      if (method === "POST" && idText === undefined) {
        const { variables = {} } = JSON.parse(body.toString("utf8") || "{}") as {
          variables?: Record<string, string>;
        };
        const run: StartedRun = { namespaceId, pipelineId, runId: this.#nextRunId++, variables };
        this.started.push(run);
        this.addRun(run, this.completeOnStart);
        return json(201, { run: runJson(this.#runs.get(runKey(run)) as RunRecord) });
      }
      if (method === "GET" && idText !== undefined) {
        const record = this.#runs.get(runKey({ namespaceId, pipelineId, runId: Number(idText) }));
        return record ? json(200, { run: runJson(record) }) : notFound("no such run");
      }
    }

    const objects = /^\/api\/extensions\/([^/]+)\/objects(?:\/([^/]+))?$/.exec(url.pathname);
    if (objects) {
      const key = objects[2] === undefined ? undefined : decodeURIComponent(objects[2]);
      if (method === "GET" && key === undefined) {
        return json(200, { objects: [...this.objects.keys()].map((name) => ({ key: name, created: 1 })) });
      }
      if (key !== undefined && method === "GET") {
        const value = this.objects.get(key);
        if (!value) return notFound("no such object");
        response.writeHead(200, { "content-type": "application/octet-stream" }).end(value);
        return;
      }
      if (key !== undefined && method === "POST") {
        this.objects.set(key, new Uint8Array(body));
        this.objectLog.push(`put ${key}`);
        return json(201, { object: { key, created: Date.now() } });
      }
      if (key !== undefined && method === "DELETE") {
        if (!this.objects.delete(key)) return notFound("no such object");
        this.objectLog.push(`delete ${key}`);
        response.writeHead(204).end();
        return;
      }
    }
    if (url.pathname === "/api/events") return notFound("no event stream here");
    notFound(`no route ${method} ${url.pathname}`);
  }
}

const runKey = (run: Pick<StartedRun, "namespaceId" | "pipelineId" | "runId">) =>
  `${run.namespaceId}/${run.pipelineId}/${run.runId}`;

function runJson(run: RunRecord) {
  return {
    namespace_id: run.namespaceId,
    pipeline_id: run.pipelineId,
    pipeline_config_version: 1,
    run_id: run.runId,
    started: run.started,
    ended: run.ended,
    state: run.state,
    status: run.status,
    status_reason: null,
    initiator: { id: "token", user: "github (extension)" },
    variables: Object.entries(run.variables).map(([key, value]) => ({ key, value, source: "run_options" })),
    token_id: null,
    store_objects_expired: false,
    event_id: null,
  };
}

/** One unmasked WebSocket frame, as a server sends them. */
function frame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  let header: Buffer;
  if (length < 126) {
    header = Buffer.from([0x80 | opcode, length]);
  } else if (length < 65_536) {
    header = Buffer.alloc(4);
    header[0] = 0x80 | opcode;
    header[1] = 126;
    header.writeUInt16BE(length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  return Buffer.concat([header, payload]);
}
