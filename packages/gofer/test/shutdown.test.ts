/**
 * SIGTERM on the real `gofer service start` process: it exits cleanly within `server.shutdown_timeout` even
 * with a client following a running task's log, leaves the task's container running, and the next start
 * finishes the run with every line of its log once.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, it } from "node:test";
import { ServerProcess } from "../../../scripts/chaos/server-process.ts";
import { EngineClient } from "../src/scheduler/docker/engine-client.ts";
import { freePort } from "./support/free-port.ts";
import { BUSYBOX } from "./support/test-server.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
const engine = new EngineClient({ host: process.env.DOCKER_HOST || undefined });
const pipelineId = `sigterm-${randomBytes(4).toString("hex")}`;
const LINES = 40;

let server: ServerProcess | undefined;
let dataDir = "";
after(async () => {
  await server?.terminate(20_000);
  const left = await engine.listContainers({ all: true, labels: { "gofer.pipeline": pipelineId } });
  for (const container of left) await engine.removeContainer(container.Id, { force: true, volumes: true });
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

it("SIGTERM exits cleanly in time, leaves the task running, and the next start finishes the run", {
  timeout: 120_000,
}, async () => {
  dataDir = await mkdtemp(join(tmpdir(), "gofer-sigterm-"));
  server = new ServerProcess({
    root: ROOT,
    dataDir,
    port: await freePort(),
    settings: { GOFER_WEB_SERVER__SHUTDOWN_TIMEOUT: "9" },
  });
  server.start();
  await server.waitUntilUp(30_000);
  const url = server.url;
  const bootstrap = await fetch(`${url}/api/tokens/bootstrap`, {
    method: "POST",
    headers: { "gofer-api-version": "v0" },
  });
  const token: string = ((await bootstrap.json()) as { secret: string }).secret;
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        "gofer-api-version": "v0",
        authorization: `Bearer ${token}`,
        ...(body !== undefined && { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const json = response.headers.get("content-type")?.includes("json") ? JSON.parse(text) : undefined;
    return { status: response.status, text, json };
  };
  const base = `/api/namespaces/default/pipelines/${pipelineId}`;
  const config = {
    id: pipelineId,
    name: "SIGTERM",
    description: null,
    parallelism: 0,
    tasks: [
      {
        id: "count",
        image: BUSYBOX,
        depends_on: {},
        variables: {},
        entrypoint: null,
        command: [
          "sh",
          "-c",
          `i=1; while [ $i -le ${LINES} ]; do echo "line $i"; i=$((i+1)); sleep 0.1; done`,
        ],
        inject_api_token: false,
        always_pull_newest_image: false,
      },
    ],
  };
  const registered = await api("POST", `${base}/configs`, { config });
  assert.equal(registered.status, 201, registered.text);
  assert.equal((await api("POST", `${base}/configs/1`)).status, 201);
  const started = await api("POST", `${base}/runs`, { variables: {} });
  assert.equal(started.status, 201, started.text);
  const runId: number = started.json.run.run_id;
  const logPath = `${base}/runs/${runId}/tasks/count/logs`;
  const lines = async () => {
    const response = await api("GET", logPath);
    return response.text === "" ? [] : response.text.replace(/\n$/, "").split("\n");
  };
  const deadline = Date.now() + 30_000;
  while ((await lines()).length < 3) {
    assert.ok(Date.now() < deadline, "the task printed nothing in time");
    await new Promise((wake) => setTimeout(wake, 50));
  }

  // A client following the running task's log must not hold the shutdown up.
  const follower = await fetch(`${url}${logPath}?follow=true`, {
    headers: { "gofer-api-version": "v0", authorization: `Bearer ${token}` },
  });
  assert.equal(follower.status, 200);
  const followed = follower.text().catch((error: unknown) => `cut: ${String(error)}`);

  const stopped = await server.terminate(20_000);
  assert.equal(stopped.exit, "code 0", `shutdown: ${stopped.exit}\n${server.logTail(40)}`);
  assert.ok(stopped.ms < 9_000, `shutdown took ${stopped.ms} ms, over server.shutdown_timeout`);
  await followed;
  const [container] = await engine.listContainers({ all: true, labels: { "gofer.pipeline": pipelineId } });
  assert.equal(container?.State, "running", "the task's container keeps running after the shutdown");

  server.start();
  await server.waitUntilUp(30_000);
  for (;;) {
    const run = (await api("GET", `${base}/runs/${runId}`)).json.run;
    if (run.state === "complete") {
      assert.equal(run.status, "successful", JSON.stringify(run.status_reason));
      break;
    }
    assert.ok(Date.now() < deadline + 30_000, "the run did not finish after the restart");
    await new Promise((wake) => setTimeout(wake, 100));
  }
  assert.deepEqual(
    await lines(),
    Array.from({ length: LINES }, (_, index) => `line ${index + 1}`),
  );
});
