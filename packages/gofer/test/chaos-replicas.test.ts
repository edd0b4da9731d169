/**
 * Replica crash safety: the chaos test with three replicas behind haproxy on one PostgreSQL (scripts/chaos.ts
 * --replicas 3) must pass. It kills one replica at a time (the leader half of the time) six times while ten runs
 * are in flight, restarting each after a random pause, and checks every run, task status, log line (read through
 * the load balancer, so from any replica) and container afterwards, and that the interval extension still
 * fires. The seed is random unless GOFER_CHAOS_SEED is set; a failure prints it with the command that replays it.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { runChaos } from "./support/chaos-run.ts";

const SEED = process.env.GOFER_CHAOS_SEED ?? String(Math.floor(Math.random() * 2 ** 32));
const ARGS = ["scripts/chaos.ts", "--replicas", "3", "--kills", "6", "--runs", "10", "--seed", SEED];
/** The script's own deadline is 360 s; this leaves it time to clean up after an overrun. */
const TIMEOUT_MS = 400_000;

it(`survives kill -9 of replicas, the leader among them, with runs in flight (chaos seed ${SEED})`, {
  timeout: TIMEOUT_MS + 30_000,
}, async (t) => {
  const { exit, output } = await runChaos(ARGS.slice(1), TIMEOUT_MS);
  const takeovers = /takeovers .*/.exec(output)?.[0];
  if (takeovers) t.diagnostic(takeovers);
  assert.equal(exit, 0, `node ${ARGS.join(" ")} exited with ${exit}:\n${output}`);
});
