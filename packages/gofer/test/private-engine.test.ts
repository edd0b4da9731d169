/**
 * The private engine test support: a dockerd of a test's own that can be restarted, stopped and closed without
 * the main engine noticing, and that leaves no process or folder behind.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, type TestContext, test } from "node:test";
import { EngineClient, EngineUnreachableError } from "../src/scheduler/docker/engine-client.ts";
import { type PrivateEngine, startPrivateEngine } from "./support/private-engine.ts";

const BUSYBOX = process.env.GOFER_BUSYBOX_IMAGE ?? "gofer/busybox:latest";

/** Starts an engine and a client for it, both closed when the test ends (closing twice must be harmless). */
async function engineFor(t: TestContext): Promise<{ engine: PrivateEngine; client: EngineClient }> {
  const engine = await startPrivateEngine();
  const client = new EngineClient({ host: engine.host });
  t.after(async () => {
    client.close();
    await engine.close();
  });
  return { engine, client };
}

/** Starts a busybox container with host networking; the script is the container's whole command. */
async function run(client: EngineClient, name: string, script: string): Promise<string> {
  const { Id } = await client.createContainer(name, {
    Image: BUSYBOX,
    Cmd: ["sh", "-c", script],
    HostConfig: { NetworkMode: "host" },
  });
  await client.startContainer(Id);
  return Id;
}

// Exits at once on SIGTERM, as the daemon sends on shutdown: a shell as PID 1 would otherwise ignore it and
// hold every restart up for the full 10 s stop timeout.
const LONG_RUNNING = "trap 'exit 143' TERM; sleep 60 & wait";

async function assertClosedCleanly(engine: PrivateEngine): Promise<void> {
  await engine.close();
  assert.deepEqual(await engine.processes(), []);
  assert.equal(existsSync(engine.root), false, `${engine.root} is left behind`);
  assert.equal(engine.pid, null);
}

describe("private engine", () => {
  test("runs containers and keeps their records across a restart", async (t) => {
    const { engine, client } = await engineFor(t);
    assert.ok(engine.host.startsWith("unix:///tmp/gofer-pe-"));
    const mainEngine = new EngineClient();
    t.after(() => mainEngine.close());

    const finished = await run(client, "finished", "echo hello; exit 7");
    assert.equal((await client.waitContainer(finished)).StatusCode, 7);
    const running = await run(client, "running", LONG_RUNNING);
    assert.equal((await client.inspectContainer(running)).State.Running, true);
    // A wait in flight across a graceful restart gets the exit the daemon caused on its way down.
    const waiting = client.waitContainer(running);

    const pidBefore = engine.pid;
    await engine.restart();
    assert.notEqual(engine.pid, pidBefore);
    await client.ping();
    assert.equal((await waiting).StatusCode, 143);
    const stopped = await client.inspectContainer(running);
    assert.equal(stopped.State.Status, "exited");
    assert.equal(stopped.State.ExitCode, 143);
    assert.equal((await client.inspectContainer(finished)).State.ExitCode, 7);
    // The main engine never saw any of it.
    assert.equal(await mainEngine.inspectContainer(running).catch(() => null), null);

    const after = await run(client, "after-restart", "exit 0");
    assert.equal((await client.waitContainer(after)).StatusCode, 0);

    await engine.stopDaemon();
    await assert.rejects(client.ping(), EngineUnreachableError);
    await engine.start();
    await client.ping();
    assert.equal((await client.listContainers({ all: true })).length, 3);

    await run(client, "still-running-at-close", LONG_RUNNING);
    await assertClosedCleanly(engine);
    await engine.close();
  });

  test("after a crash, the new daemon stops what was running", async (t) => {
    const { engine, client } = await engineFor(t);
    const running = await run(client, "running", LONG_RUNNING);
    // Handled from the start: the crash rejects it while the restart is still under way.
    const waiting = client.waitContainer(running).then(
      () => null,
      (error: Error) => error,
    );
    await engine.restart({ crash: true });
    // A crash cuts the wait off ("socket hang up" or "aborted") instead of answering it.
    assert.ok((await waiting) instanceof Error);
    const state = (await client.inspectContainer(running)).State;
    assert.equal(state.Running, false);
    assert.equal(state.ExitCode, 143);
    await assertClosedCleanly(engine);
  });

  test("two engines side by side do not disturb each other", async (t) => {
    const [a, b] = await Promise.all([engineFor(t), engineFor(t)]);
    assert.notEqual(a.engine.host, b.engine.host);
    const [onA, onB] = await Promise.all([
      run(a.client, "on-a", LONG_RUNNING),
      run(b.client, "on-b", LONG_RUNNING),
    ]);
    await a.engine.restart();
    assert.equal((await a.client.inspectContainer(onA)).State.Running, false);
    assert.equal((await b.client.inspectContainer(onB)).State.Running, true);
    await assert.rejects(a.client.inspectContainer(onB));
    await Promise.all([assertClosedCleanly(a.engine), assertClosedCleanly(b.engine)]);
  });

  test("a failed start leaves nothing behind", async () => {
    const failure = await startPrivateEngine({ images: ["gofer/no-such-image:latest"] }).then(
      () => assert.fail("started without its image"),
      (error: Error) => error,
    );
    assert.match(failure.message, /gofer\/no-such-image:latest is not on the engine/);
    const root = /(\/tmp\/gofer-pe-[^:\s]+)/.exec(failure.message)?.[1];
    assert.ok(root, failure.message);
    assert.equal(existsSync(root), false);
  });
});
