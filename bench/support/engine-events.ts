/**
 * The engine's own record of what happened to containers (`GET /events`): when each was created, started, died and
 * destroyed, by the engine's clock. The same record for Gofer's containers and a baseline's, so a benchmark can
 * say where the time of a run went without instrumenting either.
 */
import http from "node:http";
import { engine } from "./engine-direct.ts";

export interface ContainerEvent {
  action: string;
  id: string;
  name: string;
  labels: Record<string, string>;
  /** Epoch milliseconds, fractional. */
  at: number;
}

export interface EngineEventLog {
  ready: Promise<void>;
  /** Every container event since the log opened, in the engine's order. */
  readonly events: ContainerEvent[];
  close(): void;
}

/** Attributes the engine puts beside a container's labels in an event. */
const NOT_LABELS = new Set(["name", "image", "exitCode", "execDuration", "signal"]);

export function recordContainerEvents(): EngineEventLog {
  const events: ContainerEvent[] = [];
  const filters = encodeURIComponent(JSON.stringify({ type: ["container"] }));
  const address = engine.host.startsWith("unix://")
    ? { socketPath: engine.host.slice("unix://".length) }
    : (() => {
        const url = new URL(`http://${engine.host.slice("tcp://".length)}`);
        return { host: url.hostname, port: Number(url.port || 2375) };
      })();
  let request: http.ClientRequest | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    request = http.get({ ...address, path: `/events?filters=${filters}` }, (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`GET /events answered ${response.statusCode}`));
        return;
      }
      resolve();
      response.setEncoding("utf8");
      let pending = "";
      response.on("data", (text: string) => {
        pending += text;
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) if (line.trim() !== "") events.push(toEvent(JSON.parse(line)));
      });
      response.on("error", () => undefined);
    });
    request.on("error", (error) => {
      if (!request?.destroyed) reject(error);
    });
  });
  return { ready, events, close: () => request?.destroy() };
}

function toEvent(message: {
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
  timeNano: number;
}): ContainerEvent {
  const attributes = message.Actor.Attributes ?? {};
  const labels = Object.fromEntries(Object.entries(attributes).filter(([key]) => !NOT_LABELS.has(key)));
  return {
    // "exec_start: sh" and the like carry their command after the action.
    action: message.Action.split(":")[0] ?? message.Action,
    id: message.Actor.ID,
    name: attributes.name ?? "",
    labels,
    at: message.timeNano / 1e6,
  };
}
