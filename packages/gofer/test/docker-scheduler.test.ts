/**
 * The Docker scheduler against the real engine (`DOCKER_HOST` or the standard socket), plus the client's
 * protocol edges against a fake engine where the real one cannot be made to misbehave on demand.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, type TestContext, test } from "node:test";
import { DockerScheduler } from "../src/scheduler/docker/docker-scheduler.ts";
import { EngineClient } from "../src/scheduler/docker/engine-client.ts";
import { type ContainerSpec, type LogChunk, SchedulerError } from "../src/scheduler/scheduler.ts";

const IMAGE = process.env.GOFER_BUSYBOX_IMAGE ?? "gofer/busybox:latest";
const TEST_LABEL = "gofer.test";

const client = new EngineClient();
const scheduler = new DockerScheduler({ client, networkMode: "host" });
after(() => client.close());

/** Gives a test its own label value and removes every container carrying it when the test ends. */
function sandbox(t: TestContext): { label: string; spec(overrides?: Partial<ContainerSpec>): ContainerSpec } {
  const label = randomBytes(6).toString("hex");
  let count = 0;
  t.after(async () => {
    const leftovers = await client.listContainers({ all: true, labels: { [TEST_LABEL]: label } });
    await Promise.all(leftovers.map((c) => client.removeContainer(c.Id, { force: true, volumes: true })));
  });
  return {
    label,
    spec: (overrides = {}) => ({
      name: `gofer-test-${label}-${count++}`,
      image: IMAGE,
      env: {},
      labels: { [TEST_LABEL]: label },
      alwaysPull: false,
      ...overrides,
    }),
  };
}

async function collect(chunks: AsyncIterable<LogChunk>): Promise<{ stdout: Buffer; stderr: Buffer }> {
  const parts: Record<LogChunk["stream"], Buffer[]> = { stdout: [], stderr: [] };
  for await (const chunk of chunks) parts[chunk.stream].push(chunk.data);
  return { stdout: Buffer.concat(parts.stdout), stderr: Buffer.concat(parts.stderr) };
}

/** Starts a container, follows its output to the end, and returns output and exit code. */
async function run(
  spec: ContainerSpec,
): Promise<{ id: string; exitCode: number; stdout: string; stderr: string }> {
  const { id } = await scheduler.start(spec);
  const [output, exit] = await Promise.all([
    collect(scheduler.logs(id, { follow: true })),
    scheduler.wait(id),
  ]);
  return { id, exitCode: exit.exitCode, stdout: output.stdout.toString(), stderr: output.stderr.toString() };
}

