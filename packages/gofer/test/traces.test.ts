/**
 * OpenTelemetry traces from a real server, with the standard OTEL_* variables pointing at an OTLP/HTTP receiver
 * started here on loopback, which decodes what arrives: a DAG run on the real engine makes one trace whose root is
 * the run, with a span per task attempt under it (a retried task has two), an engine span under each attempt,
 * and the `TRACEPARENT` a task was given names its own span. The run's events carry the trace id; an API request
 * sent with a `traceparent` joins that trace. Without the variables nothing is sent.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { pageEvents } from "../src/storage/events-store.ts";
import {
  deployPipeline,
  pipelineConfig,
  shTask,
  startRun,
  taskLogLines,
  waitForRun,
} from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
  status: { code: number; message?: string };
}

const attribute = (span: ReceivedSpan, key: string): unknown => {
  const value = span.attributes.find((entry) => entry.key === key)?.value;
  return value && Object.values(value)[0];
};

describe("OpenTelemetry traces", { timeout: 120_000 }, () => {
  let receiver: Server | undefined;
  let server: TestServer | undefined;
  const spans: ReceivedSpan[] = [];
  const resources: unknown[] = [];
  const contentTypes = new Set<string>();

  before(async () => {
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        contentTypes.add(String(request.headers["content-type"]));
        if (request.url !== "/v1/traces" || request.headers["x-test-header"] !== "yes") {
          response.writeHead(404).end();
          return;
        }
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
          resourceSpans: Array<{ resource: unknown; scopeSpans: Array<{ spans: ReceivedSpan[] }> }>;
        };
        for (const resourceSpans of body.resourceSpans) {
          resources.push(resourceSpans.resource);
          for (const scope of resourceSpans.scopeSpans) spans.push(...scope.spans);
        }
        response.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => receiver?.listen(0, "127.0.0.1", resolve));
    const port = (receiver.address() as AddressInfo).port;
    server = await startTestServer({
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_HEADERS: "x-test-header=yes",
      OTEL_SERVICE_NAME: "gofer-under-test",
    });
  });
  after(async () => {
    await server?.stop();
    receiver?.close();
  });

  it("makes one trace per run: the run, a span per task attempt under it, the engine's starts under those", async () => {
    const s = server as TestServer;
    await deployPipeline(
      s,
      pipelineConfig("traced", [
        shTask("build", 'echo "parent $TRACEPARENT"'),
        {
          ...shTask("flaky", '[ "$GOFER_TASK_ATTEMPT" -gt 1 ] || exit 9; echo ok', {
            depends_on: { build: "success" },
          }),
          retries: { limit: 1, delay: "100ms" },
        },
        shTask("fails", "exit 4", { depends_on: { build: "success" } }),
      ]),
    );
    const runId = await startRun(s, "traced");
    const { run } = await waitForRun(s, "traced", runId);
    assert.equal(run.status, "failed");

    const root = await waitForSpan((span) => span.name === `run traced#${runId}`);
    const trace = () => spans.filter((span) => span.traceId === root.traceId);
    await waitUntil(
      () => trace().filter((span) => span.name.startsWith("task ")).length === 4,
      "4 task spans",
    );
    assert.equal(root.parentSpanId, undefined, "the run is the root");
    assert.equal(attribute(root, "gofer.run.status"), "failed");
    assert.equal(root.status.code, 2);
    const tasks = trace().filter((span) => span.name.startsWith("task "));
    for (const task of tasks) assert.equal(task.parentSpanId, root.spanId, `${task.name} is under the run`);
    const flaky = tasks.filter((span) => span.name === "task flaky");
    assert.deepEqual(flaky.map((span) => attribute(span, "gofer.task.attempt")).sort(), ["1", "2"]);
    assert.deepEqual(
      flaky.map((span) => attribute(span, "gofer.task.exit_code")).sort(),
      ["0", "9"],
      "each attempt with its own exit code",
    );
    const fails = tasks.find((span) => span.name === "task fails");
    assert.equal(attribute(fails as ReceivedSpan, "gofer.task.exit_code"), "4");
    assert.equal(fails?.status.code, 2);

    // The engine's container starts: one per attempt that ran, each under its attempt's span.
    await waitUntil(
      () => trace().filter((span) => span.name === "engine start").length === 4,
      "4 engine spans",
    );
    const taskIds = new Set(tasks.map((span) => span.spanId));
    for (const engine of trace().filter((span) => span.name === "engine start")) {
      assert.ok(taskIds.has(engine.parentSpanId ?? ""), "an engine start belongs to a task attempt");
      assert.equal(engine.kind, 3);
    }

    // The task was told its own span.
    const build = tasks.find((span) => span.name === "task build") as ReceivedSpan;
    const lines = await taskLogLines(s, "traced", runId, "build");
    assert.deepEqual(lines, [`parent 00-${root.traceId}-${build.spanId}-01`]);

    // The run's events carry its trace id.
    const events = await pageEvents(s.service.db, { limit: 1000, reverse: false });
    const completed = events
      .map((event) => (event.kind as Record<string, { run_id?: number; trace_id?: string }>).completed_run)
      .find((details) => details?.run_id === runId);
    assert.equal(completed?.trace_id, root.traceId);

    // An API request that carries the task's trace context joins the run's trace.
    const joined = await s.api("GET", "/api/namespaces/default/pipelines/traced", undefined, {
      traceparent: `00-${root.traceId}-${build.spanId}-01`,
    });
    assert.equal(joined.status, 200);
    const request = await waitForSpan(
      (span) =>
        span.name === "GET /api/namespaces/:namespace_id/pipelines/:pipeline_id" &&
        span.traceId === root.traceId,
    );
    assert.equal(request.parentSpanId, build.spanId);
    assert.equal(request.kind, 2);
    assert.equal(attribute(request, "http.response.status_code"), "200");

    assert.deepEqual([...contentTypes], ["application/json"]);
    assert.match(JSON.stringify(resources[0]), /gofer-under-test/);
  });

  it("sends nothing and adds nothing to a run without the OTEL variables", async () => {
    const plain = await startTestServer();
    try {
      await deployPipeline(plain, pipelineConfig("untraced", [shTask("look", 'echo "[$TRACEPARENT]"')]));
      const runId = await startRun(plain, "untraced");
      await waitForRun(plain, "untraced", runId);
      assert.deepEqual(await taskLogLines(plain, "untraced", runId, "look"), ["[]"]);
      const events = await pageEvents(plain.service.db, { limit: 1000, reverse: false });
      assert.ok(events.every((event) => !JSON.stringify(event).includes("trace_id")));
    } finally {
      await plain.stop();
    }
  });

  async function waitForSpan(match: (span: ReceivedSpan) => boolean): Promise<ReceivedSpan> {
    await waitUntil(
      () => spans.some(match),
      `a span (got: ${spans.map((span) => span.name).join(", ")}; content types ${[...contentTypes].join(",")})`,
    );
    return spans.find(match) as ReceivedSpan;
  }
});

async function waitUntil(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((wake) => setTimeout(wake, 100));
  }
}
