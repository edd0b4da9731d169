/**
 * Produces the OpenAPI document from the route schemas, without a database file, an engine or a port, so the
 * committed `openapi.json` can be regenerated and diffed anywhere.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EventBus } from "../events/event-bus.ts";
import { LogStore } from "../logs/log-store.ts";
import { Orchestrator } from "../orchestrator/orchestrator.ts";
import { DockerScheduler } from "../scheduler/docker/docker-scheduler.ts";
import { openDatabase } from "../storage/database.ts";
import { VERSION } from "../version.ts";
import { buildServer } from "./server.ts";

export async function generateOpenApiDocument(): Promise<unknown> {
  const db = await openDatabase(":memory:");
  const bus = new EventBus(db);
  const logs = new LogStore(join(tmpdir(), "gofer-openapi-logs"));
  const orchestrator = new Orchestrator({
    db,
    bus,
    logs,
    scheduler: new DockerScheduler({ networkMode: "none" }),
    limits: { perPipelineDefault: 1, global: 1 },
    stopTimeoutMs: 0,
    apiBaseUrl: () => "",
    instanceId: "openapi",
  });
  const app = await buildServer({
    db,
    bus,
    logs,
    orchestrator,
    version: VERSION,
    stopTimeoutMs: 0,
    bypassAuth: false,
    bodyLimit: 1024,
    logger: false,
  });
  try {
    await app.ready();
    return app.swagger();
  } finally {
    await app.close();
    await db.destroy();
  }
}

export const OPENAPI_PATH = new URL("../../openapi.json", import.meta.url);

export const serializeDocument = (document: unknown): string => `${JSON.stringify(document, null, 2)}\n`;