describe("DockerScheduler against the engine", () => {
  test("a successful command exits 0", async (t) => {
    const box = sandbox(t);
    assert.equal((await run(box.spec({ command: ["true"] }))).exitCode, 0);
  });

  test("a failing command reports its exit code", async (t) => {
    const box = sandbox(t);
    assert.equal((await run(box.spec({ command: ["sh", "-c", "exit 3"] }))).exitCode, 3);
  });

  test("the environment reaches the container", async (t) => {
    const box = sandbox(t);
    const result = await run(
      box.spec({
        env: { GREETING: "hello there", EMPTY: "" },
        command: ["sh", "-c", 'echo "$GREETING|$EMPTY|"'],
      }),
    );
    assert.equal(result.stdout, "hello there||\n");
  });

  test("entrypoint and command replace the image's", async (t) => {
    const box = sandbox(t);
    const result = await run(
      box.spec({ entrypoint: ["/bin/echo", "from-entrypoint"], command: ["and", "cmd"] }),
    );
    assert.equal(result.stdout, "from-entrypoint and cmd\n");
  });

  test("10,000 lines arrive complete and in order, with stderr and a last line without newline", async (t) => {
    const box = sandbox(t);
    const script =
      'i=1; while [ $i -le 10000 ]; do echo "line $i"; i=$((i+1)); done; echo "to stderr" >&2; printf "no newline"';
    const followed = await run(box.spec({ command: ["sh", "-c", script] }));
    const expected = `${Array.from({ length: 10_000 }, (_, i) => `line ${i + 1}\n`).join("")}no newline`;
    assert.equal(followed.exitCode, 0);
    assert.equal(followed.stdout, expected);
    assert.equal(followed.stderr, "to stderr\n");

    const afterExit = await collect(scheduler.logs(followed.id, { follow: false }));
    assert.equal(afterExit.stdout.toString(), expected);
    assert.equal(afterExit.stderr.toString(), "to stderr\n");
  });

  test("a 1 MiB single line arrives byte for byte", async (t) => {
    const box = sandbox(t);
    const script = 'BEGIN { for (i = 0; i < 131072; i++) printf "%08d", i; printf "\\n" }';
    const { id } = await scheduler.start(box.spec({ command: ["awk", script] }));
    assert.equal((await scheduler.wait(id)).exitCode, 0);
    const expected = Buffer.from(
      `${Array.from({ length: 131_072 }, (_, i) => String(i).padStart(8, "0")).join("")}\n`,
    );
    assert.equal(expected.length, 1024 * 1024 + 1);
    const { stdout } = await collect(scheduler.logs(id, { follow: false }));
    assert.ok(stdout.equals(expected), `got ${stdout.length} bytes that differ from the expected line`);
  });

  test("following logs ends once the container exits", async (t) => {
    const box = sandbox(t);
    const { id } = await scheduler.start(
      box.spec({ command: ["sh", "-c", "echo first; sleep 1; echo second"] }),
    );
    const { stdout } = await collect(scheduler.logs(id, { follow: true }));
    assert.equal(stdout.toString(), "first\nsecond\n");
    assert.equal((await client.inspectContainer(id)).State.Running, false);
  });

  test("tailLines reads only the last lines", async (t) => {
    const box = sandbox(t);
    const { id } = await scheduler.start(box.spec({ command: ["sh", "-c", "seq 1 10"] }));
    await scheduler.wait(id);
    const { stdout } = await collect(scheduler.logs(id, { follow: false, tailLines: 3 }));
    assert.equal(stdout.toString(), "8\n9\n10\n");
  });

  test("aborting a follow ends the stream at once, while the container keeps running", async (t) => {
    const box = sandbox(t);
    const { id } = await scheduler.start(box.spec({ command: ["sh", "-c", "echo hello; sleep 30"] }));
    const controller = new AbortController();
    const received: string[] = [];
    const started = Date.now();
    setTimeout(() => controller.abort(), 500);
    for await (const chunk of scheduler.logs(id, { follow: true, signal: controller.signal })) {
      received.push(chunk.data.toString());
    }
    assert.deepEqual(received, ["hello\n"]);
    assert.ok(Date.now() - started < 5_000, `the follow ended ${Date.now() - started} ms after it started`);
    assert.equal((await client.inspectContainer(id)).State.Running, true);
  });

  test("output flushed only as the container exits still reaches a follower", async (t) => {
    const box = sandbox(t);
    // The engine's follow stream loses such output often but not always, hence a few rounds.
    for (let round = 0; round < 3; round++) {
      const result = await run(box.spec({ command: ["sh", "-c", "echo first; printf only-at-exit"] }));
      assert.equal(result.stdout, "first\nonly-at-exit");
    }
  });

  test("sinceMs skips output produced earlier", async (t) => {
    const box = sandbox(t);
    const { id } = await scheduler.start(
      box.spec({ command: ["sh", "-c", "echo early; sleep 2; echo late"] }),
    );
    let firstSeenAt = 0;
    for await (const _ of scheduler.logs(id, { follow: true })) {
      firstSeenAt ||= Date.now();
    }
    const { stdout } = await collect(scheduler.logs(id, { follow: false, sinceMs: firstSeenAt + 1000.5 }));
    assert.equal(stdout.toString(), "late\n");
  });

  test("a pull failure names the image and carries the engine's message", async (t) => {
    const box = sandbox(t);
    const image = "127.0.0.1:1/nope:latest";
    await assert.rejects(scheduler.start(box.spec({ image, command: ["true"] })), (error: unknown) => {
      assert.ok(error instanceof SchedulerError);
      assert.match(
        error.message,
        /^could not pull image "127\.0\.0\.1:1\/nope:latest": .*connection refused/,
      );
      return true;
    });
    assert.deepEqual(await scheduler.listManaged({ [TEST_LABEL]: box.label }), []);
  });

  test("a present image is not pulled when alwaysPull is false, so starting works offline", async (t) => {
    const box = sandbox(t);
    assert.equal((await run(box.spec({ alwaysPull: false, command: ["true"] }))).exitCode, 0);
  });

  test("labels are set and listManaged finds the container", async (t) => {
    const box = sandbox(t);
    const spec = box.spec({ labels: { [TEST_LABEL]: box.label, "gofer.task": "build" }, command: ["true"] });
    const { id } = await scheduler.start(spec);
    await scheduler.wait(id);

    const found = await scheduler.listManaged({ [TEST_LABEL]: box.label });
    assert.equal(found.length, 1);
    assert.deepEqual(found[0], {
      id,
      name: spec.name,
      labels: { [TEST_LABEL]: box.label, "gofer.task": "build", "gofer.managed": "true" },
      state: "exited",
    });
    assert.equal((await scheduler.listManaged({ [TEST_LABEL]: box.label, "gofer.task": "other" })).length, 0);
  });

  test("a second container with the same name is refused", async (t) => {
    const box = sandbox(t);
    const spec = box.spec({ command: ["true"] });
    await scheduler.start(spec);
    await assert.rejects(scheduler.start(spec), (error: unknown) => {
      assert.ok(error instanceof SchedulerError);
      assert.match(error.message, new RegExp(`a container named "${spec.name}" already exists`));
      return true;
    });
  });

  test("a container that cannot start is removed before the error is thrown", async (t) => {
    const box = sandbox(t);
    await assert.rejects(scheduler.start(box.spec({ entrypoint: ["/no/such/binary"] })), (error: unknown) => {
      assert.ok(error instanceof SchedulerError);
      assert.match(error.message, /^could not start container ".*": .*no\/such\/binary/);
      return true;
    });
    assert.deepEqual(await scheduler.listManaged({ [TEST_LABEL]: box.label }), []);
  });

  test("stop kills a container that ignores SIGTERM after the timeout", async (t) => {
    const box = sandbox(t);
    const { id } = await scheduler.start(box.spec({ command: ["sleep", "30"] }));
    const startedAt = performance.now();
    await scheduler.stop(id, 1);
    const elapsed = performance.now() - startedAt;
    assert.ok(elapsed < 5000, `stop took ${elapsed} ms`);
    assert.ok([137, 143].includes((await scheduler.wait(id)).exitCode));
    await scheduler.stop(id, 1);
  });

  test("init runs the command under the engine's init, so a SIGTERM it does not trap ends it at once", async (t) => {
    const box = sandbox(t);
    const { id } = await scheduler.start(box.spec({ command: ["sleep", "30"], init: true }));
    assert.equal((await client.inspectContainer(id)).HostConfig?.Init, true);
    const startedAt = performance.now();
    await scheduler.stop(id, 20);
    const elapsed = performance.now() - startedAt;
    assert.ok(elapsed < 3000, `stop took ${elapsed} ms: the grace period was sat out`);
    assert.equal((await scheduler.wait(id)).exitCode, 143, "ended by SIGTERM");
    const plain = await scheduler.start(box.spec({ command: ["true"] }));
    assert.notEqual((await client.inspectContainer(plain.id)).HostConfig?.Init, true, "no init unless asked");
  });

  test("remove is idempotent and stop of a missing container is a no-op", async (t) => {
    const box = sandbox(t);
    const { id } = await scheduler.start(box.spec({ command: ["true"] }));
    await scheduler.remove(id);
    await scheduler.remove(id);
    await scheduler.stop(id, 1);
    assert.deepEqual(await scheduler.listManaged({ [TEST_LABEL]: box.label }), []);
  });
});

