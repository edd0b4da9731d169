/**
 * The scheduler conformance suite: every backend (Docker, Swarm, Kubernetes) must behave the same through the
 * `Scheduler` interface, because nothing above it knows which one runs. Choose backends with
 * `SCHEDULER=docker,swarm,kubernetes` (all by default); one that cannot run here is skipped with its reason.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { LineSplitter } from "../src/logs/line-splitter.ts";
import {
  type ContainerSpec,
  type LogChunk,
  type Scheduler,
  SchedulerError,
} from "../src/scheduler/scheduler.ts";
import { type BackendSetup, selectedBackends } from "./support/scheduler-backends.ts";

/** Lines of each stream, in order, as a reader of the whole output would store them. */
function linesOf(chunks: LogChunk[]): { stdout: string[]; stderr: string[] } {
  const splitters = { stdout: new LineSplitter(), stderr: new LineSplitter() };
  const lines = { stdout: [] as string[], stderr: [] as string[] };
  for (const chunk of chunks) {
    for (const line of splitters[chunk.stream].push(chunk.data)) lines[chunk.stream].push(line.toString());
  }
  for (const stream of ["stdout", "stderr"] as const) {
    const rest = splitters[stream].flush();
    if (rest) lines[stream].push(rest.toString());
  }
  return lines;
}

async function collect(stream: AsyncIterable<LogChunk>): Promise<LogChunk[]> {
  const chunks: LogChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

const numbered = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, index) => `${prefix} ${index + 1}`);

