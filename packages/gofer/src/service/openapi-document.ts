/**
 * Produces the OpenAPI document from the route schemas, without a database file, an engine or a port, so the
 * committed `openapi.json` can be regenerated and diffed anywhere.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../config/index.ts";
import { DockerScheduler } from "../scheduler/docker/docker-scheduler.ts";
import { openDatabase } from "../storage/database.ts";
import { assemble } from "./assemble.ts";

export async function generateOpenApiDocument(): Promise<unknown> {
  const dataDir = mkdtempSync(join(tmpdir(), "gofer-openapi-"));
  // Built-in defaults only: neither the machine's config file nor its environment may change the contract.
  const config = loadConfig({
    env: { GOFER_WEB_SERVER__DATA_DIR: dataDir, GOFER_WEB_API__LOG_LEVEL: "silent" },
    systemConfigPath: join(dataDir, "absent.toml"),
  });
  const db = await openDatabase(":memory:");
  const { app } = await assemble(config, db, {
    scheduler: new DockerScheduler({ networkMode: "none" }),
    instanceId: "openapi",
    apiBaseUrl: () => "",
  });
  try {
    await app.ready();
    return app.swagger();
  } finally {
    await app.close();
    await db.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export const OPENAPI_PATH = new URL("../../openapi.json", import.meta.url);

export const serializeDocument = (document: unknown): string => `${JSON.stringify(document, null, 2)}\n`;