describe("an unreachable engine", () => {
  test("DOCKER_HOST pointing at a missing socket gives a SchedulerError naming it", async (t) => {
    const previous = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = "unix:///nonexistent.sock";
    t.after(() => {
      if (previous === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = previous;
    });
    const offline = new DockerScheduler({ networkMode: "host" });
    const unreachable = (error: unknown): boolean => {
      assert.ok(error instanceof SchedulerError);
      assert.match(error.message, /^Docker engine unreachable at unix:\/\/\/nonexistent\.sock: .*ENOENT/);
      assert.equal((error as SchedulerError).kind, "unavailable", "an unreachable engine is worth retrying");
      return true;
    };
    await assert.rejects(offline.start(specFor("unreachable")), unreachable);
    await assert.rejects(offline.listManaged(), unreachable);
    await assert.rejects(offline.wait("abc"), unreachable);
  });

  test("a refused TCP address gives a SchedulerError naming it", async () => {
    const offline = new DockerScheduler({
      client: new EngineClient({ host: "tcp://127.0.0.1:1" }),
      networkMode: "host",
    });
    await assert.rejects(
      offline.remove("abc"),
      /^SchedulerError: Docker engine unreachable at tcp:\/\/127\.0\.0\.1:1/,
    );
  });
});

function specFor(name: string, overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  return { name, image: IMAGE, env: {}, labels: {}, alwaysPull: false, command: ["true"], ...overrides };
}

interface Recorded {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
}

/**
 * A fake engine on a TCP port: knows one local image (and those it pulled), refuses to create a container from
 * any other as Docker does (404 "No such image"), or with `createNotFound` refuses every create with that 404,
 * streams pull progress (optionally ending in an error) and serves fixed log frames for container `c0ffee`,
 * `followed` to a follow request and `stored` to a plain one.
 */
async function fakeEngine(
  t: TestContext,
  options: {
    localImage: string;
    pullError?: string;
    createNotFound?: string;
    followed?: Buffer[];
    stored?: Buffer[];
  },
) {
  const requests: Recorded[] = [];
  const images = new Set([options.localImage]);
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://fake");
    requests.push({ method: req.method ?? "", url, headers: req.headers });
    const route = `${req.method} ${url.pathname}`;
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
    };
    const inspected = /^GET \/images\/(.+)\/json$/.exec(route);
    if (inspected) {
      return images.has(decodeURI(inspected[1] ?? ""))
        ? json(200, { Id: "sha256:1", RepoTags: [] })
        : json(404, { message: "No such image" });
    }
    if (route === "POST /images/create") {
      const name = url.searchParams.get("fromImage") ?? "";
      const tag = url.searchParams.get("tag") ?? "";
      if (options.pullError === undefined) {
        images.add(tag.startsWith("sha256:") ? `${name}@${tag}` : `${name}:${tag}`);
        if (tag === "latest") images.add(name);
      }
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write('{"status":"Pulling from library/x","id":"latest"}\r\n{"status":"Downloading",');
      res.write('"progressDetail":{"current":1,"total":2},"id":"abc"}\r\n');
      if (options.pullError !== undefined) {
        res.write(
          `${JSON.stringify({ errorDetail: { message: options.pullError }, error: options.pullError })}\r\n`,
        );
      } else {
        res.write('{"status":"Status: Downloaded newer image"}\r\n');
      }
      return res.end();
    }
    if (route === "GET /containers/c0ffee/logs") {
      const follow = url.searchParams.get("follow") === "1";
      res.writeHead(200, { "Content-Type": "application/vnd.docker.raw-stream" });
      return res.end(Buffer.concat((follow ? options.followed : options.stored) ?? []));
    }
    if (route === "POST /containers/create") {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const { Image } = JSON.parse(Buffer.concat(chunks).toString()) as { Image: string };
      if (options.createNotFound !== undefined) return json(404, { message: options.createNotFound });
      if (!images.has(Image)) return json(404, { message: `No such image: ${Image}` });
      return json(201, { Id: "c0ffee", Warnings: [] });
    }
    if (route === "POST /containers/c0ffee/start") return res.writeHead(204).end();
    if (route === "GET /containers/json") {
      const labels = { "gofer.managed": "true" };
      return json(200, [
        { Id: "c0ffee", Names: ["/a"], Image: "x", Labels: labels, State: "running", Status: "Up" },
      ]);
    }
    return json(500, { message: `fake engine does not know ${route}` });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const fakeClient = new EngineClient({ host: `tcp://127.0.0.1:${(server.address() as AddressInfo).port}` });
  t.after(() => {
    fakeClient.close();
    server.closeAllConnections();
    server.close();
  });
  const routes = () => requests.map((r) => `${r.method} ${r.url.pathname}`);
  return {
    requests,
    routes,
    scheduler: new DockerScheduler({ client: fakeClient, networkMode: "host" }),
  };
}

