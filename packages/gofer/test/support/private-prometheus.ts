/**
 * A private Prometheus for one test: Debian's `prometheus` binary (installed by scripts/install.sh), its config and
 * its data in a fresh temp folder, listening on a free loopback port, scraping the targets it is given every
 * second. `stop()` ends it by its PID and removes the folder; an exit hook does the same if the test dies first.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.ts";

export interface PrivatePrometheus {
  readonly url: string;
  /** Runs an instant query through Prometheus' HTTP API; answers its `data.result`. */
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  stop(): Promise<void>;
}

export interface ScrapeTarget {
  /** host:port of the server. */
  address: string;
  /** Bearer token for the scrape, when /metrics needs one. */
  token?: string;
}

export async function startPrivatePrometheus(target: ScrapeTarget): Promise<PrivatePrometheus> {
  const folder = mkdtempSync(join(tmpdir(), "gofer-prometheus-"));
  const port = await freePort();
  const config = [
    "global:",
    "  scrape_interval: 1s",
    "  scrape_timeout: 1s",
    "scrape_configs:",
    "  - job_name: gofer",
    "    metrics_path: /metrics",
    ...(target.token ? ["    authorization:", `      credentials: ${target.token}`] : []),
    "    static_configs:",
    `      - targets: ["${target.address}"]`,
    "",
  ].join("\n");
  writeFileSync(join(folder, "prometheus.yml"), config);
  const child: ChildProcess = spawn(
    "prometheus",
    [
      `--config.file=${join(folder, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(folder, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let output = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    process.off("exit", kill);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(folder, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited at start (run scripts/install.sh if it is missing): ${output}`);
    }
    const ready = await fetch(`${url}/-/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus was not ready within 20 s: ${output}`);
    }
    await new Promise((wake) => setTimeout(wake, 100));
  }
  return {
    url,
    async query(promql) {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await response.json()) as {
        status: string;
        data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
        error?: string;
      };
      if (body.status !== "success") throw new Error(`prometheus query ${promql} failed: ${body.error}`);
      return body.data?.result ?? [];
    },
    stop,
  };
}
