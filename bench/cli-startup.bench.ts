/**
 * How long `gofer run list <pipeline>` takes from exec to exit, the CLI's everyday command. Target: under 300 ms
 * wall on a 2-core machine.
 *
 * Against a real server (in this process) with a pipeline of a few runs, alternating rounds of: the real CLI
 * (`bin/gofer.js`, with its on-disk compile cache warm, as after the first command of a session), and the
 * baseline, a bare `node -e` that makes the same API request and prints the JSON: what any Node-based CLI pays
 * before doing anything of its own. Prints the medians and the ratio CLI/baseline, and the first, cold-cache
 * run separately. Usage: `node bench/cli-startup.bench.ts` (after `./test.sh` or `./start.sh`).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  deployPipeline,
  pipelineConfig,
  shTask,
  startRun,
  waitForRun,
} from "../packages/gofer/test/support/pipelines.ts";
import { startTestServer } from "../packages/gofer/test/support/test-server.ts";
import { countSetting } from "./support/settings.ts";

const ROUNDS = countSetting("BENCH_ROUNDS", 15);
const GOFER = new URL("../packages/gofer/bin/gofer.js", import.meta.url).pathname;

const server = await startTestServer();
const cache = mkdtempSync(join(tmpdir(), "gofer-bench-compile-cache-"));
try {
  await deployPipeline(server, pipelineConfig("startup", [shTask("work", "true")]));
  for (let run = 0; run < 5; run += 1) await waitForRun(server, "startup", await startRun(server, "startup"));

  const env = {
    PATH: process.env.PATH ?? "",
    HOME: cache,
    NODE_COMPILE_CACHE: cache,
    GOFER_API_BASE_URL: server.url,
    GOFER_TOKEN: server.token,
  };
  // Asynchronous on purpose: the server runs in this process, and a synchronous spawn would stall it.
  const timed = (args: string[]): Promise<number> =>
    new Promise((resolve, reject) => {
      const start = performance.now();
      const child = spawn(process.execPath, args, { env, stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
        stderr += chunk;
      });
      child.on("error", reject);
      child.on("close", (code) => {
        if (code === 0) resolve(performance.now() - start);
        else reject(new Error(`${args.join(" ")} failed with ${code}:\n${stderr}`));
      });
    });
  const cli = () => timed([GOFER, "run", "list", "startup"]);
  const baseline = () =>
    timed([
      "-e",
      `fetch(process.env.GOFER_API_BASE_URL + "/api/namespaces/default/pipelines/startup/runs?limit=10&reverse=true", {
         headers: { "gofer-api-version": "v0", authorization: "Bearer " + process.env.GOFER_TOKEN },
       }).then((r) => r.json()).then((body) => console.log(JSON.stringify(body)));`,
    ]);

  const cold = await cli();
  const cliTimes: number[] = [];
  const baseTimes: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    cliTimes.push(await cli());
    baseTimes.push(await baseline());
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const cliMedian = median(cliTimes);
  const baseMedian = median(baseTimes);
  console.log(
    `gofer run list: median ${cliMedian.toFixed(0)} ms (cold compile cache: ${cold.toFixed(0)} ms); ` +
      `bare node + fetch: median ${baseMedian.toFixed(0)} ms; ratio cli/baseline ${(cliMedian / baseMedian).toFixed(2)}; ` +
      `target < 300 ms: ${cliMedian < 300 ? "met" : "missed"}  (${ROUNDS} rounds)`,
  );
} finally {
  await server.stop();
  rmSync(cache, { recursive: true, force: true });
}
