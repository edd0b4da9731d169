/**
 * The slice of the Docker Engine API the chaos test reads, over the engine's socket (DOCKER_HOST when it names a
 * unix socket or tcp address, else /var/run/docker.sock). Deliberately not the server's own engine client: the
 * proof must not share code with what it checks.
 */
import { request } from "node:http";

export interface EngineEvent {
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  time: number;
  timeNano: number;
}

export interface EngineContainer {
  Id: string;
  State: string;
  Labels: Record<string, string>;
}

type Filters = Record<string, string[]>;

function target(): { socketPath: string } | { host: string; port: number } {
  const host = process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
  if (host.startsWith("unix://")) return { socketPath: host.slice("unix://".length) };
  const url = new URL(host.replace(/^tcp:/, "http:"));
  return { host: url.hostname, port: Number(url.port || 2375) };
}

function call(method: string, path: string, timeoutMs = 30_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ ...target(), method, path, timeout: timeoutMs }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        body += chunk;
      });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      response.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`docker ${method} ${path} took over ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

async function json<T>(method: string, path: string): Promise<T> {
  const { status, body } = await call(method, path);
  if (status < 200 || status >= 300) throw new Error(`docker ${method} ${path}: ${status} ${body.trim()}`);
  return JSON.parse(body) as T;
}

const query = (filters: Filters) => `filters=${encodeURIComponent(JSON.stringify(filters))}`;

export async function imageExists(image: string): Promise<boolean> {
  const { status } = await call("GET", `/images/${encodeURIComponent(image)}/json`);
  return status === 200;
}

/** Containers carrying `label` (`key=value`), stopped ones too. */
export function listContainers(label: string): Promise<EngineContainer[]> {
  return json("GET", `/containers/json?all=true&${query({ label: [label] })}`);
}

export async function removeContainer(id: string): Promise<void> {
  const { status, body } = await call("DELETE", `/containers/${id}?force=true&v=true`);
  if (status !== 204 && status !== 404) throw new Error(`docker rm ${id}: ${status} ${body.trim()}`);
}

/** A live subscription to the engine's events; see {@link watchEvents}. */
export interface EventWatch {
  events: EngineEvent[];
  /** Why the stream ended before `close()`, if it did: events after that moment were not seen. */
  broken(): string | undefined;
  close(): void;
}

/**
 * Subscribes to events matching `filters`, from `sinceSeconds` on and then live, and keeps every one. A replay
 * at the end would not do: the engine remembers only its last few hundred events, and a shared engine's other
 * users push ours out. Resolves once the engine has accepted the subscription.
 */
export function watchEvents(sinceSeconds: number, filters: Filters): Promise<EventWatch> {
  return new Promise((resolve, reject) => {
    const events: EngineEvent[] = [];
    let broken: string | undefined;
    let closed = false;
    const req = request(
      { ...target(), method: "GET", path: `/events?since=${sinceSeconds}&${query(filters)}` },
      (response) => {
        // The stream may stay quiet for long: only the wait for its answer is bounded.
        req.setTimeout(0);
        if (response.statusCode !== 200) {
          reject(new Error(`docker GET /events: ${response.statusCode}`));
          response.resume();
          return;
        }
        let pending = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          pending += chunk;
          const lines = pending.split("\n");
          pending = lines.pop() ?? "";
          for (const line of lines) if (line.trim() !== "") events.push(JSON.parse(line) as EngineEvent);
        });
        const ended = (why: string) => {
          if (!closed) broken ??= why;
        };
        response.on("end", () => ended("the engine ended the event stream"));
        response.on("error", (error) => ended(`the event stream failed: ${error.message}`));
        resolve({
          events,
          broken: () => broken,
          close() {
            closed = true;
            req.destroy();
          },
        });
      },
    );
    req.on("error", (error) => {
      if (!closed) broken ??= `the event stream failed: ${error.message}`;
      reject(error);
    });
    req.setTimeout(10_000, () => req.destroy(new Error("docker GET /events did not answer within 10 s")));
    req.end();
  });
}
