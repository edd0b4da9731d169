/**
 * Prometheus metrics on a real server: /metrics needs an admin token unless public, the exposition passes
 * `promtool check metrics`, a DAG run on the real engine moves the run, task, engine, log and HTTP series, no
 * label names a run or a task, and a private Prometheus (Debian's) scraping the server with a token finds the
 * series through its own query API.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { deployPipeline, pipelineConfig, shTask, startRun, waitForRun } from "./support/pipelines.ts";
import { type PrivatePrometheus, startPrivatePrometheus } from "./support/private-prometheus.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const DASHBOARD = new URL("../../../dashboards/grafana-gofer.json", import.meta.url);

describe("Prometheus metrics", { timeout: 180_000 }, () => {
  let server: TestServer | undefined;
  let prometheus: PrivatePrometheus | undefined;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await prometheus?.stop();
    await server?.stop();
  });

  const scrape = async (headers: Record<string, string> = {}) => {
    const response = await fetch(`${(server as TestServer).url}/metrics`, { headers });
    return {
      status: response.status,
      type: response.headers.get("content-type"),
      text: await response.text(),
    };
  };
  const sample = (text: string, name: string, labels: Record<string, string> = {}): number => {
    let total = 0;
    for (const line of text.split("\n")) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (!Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) continue;
      total += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
    return total;
  };

  it("needs an admin token, and counts a DAG run's runs, tasks, engine calls, log lines and requests", async () => {
    const s = server as TestServer;
    const refused = await scrape();
    assert.equal(refused.status, 401, refused.text);
    assert.equal(JSON.parse(refused.text).error_code, "UNAUTHENTICATED");

    await deployPipeline(
      s,
      pipelineConfig("metrics-dag", [
        shTask("first", "for i in 1 2 3 4 5; do echo line $i; done"),
        shTask("second", "echo two; exit 3", { depends_on: { first: "success" } }),
      ]),
    );
    const runId = await startRun(s, "metrics-dag");
    assert.equal((await waitForRun(s, "metrics-dag", runId)).run.status, "failed");

    const labels = { namespace: "default", pipeline: "metrics-dag" };
    // Durations are observed once the completion events' reads of the run come back: wait for the last one.
    let scraped = await scrape({ authorization: `Bearer ${s.token}` });
    for (
      const deadline = Date.now() + 5_000;
      sample(scraped.text, "gofer_run_duration_seconds_count", labels) === 0 && Date.now() < deadline;
    ) {
      await new Promise((wake) => setTimeout(wake, 100));
      scraped = await scrape({ authorization: `Bearer ${s.token}` });
    }
    const { status, type, text } = scraped;
    assert.equal(status, 200, text);
    assert.match(type ?? "", /^text\/plain; version=0\.0\.4/);
    assert.equal(sample(text, "gofer_runs_started_total", labels), 1);
    assert.equal(sample(text, "gofer_runs_finished_total", { ...labels, status: "failed" }), 1);
    assert.equal(sample(text, "gofer_task_duration_seconds_count", { ...labels, status: "successful" }), 1);
    assert.equal(sample(text, "gofer_task_duration_seconds_count", { ...labels, status: "failed" }), 1);
    assert.equal(sample(text, "gofer_run_duration_seconds_count", { ...labels, status: "failed" }), 1);
    assert.equal(sample(text, "gofer_run_queued_seconds_count", labels), 1);
    assert.ok(sample(text, "gofer_engine_call_seconds_count", { operation: "start" }) >= 2);
    assert.ok(sample(text, "gofer_log_lines_total") >= 6, "the five lines and 'two' were stored");
    assert.ok(sample(text, "gofer_log_bytes_total") >= 30);
    assert.ok(
      sample(text, "gofer_http_request_duration_seconds_count", {
        method: "POST",
        route: "/api/namespaces/:namespace_id/pipelines/:pipeline_id/runs",
        status: "201",
      }) >= 1,
    );
    assert.ok(sample(text, "gofer_db_transaction_seconds_count", { outcome: "committed" }) > 0);
    assert.equal(sample(text, "gofer_tasks_running"), 0);
    assert.equal(sample(text, "gofer_replica_leader"), 1);
    // Bounded labels: nothing names a run, a task or a concrete path.
    assert.doesNotMatch(text, /\b(run|run_id|task|task_id)="/);
    assert.doesNotMatch(text, new RegExp(`route="[^"]*/runs/${runId}`));

    const checked = await promtool(text);
    assert.equal(checked.code, 0, `promtool check metrics: ${checked.output}`);
  });

  it("is scraped by a real Prometheus with a token, which finds the series", async () => {
    const s = server as TestServer;
    prometheus = await startPrivatePrometheus({ address: new URL(s.url).host, token: s.token });
    const p = prometheus;
    const found = async (promql: string) => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const result = await p.query(promql);
        if (result.length > 0) return result;
        if (Date.now() > deadline) throw new Error(`Prometheus found nothing for ${promql} within 30 s`);
        await new Promise((wake) => setTimeout(wake, 500));
      }
    };
    const up = await found('up{job="gofer"} == 1');
    assert.equal(up.length, 1);
    const finished = await found('gofer_runs_finished_total{pipeline="metrics-dag",status="failed"}');
    assert.equal(finished[0]?.value[1], "1");
    const queued = await found("gofer_runs_queued or vector(0)");
    assert.ok(queued.length >= 1);
    const tasks = await found('sum by (status) (gofer_task_duration_seconds_count{pipeline="metrics-dag"})');
    assert.deepEqual(tasks.map((row) => row.metric.status).sort(), ["failed", "successful"]);

    // The Grafana dashboard in the repository: Prometheus accepts every query, each on metrics the server has.
    const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    const exposition = await (
      await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${s.token}` } })
    ).text();
    const served = new Set(
      [...exposition.matchAll(/^# TYPE (\w+) /gm)].flatMap(([, name]) =>
        name ? [name, `${name}_bucket`, `${name}_count`, `${name}_sum`] : [],
      ),
    );
    assert.ok(dashboard.panels.length >= 15);
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets) {
        for (const [name] of expr.matchAll(/\bgofer_\w+/g)) {
          assert.ok(served.has(name), `panel "${panel.title}" uses ${name}, which the server does not serve`);
        }
        await p.query(expr.replaceAll("$__rate_interval", "1m"));
      }
    }
  });

  it("serves /metrics without a token on a listener of its own when configured so", async () => {
    const separate = await startTestServer({
      GOFER_WEB_METRICS__BIND_ADDRESS: "127.0.0.1:0",
      GOFER_WEB_METRICS__PUBLIC: "true",
    });
    try {
      const metricsUrl = separate.service.metricsUrl;
      assert.ok(metricsUrl, "the metrics listener's address is known");
      const open = await fetch(`${metricsUrl}/metrics`);
      assert.equal(open.status, 200);
      assert.match(await open.text(), /gofer_runs_queued|gofer_tasks_running/);
      // The API listener's /metrics is then the web UI's page, not the exposition.
      const elsewhere = await fetch(`${separate.url}/metrics`);
      assert.doesNotMatch(await elsewhere.text(), /gofer_tasks_running/, "not also on the API listener");
      const other = await fetch(`${metricsUrl}/api/namespaces`);
      assert.equal(other.status, 404, "the metrics listener serves nothing else");
      await other.body?.cancel();
    } finally {
      await separate.stop();
    }
  });
});

function promtool(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("promtool", ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}
