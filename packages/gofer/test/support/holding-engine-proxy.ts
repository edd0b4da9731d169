/**
 * A pass-through to the real Docker engine on a unix socket of its own, which holds chosen calls open instead of
 * forwarding them: a stand-in for a slow registry pull without any registry. Upgraded connections (attach) are
 * relayed byte for byte.
 */
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface HoldingEngineProxy {
  /** `unix://…`: what `scheduler.docker.host` takes. */
  readonly host: string;
  /** Calls held so far, and how many of them the caller has since abandoned. */
  readonly held: { total: number; abandoned: number };
  close(): Promise<void>;
}

const engineSocket = (): string => {
  const host = process.env.DOCKER_HOST ?? "";
  return host.startsWith("unix://") ? host.slice("unix://".length) : "/var/run/docker.sock";
};

/** Holds every request for which `hold(method, path)` is true; forwards the rest. */
export async function startHoldingEngineProxy(
  hold: (method: string, path: string) => boolean,
): Promise<HoldingEngineProxy> {
  const dir = await mkdtemp(join(tmpdir(), "gofer-engine-proxy-"));
  const socketPath = join(dir, "engine.sock");
  const upstream = engineSocket();
  const held = { total: 0, abandoned: 0 };
  const open = new Set<net.Socket>();
  const server = http.createServer((request, response) => {
    if (hold(request.method ?? "", request.url ?? "")) {
      held.total++;
      response.on("close", () => held.abandoned++);
      return;
    }
    const forwarded = http.request(
      { socketPath: upstream, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    forwarded.on("error", () => response.destroy());
    response.on("close", () => forwarded.destroy());
    request.pipe(forwarded);
  });
  server.on("connection", (socket) => {
    open.add(socket);
    socket.on("close", () => open.delete(socket));
  });
  server.on("upgrade", (request, socket, head) => {
    const engine = net.connect(upstream, () => {
      const headers = [];
      for (let i = 0; i < request.rawHeaders.length; i += 2)
        headers.push(`${request.rawHeaders[i]}: ${request.rawHeaders[i + 1]}`);
      engine.write(`${request.method} ${request.url} HTTP/1.1\r\n${headers.join("\r\n")}\r\n\r\n`);
      engine.write(head);
      socket.pipe(engine);
      engine.pipe(socket);
    });
    engine.on("error", () => socket.destroy());
    socket.on("error", () => engine.destroy());
    socket.on("close", () => engine.destroy());
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    host: `unix://${socketPath}`,
    held,
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
