/** Small builders for pipeline configs and run helpers shared by the integration tests. */
import assert from "node:assert/strict";
import { BUSYBOX, type TestServer } from "./test-server.ts";

export interface TaskOptions {
  depends_on?: Record<string, string>;
  variables?: Record<string, string>;
  entrypoint?: string[] | null;
  image?: string;
  always_pull_newest_image?: boolean;
}

/** A busybox task running `script` with `sh -c`. */
export function shTask(id: string, script: string, options: TaskOptions = {}) {
  return {
    id,
    image: options.image ?? BUSYBOX,
    depends_on: options.depends_on ?? {},
    variables: options.variables ?? {},
    entrypoint: options.entrypoint ?? null,
    command: ["sh", "-c", script],
    inject_api_token: false,
    always_pull_newest_image: options.always_pull_newest_image ?? false,
  };
}

export function pipelineConfig(id: string, tasks: unknown[], parallelism = 0) {
  return { id, name: `Pipeline ${id}`, description: null, parallelism, tasks };
}

/** Registers and deploys a config; returns its version. */
export async function deployPipeline(
  server: TestServer,
  config: { id: string },
  namespace = "default",
): Promise<number> {
  const base = `/api/namespaces/${namespace}/pipelines/${config.id}`;
  const registered = await server.api("POST", `${base}/configs`, { config });
  assert.equal(registered.status, 201, registered.text);
  const version: number = registered.json.pipeline.config.version;
  const deployed = await server.api("POST", `${base}/configs/${version}`);
  assert.equal(deployed.status, 201, deployed.text);
  return version;
}

export async function startRun(
  server: TestServer,
  pipelineId: string,
  variables: Record<string, string> = {},
  namespace = "default",
): Promise<number> {
  const response = await server.api("POST", `/api/namespaces/${namespace}/pipelines/${pipelineId}/runs`, {
    variables,
  });
  assert.equal(response.status, 201, response.text);
  return response.json.run.run_id;
}

/** A run as the API serves it. */
export async function getRun(
  server: TestServer,
  pipelineId: string,
  runId: number,
  namespace = "default",
  // biome-ignore lint/suspicious/noExplicitAny: run JSON as served
): Promise<any> {
  const response = await server.api(
    "GET",
    `/api/namespaces/${namespace}/pipelines/${pipelineId}/runs/${runId}`,
  );
  assert.equal(response.status, 200, response.text);
  return response.json.run;
}

/** Waits (bounded) until the run is complete and returns it with its task executions keyed by task id. */
export async function waitForRun(
  server: TestServer,
  pipelineId: string,
  runId: number,
  timeoutMs = 60_000,
  namespace = "default",
  // biome-ignore lint/suspicious/noExplicitAny: run JSON as served
): Promise<{ run: any; tasks: Record<string, any> }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await getRun(server, pipelineId, runId, namespace);
    if (run.state === "complete") {
      const list = await server.api(
        "GET",
        `/api/namespaces/${namespace}/pipelines/${pipelineId}/runs/${runId}/tasks`,
      );
      const tasks = Object.fromEntries(
        // biome-ignore lint/suspicious/noExplicitAny: task JSON as served
        list.json.task_executions.map((execution: any) => [execution.task_id, execution]),
      );
      return { run, tasks };
    }
    if (Date.now() > deadline)
      throw new Error(`run ${runId} of ${pipelineId} did not complete in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits (bounded) until `predicate` holds for the task execution. */
export async function waitForTask(
  server: TestServer,
  pipelineId: string,
  runId: number,
  taskId: string,
  // biome-ignore lint/suspicious/noExplicitAny: task JSON as served
  predicate: (execution: any) => boolean,
  timeoutMs = 30_000,
  // biome-ignore lint/suspicious/noExplicitAny: task JSON as served
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await server.api(
      "GET",
      `/api/namespaces/default/pipelines/${pipelineId}/runs/${runId}/tasks/${taskId}`,
    );
    if (response.status === 200 && predicate(response.json.task_execution))
      return response.json.task_execution;
    if (Date.now() > deadline)
      throw new Error(`task ${taskId} of run ${runId} did not reach the expected state`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A task's stored log as lines, without their "\n". */
export async function taskLogLines(
  server: TestServer,
  pipelineId: string,
  runId: number,
  taskId: string,
): Promise<string[]> {
  const response = await server.api(
    "GET",
    `/api/namespaces/default/pipelines/${pipelineId}/runs/${runId}/tasks/${taskId}/logs`,
  );
  assert.equal(response.status, 200, response.text);
  return response.text === "" ? [] : response.text.replace(/\n$/, "").split("\n");
}

/** Waits (bounded) until the task's log holds at least `count` lines. */
export async function waitForLogLines(
  server: TestServer,
  pipelineId: string,
  runId: number,
  taskId: string,
  count: number,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await taskLogLines(server, pipelineId, runId, taskId)).length < count) {
    if (Date.now() > deadline) throw new Error(`task ${taskId} printed fewer than ${count} lines in time`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