describe("pull policy and pull stream against a fake engine", () => {
  test("a present image is not pulled unless alwaysPull is set, nor asked about before the create", async (t) => {
    const engine = await fakeEngine(t, { localImage: "local/image:1" });
    assert.deepEqual(await engine.scheduler.start(specFor("a", { image: "local/image:1" })), {
      id: "c0ffee",
    });
    // As `docker run` does: a start whose image is there costs the engine no request about the image.
    assert.deepEqual(engine.routes(), ["POST /containers/create", "POST /containers/c0ffee/start"]);

    engine.requests.length = 0;
    await engine.scheduler.start(specFor("b", { image: "local/image:1", alwaysPull: true }));
    assert.deepEqual(engine.routes(), [
      "POST /images/create",
      "POST /containers/create",
      "POST /containers/c0ffee/start",
    ]);
  });

  test("a missing image is pulled with its tag, defaulting to latest, and with registry auth", async (t) => {
    const engine = await fakeEngine(t, { localImage: "other" });
    const registryAuth = { user: "gofer", pass: "s3cr3t/+=" };
    await engine.scheduler.start(specFor("a", { image: "registry.example:5000/team/app", registryAuth }));
    await engine.scheduler.start(specFor("b", { image: "team/app:2.1" }));
    await engine.scheduler.start(specFor("c", { image: "team/app@sha256:abcd" }));

    const pulls = engine.requests.filter((r) => r.url.pathname === "/images/create");
    assert.deepEqual(
      pulls.map((r) => [r.url.searchParams.get("fromImage"), r.url.searchParams.get("tag")]),
      [
        ["registry.example:5000/team/app", "latest"],
        ["team/app", "2.1"],
        ["team/app", "sha256:abcd"],
      ],
    );
    const header = pulls[0]?.headers["x-registry-auth"];
    assert.equal(typeof header, "string");
    assert.deepEqual(JSON.parse(Buffer.from(String(header), "base64url").toString()), {
      username: "gofer",
      password: "s3cr3t/+=",
    });
    assert.equal(pulls[1]?.headers["x-registry-auth"], undefined);
    // Each: the create refused for the missing image, the image looked up, pulled, and the create made again.
    assert.deepEqual(engine.routes().slice(0, 5), [
      "POST /containers/create",
      "GET /images/registry.example:5000/team/app/json",
      "POST /images/create",
      "POST /containers/create",
      "POST /containers/c0ffee/start",
    ]);
  });

  test("a create refused with a 404 about something other than the image pulls nothing", async (t) => {
    const engine = await fakeEngine(t, {
      localImage: "local/image:1",
      createNotFound: "network gofer-net not found",
    });
    await assert.rejects(
      engine.scheduler.start(specFor("a", { image: "local/image:1" })),
      (error: unknown) => {
        assert.ok(error instanceof SchedulerError);
        assert.equal(error.message, 'could not create container "a": network gofer-net not found');
        return true;
      },
    );
    assert.deepEqual(engine.routes(), ["POST /containers/create", "GET /images/local/image:1/json"]);
  });

  test("an error inside a 200 pull stream fails the start with the engine's message", async (t) => {
    const engine = await fakeEngine(t, {
      localImage: "other",
      pullError: "manifest for team/app:9 not found",
    });
    await assert.rejects(engine.scheduler.start(specFor("a", { image: "team/app:9" })), (error: unknown) => {
      assert.ok(error instanceof SchedulerError);
      assert.equal(error.message, 'could not pull image "team/app:9": manifest for team/app:9 not found');
      return true;
    });
    assert.deepEqual(engine.routes(), [
      "POST /containers/create",
      "GET /images/team/app:9/json",
      "POST /images/create",
    ]);
  });
});

