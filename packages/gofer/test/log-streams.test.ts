/**
 * A log over a WebSocket, one text frame a line, with the frames built by the server itself: every length
 * encoding, invalid UTF-8, and the WebSocket's own frames (pongs, the close) between the log's, checked by a
 * real `ws` client.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { test } from "node:test";
import WebSocket, { WebSocketServer } from "ws";
import { streamToSocket, textFrames } from "../src/api/log-streams.ts";

/** Lines of every header size: 7-bit, 16-bit and 64-bit lengths and their edges, and an empty line. */
const LINES = [0, 1, 125, 126, 127, 65_535, 65_536, 70_000].map((length, index) =>
  String.fromCharCode(97 + index).repeat(length),
);

const blockOf = (lines: string[]) => Buffer.from(lines.map((line) => `${line}\n`).join(""));

/** Reads the unmasked, unfragmented text frames a server sends. */
function parseFrames(frames: Buffer): string[] {
  const lines: string[] = [];
  for (let at = 0; at < frames.length; ) {
    assert.equal(frames[at], 0x81, "FIN and the text opcode");
    let length = frames[at + 1] as number;
    assert.equal(length & 0x80, 0, "a server's frames are not masked");
    at += 2;
    if (length === 126) {
      length = frames.readUInt16BE(at);
      at += 2;
    } else if (length === 127) {
      length = Number(frames.readBigUInt64BE(at));
      at += 8;
    }
    lines.push(frames.toString("utf8", at, at + length));
    at += length;
  }
  return lines;
}

test("textFrames makes one text frame a line, with the shortest length encoding", () => {
  const frames = textFrames(blockOf(LINES));
  assert.deepEqual(parseFrames(frames), LINES);
  const headers = LINES.reduce(
    (sum, line) => sum + (line.length < 126 ? 2 : line.length < 65_536 ? 4 : 10),
    0,
  );
  assert.equal(frames.length, headers + LINES.reduce((sum, line) => sum + line.length, 0));
  assert.equal(textFrames(Buffer.alloc(0)).length, 0);
});

test("textFrames sends invalid UTF-8 as replacement characters, line for line", () => {
  const block = Buffer.concat([Buffer.from("ok\nbad "), Buffer.from([0xff, 0xc3]), Buffer.from("\nend\n")]);
  assert.deepEqual(parseFrames(textFrames(block)), ["ok", "bad \ufffd\ufffd", "end"]);
});

test("textFrames refuses a block that does not end with a whole line", () => {
  assert.throws(() => textFrames(Buffer.from("whole\nhalf")), /whole line/);
});

/** Serves `blocks` with `streamToSocket` to a `ws` client that pings now and then; what the client saw. */
async function receive(
  blocks: Buffer[],
): Promise<{ lines: string[]; code: number; reason: string; pongs: number }> {
  const http = createServer();
  const sockets = new WebSocketServer({ server: http });
  sockets.on("connection", (socket, request) => {
    const abort = new AbortController();
    socket.on("close", () => abort.abort());
    async function* slowly() {
      for (const block of blocks) {
        yield block;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    void streamToSocket(socket, slowly(), abort.signal, request.socket as Socket);
  });
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  try {
    const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
    const lines: string[] = [];
    let pongs = 0;
    client.on("message", (data, isBinary) => {
      assert.equal(isBinary, false);
      lines.push(String(data));
      if (lines.length % 50 === 0) client.ping();
    });
    client.on("pong", () => {
      pongs++;
    });
    const [code, reason] = (await once(client, "close")) as [number, Buffer];
    return { lines, code, reason: String(reason), pongs };
  } finally {
    sockets.close();
    http.close();
  }
}

test("a ws client receives every line as one text frame, pongs in between, then a normal close", async () => {
  const lines = (index: number) => LINES.map((line) => `${index} ${line}`);
  const received = await receive(Array.from({ length: 50 }, (_, index) => blockOf(lines(index))));
  assert.equal(received.code, 1000);
  assert.equal(received.reason, "out of events");
  assert.deepEqual(received.lines, Array.from({ length: 50 }, (_, index) => lines(index)).flat());
  assert.ok(received.pongs > 0, "the server's pongs went out between the log's frames");
});

test("blocks larger than a slice go out whole, many lines and one long line alike", async () => {
  const many = Array.from({ length: 5000 }, (_, index) => `${index} ${"m".repeat(100)}`);
  const long = "l".repeat(600_000);
  const received = await receive([blockOf(many), blockOf(["before", long, "after"]), blockOf(many)]);
  assert.equal(received.code, 1000);
  assert.deepEqual(received.lines, [...many, "before", long, "after", ...many]);
});