for (const backend of selectedBackends()) {
  const skip = backend.unavailable();
  describe(`scheduler conformance: ${backend.name}`, { skip, timeout: 300_000 }, () => {
    let setup: BackendSetup;
    let scheduler: Scheduler;
    const instance = `conformance-${randomBytes(4).toString("hex")}`;
    const started: string[] = [];

    /** Starts a busybox container running `script`, labelled so the suite finds (and removes) it. */
    const run = async (name: string, script: string, extra: Partial<ContainerSpec> = {}): Promise<string> => {
      const { id } = await scheduler.start({
        name: `gofer-${instance}-${name}`,
        image: setup.image,
        env: {},
        command: ["sh", "-c", script],
        labels: { "gofer.instance": instance, "gofer.task": name },
        alwaysPull: false,
        ...extra,
      });
      started.push(id);
      return id;
    };

    /**
     * Lines per stream. A backend that merges the streams delivers everything as stdout; stderr lines are told
     * apart there by the tests' own prefixes ("err", "warn", "to stderr"), so order is still checked per stream.
     */
    const streamsOf = (chunks: LogChunk[]) => {
      const lines = linesOf(chunks);
      if (!setup.mergedStreams) return lines;
      const isStderr = (line: string) => /^(err|warn) \d+$|^to stderr$/.test(line);
      return {
        stdout: lines.stdout.filter((line) => !isStderr(line)),
        stderr: lines.stdout.filter(isStderr),
      };
    };

    before(async () => {
      setup = await backend.setUp();
      scheduler = setup.scheduler;
    });
    after(async () => {
      for (const id of started) await scheduler?.remove(id).catch(() => undefined);
      await setup?.close();
    });

    it("reports exit codes", async () => {
      const ok = await run("exit-zero", "exit 0");
      const failed = await run("exit-seven", "exit 7");
      assert.equal((await scheduler.wait(ok)).exitCode, 0);
      assert.equal((await scheduler.wait(failed)).exitCode, 7);
      // Waiting again on an exited container answers at once with the same code.
      assert.equal((await scheduler.wait(failed)).exitCode, 7);
    });

    it("passes the environment exactly, spaces and equals signs included", async () => {
      const id = await run("env", 'printf "%s|%s|%s\\n" "$PLAIN" "$SPACED" "$EMPTY"', {
        env: { PLAIN: "one", SPACED: "two words=three", EMPTY: "" },
      });
      assert.equal((await scheduler.wait(id)).exitCode, 0);
      const { stdout } = linesOf(await collect(scheduler.logs(id, { follow: false })));
      assert.deepEqual(stdout, ["one|two words=three|"]);
    });

    it("replaces the entrypoint and the command as asked", async () => {
      const both = await run("entrypoint", "", {
        entrypoint: ["sh", "-c", 'echo "entry:$0:$1"'],
        command: ["first", "second"],
      });
      const commandOnly = await run("command", "", { command: ["echo", "command only"] });
      await scheduler.wait(both);
      await scheduler.wait(commandOnly);
      assert.deepEqual(linesOf(await collect(scheduler.logs(both, { follow: false }))).stdout, [
        "entry:first:second",
      ]);
      assert.deepEqual(linesOf(await collect(scheduler.logs(commandOnly, { follow: false }))).stdout, [
        "command only",
      ]);
    });

    it("streams every line of both streams, in order, to a follower, a last line without newline included", async () => {
      const id = await run(
        "ordering",
        'i=1; while [ $i -le 400 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done; printf "tail"',
      );
      const chunks = await collect(scheduler.logs(id, { follow: true }));
      assert.equal((await scheduler.wait(id)).exitCode, 0);
      const { stdout, stderr } = streamsOf(chunks);
      assert.deepEqual(stdout, [...numbered("out", 400), "tail"]);
      assert.deepEqual(stderr, numbered("err", 400));
    });

    it("resumes after a position with nothing lost and nothing repeated, also from a follower cut short", async () => {
      const id = await run(
        "resume",
        'i=1; while [ $i -le 60 ]; do echo "line $i"; [ $((i % 3)) -eq 0 ] && echo "warn $i" >&2; i=$((i+1)); sleep 0.02; done',
      );
      // A follower that goes away part-way, as a server does at shutdown.
      const first: LogChunk[] = [];
      const cut = new AbortController();
      for await (const chunk of scheduler.logs(id, { follow: true, signal: cut.signal })) {
        first.push(chunk);
        if (first.length === 25) cut.abort();
      }
      const position = first.at(-1)?.position;
      assert.ok(position, "every chunk carries the position after it");
      const rest = await collect(scheduler.logs(id, { follow: true, after: position }));
      assert.equal((await scheduler.wait(id)).exitCode, 0);
      const { stdout, stderr } = streamsOf([...first, ...rest]);
      assert.deepEqual(stdout, numbered("line", 60));
      assert.deepEqual(
        stderr,
        numbered("warn", 20).map((_, index) => `warn ${(index + 1) * 3}`),
      );
      // A plain read after a mid-stream position gives exactly the remainder too.
      const whole = await collect(scheduler.logs(id, { follow: false }));
      const middle = whole[Math.floor(whole.length / 2)]?.position;
      assert.ok(middle);
      const tail = await collect(scheduler.logs(id, { follow: false, after: middle }));
      assert.deepEqual(
        Buffer.concat(tail.map((chunk) => chunk.data)).toString(),
        Buffer.concat(whole.slice(Math.floor(whole.length / 2) + 1).map((chunk) => chunk.data)).toString(),
      );
    });

    it("hands the output back live when asked (where it can), resumable through the logs after any piece", async (t) => {
      const { id, output } = await scheduler.start({
        name: `gofer-${instance}-live`,
        image: setup.image,
        env: {},
        command: [
          "sh",
          "-c",
          'i=1; while [ $i -le 300 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done; printf "tail"',
        ],
        labels: { "gofer.instance": instance, "gofer.task": "live" },
        alwaysPull: false,
        captureOutput: true,
      });
      started.push(id);
      if (!output) {
        t.skip(`${backend.name} has no live output: its logs are followed instead`);
        return;
      }
      const live = await collect(output.chunks);
      assert.equal((await scheduler.wait(id)).exitCode, 0);
      const expected = { stdout: [...numbered("out", 300), "tail"], stderr: numbered("err", 300) };
      assert.deepEqual(streamsOf(live), expected);
      for (const cut of [0, Math.floor(live.length / 3), live.length - 1]) {
        const position = live[cut]?.position;
        assert.ok(position, "every live piece carries the position after it");
        const rest = await collect(scheduler.logs(id, { follow: false, after: position }));
        assert.deepEqual(
          streamsOf([...live.slice(0, cut + 1), ...rest]),
          expected,
          `resuming after piece ${cut}`,
        );
      }
    });

    it("stops gracefully with SIGTERM, and kills what ignores it after the grace period", async () => {
      const polite = await run("polite", "trap 'exit 3' TERM; while true; do sleep 0.1; done");
      const stubborn = await run("stubborn", "trap '' TERM; while true; do sleep 0.1; done");
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const stoppedAt = Date.now();
      await Promise.all([scheduler.stop(polite, 10), scheduler.stop(stubborn, 1)]);
      assert.equal((await scheduler.wait(polite)).exitCode, 3);
      assert.equal((await scheduler.wait(stubborn)).exitCode, 137);
      assert.ok(Date.now() - stoppedAt < 15_000, "the kill came long after the grace period");
      // Stopping a stopped container is a no-op.
      await scheduler.stop(polite, 1);
    });

    it("fails the start of an image that cannot be pulled, with a message naming it", async () => {
      const image = `gofer/conformance-missing-${randomBytes(3).toString("hex")}:latest`;
      await assert.rejects(
        scheduler.start({
          name: `gofer-${instance}-missing`,
          image,
          env: {},
          command: ["true"],
          labels: { "gofer.instance": instance, "gofer.task": "missing" },
          alwaysPull: false,
        }),
        (error: unknown) => {
          assert.ok(error instanceof SchedulerError, String(error));
          assert.equal(error.kind, "failed");
          assert.match(error.message, new RegExp(image.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")));
          return true;
        },
      );
      assert.deepEqual(
        (await scheduler.listManaged({ "gofer.instance": instance, "gofer.task": "missing" })).length,
        0,
        "a failed start leaves nothing behind",
      );
    });

    it("runs a command inside a running container, with its stdin, output and exit code", async (t) => {
      if (!scheduler.exec) {
        t.skip(`${backend.name} cannot run commands inside a running container`);
        return;
      }
      const id = await run("exec-target", "trap 'exit 0' TERM; while true; do sleep 0.1; done");
      const session = await scheduler.exec(id, {
        command: ["sh", "-c", 'read line; echo "got $line"; echo "to stderr" >&2; exit 4'],
        tty: false,
      });
      session.input.write("hello\n");
      session.input.end();
      const { stdout, stderr } = streamsOf(await collect(session.output));
      assert.deepEqual(stdout, ["got hello"]);
      assert.deepEqual(stderr, ["to stderr"]);
      assert.equal(await session.exit(), 4);
      session.close();

      const terminal = await scheduler.exec(id, { command: ["sh"], tty: true });
      await terminal.resize(100, 30);
      terminal.input.write("stty size; exit 0\n");
      const screen = Buffer.concat((await collect(terminal.output)).map((chunk) => chunk.data)).toString();
      assert.match(screen, /30 100/);
      assert.equal(await terminal.exit(), 0);
      await scheduler.stop(id, 5);
    });

    it("labels what it starts and lists it for recovery, running, exited and after removal", async () => {
      const id = await run("listed", "sleep 2");
      const running = await scheduler.listManaged({ "gofer.instance": instance, "gofer.task": "listed" });
      assert.deepEqual(
        running.map((container) => container.id),
        [id],
      );
      assert.equal(running[0]?.labels["gofer.managed"], "true");
      assert.equal(running[0]?.labels["gofer.task"], "listed");
      assert.equal(running[0]?.state, "running");
      await scheduler.wait(id);
      const exited = await scheduler.listManaged({ "gofer.instance": instance, "gofer.task": "listed" });
      assert.equal(exited[0]?.state, "exited");
      await scheduler.remove(id);
      assert.deepEqual(
        await scheduler.listManaged({ "gofer.instance": instance, "gofer.task": "listed" }),
        [],
      );
      // Removing what is gone is a no-op; waiting on it says it is gone.
      await scheduler.remove(id);
      await assert.rejects(scheduler.wait(id), (error: unknown) => {
        assert.ok(error instanceof SchedulerError);
        assert.equal(error.kind, "not_found");
        return true;
      });
    });
  });
}
