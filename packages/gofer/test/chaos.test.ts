/**
 * Crash safety: the short form of the chaos test (scripts/chaos.ts) must pass. It SIGKILLs a real server ten
 * times while twelve runs are in flight and checks every run, task status, log line and container afterwards.
 * The seed is random unless GOFER_CHAOS_SEED is set; a failure prints it with the command that replays it.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { runChaos } from "./support/chaos-run.ts";

const SEED = process.env.GOFER_CHAOS_SEED ?? String(Math.floor(Math.random() * 2 ** 32));
const ARGS = ["scripts/chaos.ts", "--kills", "10", "--runs", "12", "--seed", SEED];
/** The script's own deadline is 360 s; this leaves it time to clean up after an overrun. */
const TIMEOUT_MS = 400_000;

it(`survives kill -9 of the server with runs in flight (chaos seed ${SEED})`, {
  timeout: TIMEOUT_MS + 30_000,
}, async () => {
  const { exit, output } = await runChaos(ARGS.slice(1), TIMEOUT_MS);
  assert.equal(exit, 0, `node ${ARGS.join(" ")} exited with ${exit}:\n${output}`);
});