function timestampedFrame(stream: 1 | 2, timestamp: string, text: string): Buffer {
  const payload = Buffer.from(`${timestamp} ${text}`);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe("following logs against a fake engine", () => {
  const t1 = "2024-05-06T07:08:09.000000001Z";
  const t2 = "2024-05-06T07:08:09.500000000Z";
  const t3 = "2024-05-06T07:08:10.000000000Z";

  test("output the follow stream missed is read afterwards, without repeating what it delivered", async (t) => {
    const engine = await fakeEngine(t, {
      localImage: "other",
      followed: [
        timestampedFrame(1, t1, "a\n"),
        timestampedFrame(2, t2, "b\n"),
        timestampedFrame(1, t2, "c\n"),
      ],
      // What the engine answers for since=t1: everything from t1 on, in stream order.
      stored: [
        timestampedFrame(1, t1, "a\n"),
        timestampedFrame(2, t2, "b\n"),
        timestampedFrame(1, t2, "c\n"),
        timestampedFrame(1, t3, "tail"),
      ],
    });
    const chunks: string[] = [];
    for await (const chunk of engine.scheduler.logs("c0ffee", {
      follow: true,
      sinceMs: 1_700_000_000_123.5,
    })) {
      chunks.push(`${chunk.stream}:${chunk.data}`);
    }
    assert.deepEqual(chunks, ["stdout:a\n", "stderr:b\n", "stdout:c\n", "stdout:tail"]);
    const sinces = engine.requests.map((r) => [
      r.url.searchParams.get("follow"),
      r.url.searchParams.get("since"),
    ]);
    // No stamp it delivered is a second older than the newest, so the rest is read from the caller's start.
    assert.deepEqual(sinces, [
      ["1", "1700000000.123500000"],
      ["0", "1700000000.123500000"],
    ]);
  });

  test("a stamp earlier than the one before it is neither lost nor repeated when reading resumes", async (t) => {
    // The engine stamps stdout and stderr pieces before they take turns at the log file, so a piece can carry
    // an earlier stamp than its predecessor; resuming at the last stamp would skip it.
    const early = "2024-05-06T07:08:09.400000000Z";
    const engine = await fakeEngine(t, {
      localImage: "other",
      followed: [timestampedFrame(1, t2, "a\n"), timestampedFrame(2, early, "b\n")],
      stored: [
        timestampedFrame(1, t2, "a\n"),
        timestampedFrame(2, early, "b\n"),
        timestampedFrame(1, t3, "c\n"),
      ],
    });
    const chunks: string[] = [];
    for await (const chunk of engine.scheduler.logs("c0ffee", { follow: true })) chunks.push(`${chunk.data}`);
    assert.deepEqual(chunks, ["a\n", "b\n", "c\n"]);
    // Neither stamp is a second older than the newest: the rest is read from the first byte, skipping a and b.
    assert.equal(engine.requests[1]?.url.searchParams.get("since"), null);
  });

  test("a reader resuming after a position skips exactly what that position had delivered", async (t) => {
    const frames = [
      timestampedFrame(1, t1, "a\n"),
      timestampedFrame(2, t2, "b\n"),
      timestampedFrame(1, t2, "c\n"),
      timestampedFrame(1, t3, "d\n"),
    ];
    const engine = await fakeEngine(t, { localImage: "other", followed: frames, stored: frames });
    const first: LogChunk[] = [];
    for await (const chunk of engine.scheduler.logs("c0ffee", { follow: false })) first.push(chunk);
    const afterB = first[1]?.position;
    assert.ok(afterB, "every chunk carries its position");
    const resumed: string[] = [];
    for await (const chunk of engine.scheduler.logs("c0ffee", { follow: false, after: afterB }))
      resumed.push(`${chunk.data}`);
    assert.deepEqual(resumed, ["c\n", "d\n"]);
    assert.deepEqual(afterB, { stdout: 2, stderr: 2 });
    assert.equal(engine.requests[1]?.url.searchParams.get("since"), null);
  });

  test("when the follow stream delivered nothing, the read afterwards starts at the caller's sinceMs", async (t) => {
    const engine = await fakeEngine(t, {
      localImage: "other",
      followed: [],
      stored: [timestampedFrame(1, t3, "x")],
    });
    const chunks: string[] = [];
    for await (const chunk of engine.scheduler.logs("c0ffee", { follow: true }))
      chunks.push(chunk.data.toString());
    assert.deepEqual(chunks, ["x"]);
    assert.deepEqual(
      engine.requests.map((r) => r.url.searchParams.get("since")),
      [null, null],
    );
  });
});
