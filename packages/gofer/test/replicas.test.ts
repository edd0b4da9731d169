/**
 * Several replicas on one PostgreSQL database and one engine, behind haproxy (support/replica-cluster.ts), as
 * real processes:
 * - any replica answers: a follower serves reads and hands changes (and extension state) to the leader;
 * - a log line captured by the leader is followed live through the followers, and the leader's events reach a
 *   follower's event stream;
 * - `kill -9` of the leader mid-run: another replica takes the lease and adopts the running task (no second
 *   container), every line reaches every follower exactly once and in order, and the run ends as it should;
 * - the killed replica comes back as a follower; the CLI works through the load balancer.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import WebSocket from "ws";
import { type EventWatch, listContainers, watchEvents } from "../../../scripts/chaos/engine.ts";
import { apiCall } from "./support/api-call.ts";
import { runGofer } from "./support/cli.ts";
import { shTask } from "./support/pipelines.ts";
import { type PrivatePostgres, startPrivatePostgres } from "./support/private-postgres.ts";
import { type ReplicaCluster, startReplicaCluster } from "./support/replica-cluster.ts";

const LEASE_SECONDS = 3;
const LINES = 500;
const NS = "default";

describe("replicas behind a load balancer", { timeout: 240_000 }, () => {
  let postgres: PrivatePostgres | undefined;
  let cluster: ReplicaCluster | undefined;
  let databaseUrl = "";
  let token = "";
  let instanceId = "";

  const call = (base: string, method: string, path: string, body?: unknown) =>
    apiCall(base, token, method, path, body);
  const replicaUrl = (index: number) => (cluster as ReplicaCluster).replicas[index]?.url ?? "";

  before(async () => {
    postgres = await startPrivatePostgres();
    databaseUrl = await postgres.createDatabase("gofer_replicas");
    cluster = await startReplicaCluster({
      databaseUrl,
      count: 3,
      leaseTimeoutSeconds: LEASE_SECONDS,
      settings: { GOFER_WEB_API__LOG_LEVEL: "info" },
    });
    const bootstrap = await call(cluster.url, "POST", "/api/tokens/bootstrap");
    assert.equal(bootstrap.status, 201, bootstrap.text);
    token = bootstrap.json.secret;
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      instanceId = (await client.query("select instance_id from system")).rows[0].instance_id;
    } finally {
      await client.end();
    }
  });

  after(async () => {
    const leftover = instanceId ? await listContainers(`gofer.instance=${instanceId}`) : [];
    await cluster?.stop();
    await postgres?.stop();
    assert.deepEqual(
      leftover.map((container) => container.Id),
      [],
      "no container is left",
    );
  });

  it("any replica answers: followers serve reads and hand changes to the leader", async () => {
    const listing = await call(replicaUrl(1), "GET", "/api/system/replicas");
    assert.equal(listing.status, 200, listing.text);
    assert.equal(listing.json.storage, "postgres");
    assert.equal(listing.json.replicas.length, 3);
    const states = listing.json.replicas.map((replica: { state: string }) => replica.state).sort();
    assert.deepEqual(states, ["follower", "follower", "leader"]);
    const leader = listing.json.replicas.find((replica: { state: string }) => replica.state === "leader");
    assert.equal(leader.url, replicaUrl(0), "the first replica started leads");
    assert.ok(leader.owns, "the leader says what it owns");
    assert.equal(listing.json.replicas.filter((replica: { self: boolean }) => replica.self).length, 1);

    // A change sent to a follower is made by the leader.
    const config = {
      id: "numbers",
      name: "numbers",
      description: null,
      parallelism: 0,
      tasks: [
        shTask("numbers", `i=1; while [ $i -le ${LINES} ]; do echo "line $i"; i=$((i+1)); sleep 0.02; done`),
        shTask("fan-1", "echo one"),
        shTask("fan-2", "echo two"),
        shTask("after", "echo after", { depends_on: { numbers: "success", "fan-1": "success" } }),
      ],
    };
    const registered = await call(replicaUrl(2), "POST", `/api/namespaces/${NS}/pipelines/numbers/configs`, {
      config,
    });
    assert.equal(registered.status, 201, registered.text);
    const deployed = await call(replicaUrl(2), "POST", `/api/namespaces/${NS}/pipelines/numbers/configs/1`);
    assert.equal(deployed.status, 201, deployed.text);
    // The leader's audit trail names the follower that handed it the change (as claimed by the request) and where
    // the follower saw it come from; the address it is sure of is the follower's own.
    const follower = listing.json.replicas.find((replica: { url: string }) => replica.url === replicaUrl(2));
    const trail = await call(replicaUrl(0), "GET", `/api/audit?target=namespaces/${NS}/pipelines/numbers`);
    assert.equal(trail.status, 200, trail.text);
    assert.deepEqual(
      trail.json.audit.map((row: Record<string, unknown>) => [
        row.operation,
        row.forwarded_by,
        row.client_address,
        row.forwarded_for,
      ]),
      [
        ["deploy_config", follower.id, "127.0.0.1", "127.0.0.1"],
        ["register_config", follower.id, "127.0.0.1", "127.0.0.1"],
      ],
    );
    // Extension state lives with the leader: a follower forwards the read.
    const extensions = await call(replicaUrl(1), "GET", "/api/extensions");
    assert.equal(extensions.status, 200, extensions.text);
    // A follower forwards only paths, to the leader: an absolute-form target is refused, never fetched.
    const canary = createServer((_request, response) => {
      canaryHits += 1;
      response.end("canary");
    });
    let canaryHits = 0;
    await new Promise<void>((resolve) => canary.listen(0, "127.0.0.1", resolve));
    const canaryPort = (canary.address() as AddressInfo).port;
    try {
      for (const target of [`http://127.0.0.1:${canaryPort}/steal`, `//127.0.0.1:${canaryPort}/steal`]) {
        const answer = await rawRequest(
          replicaUrl(1),
          `POST ${target} HTTP/1.1\r\nHost: x\r\ngofer-api-version: v0\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`,
        );
        assert.doesNotMatch(answer, /canary/, `${target} was not fetched`);
      }
      assert.equal(canaryHits, 0);
    } finally {
      canary.close();
    }
    // A chunked body is framed again for the leader: the change arrives whole and answers on its own.
    const smuggled = "POST /api/tokens HTTP/1.1\r\ncontent-length: 99\r\n\r\n";
    const chunked = await rawRequest(
      replicaUrl(2),
      `DELETE /api/namespaces/${NS}/pipelines/no-such-pipeline HTTP/1.1\r\nHost: x\r\ngofer-api-version: v0\r\n` +
        `authorization: Bearer ${token}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n` +
        `${Buffer.byteLength(smuggled).toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`,
    );
    // The leader read the chunked bytes as this request's body (a body that is no JSON: 415), not as a request.
    assert.match(chunked, /^HTTP\/1\.1 415/);
    assert.match(chunked, /"error_code":"UNSUPPORTED_MEDIA_TYPE"/);
    assert.equal((chunked.match(/HTTP\/1\.1 /g) ?? []).length, 1, "one answer, to the one request sent");
    // Bad input still gets the v0 envelope through a follower (the leader answers it).
    const malformed = await call(replicaUrl(1), "POST", `/api/namespaces/${NS}/pipelines/numbers/runs`, "[");
    assert.equal(malformed.status, 400, malformed.text);
    assert.equal(malformed.json.error_code, "BAD_REQUEST");
    assert.ok(malformed.json.request_id);
  });

  it("survives kill -9 of the leader mid-run: adopted within the lease, every line once, no second start", async (t) => {
    const c = cluster as ReplicaCluster;
    const containers: EventWatch = await watchEvents(Math.floor(Date.now() / 1000) - 1, {
      type: ["container"],
      label: [`gofer.instance=${instanceId}`],
    });
    const events = collectEvents(replicaUrl(1), token);
    try {
      const started = await call(c.url, "POST", `/api/namespaces/${NS}/pipelines/numbers/runs`, {
        variables: {},
      });
      assert.equal(started.status, 201, started.text);
      const runId: number = started.json.run.run_id;
      const logPath = `/api/namespaces/${NS}/pipelines/numbers/runs/${runId}/tasks/numbers/logs?follow=true`;
      // Followers on both followers, from the start of the log.
      await waitFor(
        async () => {
          const task = await call(
            replicaUrl(1),
            "GET",
            `/api/namespaces/${NS}/pipelines/numbers/runs/${runId}/tasks/numbers`,
          );
          return task.json?.task_execution?.state === "running";
        },
        30_000,
        "the numbers task to run",
      );
      const follows = [1, 2].map((index) => followLog(`${replicaUrl(index)}${logPath}`, token));
      await waitFor(
        async () => follows.every((follow) => follow.lines.length >= 50),
        30_000,
        "50 lines followed",
      );

      const killedAt = Date.now();
      await c.replicas[0]?.kill();
      let adoptedAt = 0;
      await waitFor(
        async () => {
          const listing = await call(replicaUrl(1), "GET", "/api/system/replicas");
          const leader = listing.json?.replicas?.find(
            (replica: { state: string }) => replica.state === "leader",
          );
          if (leader && leader.url !== replicaUrl(0)) adoptedAt = Date.now();
          return adoptedAt > 0;
        },
        30_000,
        "another replica to lead",
      );
      const takeover = adoptedAt - killedAt;
      t.diagnostic(`kill -9 of the leader to another replica serving as leader: ${takeover} ms`);
      // Lease timeout + one heartbeat (a third of it) + the takeover's recovery; polled every 100 ms.
      assert.ok(takeover < ((LEASE_SECONDS * 4) / 3) * 1000 + 5_000, `taken over in ${takeover} ms`);

      const done = await waitFor(
        async () => {
          const run = await call(c.url, "GET", `/api/namespaces/${NS}/pipelines/numbers/runs/${runId}`);
          return run.json?.run?.state === "complete" ? run.json.run : undefined;
        },
        90_000,
        "the run to complete",
      );
      assert.equal(done.status, "successful", JSON.stringify(done));
      const expected = Array.from({ length: LINES }, (_, i) => `line ${i + 1}`);
      for (const follow of follows) {
        await follow.ended;
        assert.deepEqual(follow.lines, expected, "every line once, in order, through a follower");
      }
      const whole = await call(c.url, "GET", logPath.replace("?follow=true", ""));
      assert.deepEqual(whole.text.trimEnd().split("\n"), expected);

      // One container per task: the adopted one was never started again.
      const creates = containers.events.filter(
        (event) => event.Action === "create" && event.Actor.Attributes["gofer.run"] === String(runId),
      );
      const perTask = new Map<string, number>();
      for (const event of creates) {
        const task = event.Actor.Attributes["gofer.task"] ?? "?";
        perTask.set(task, (perTask.get(task) ?? 0) + 1);
      }
      assert.deepEqual(Object.fromEntries([...perTask].sort()), {
        after: 1,
        "fan-1": 1,
        "fan-2": 1,
        numbers: 1,
      });

      // The leader's events reached the follower's stream, once each and in order.
      await waitFor(
        async () => events.seen.some((event) => "completed_run" in event.kind),
        10_000,
        "completed_run",
      );
      const ids = events.seen.map((event) => Number(event.id));
      assert.deepEqual(
        ids,
        [...new Set(ids)].sort((a, b) => a - b),
        "ids once each, increasing",
      );

      // The killed replica comes back, as a follower.
      await c.restart(0);
      await waitFor(
        async () => {
          const listing = await call(c.url, "GET", "/api/system/replicas");
          const first = listing.json?.replicas?.filter(
            (replica: { url: string; state: string }) =>
              replica.url === replicaUrl(0) && replica.state === "follower",
          );
          return first?.length === 1;
        },
        30_000,
        "the restarted replica to follow",
      );
    } finally {
      events.close();
      containers.close();
    }
  });

  it("a new leader adopts a healthy extension without restarting it; the extension keeps starting runs", async (t) => {
    const c = cluster as ReplicaCluster;
    const installed = await call(c.url, "POST", "/api/extensions", {
      id: "interval",
      image: "gofer/extension-interval:latest",
      settings: { min_interval: "1s" },
    });
    assert.equal(installed.status, 201, installed.text);
    assert.equal(installed.json.extension.state, "running");
    const ticks = {
      id: "ticks",
      name: "ticks",
      description: null,
      parallelism: 1,
      tasks: [shTask("tick", "echo tick")],
    };
    const base = `/api/namespaces/${NS}/pipelines/ticks`;
    assert.equal((await call(c.url, "POST", `${base}/configs`, { config: ticks })).status, 201);
    assert.equal((await call(c.url, "POST", `${base}/configs/1`)).status, 201);
    const subscribed = await call(c.url, "POST", `${base}/subscriptions`, {
      extension_id: "interval",
      subscription_id: "every-two",
      settings: { every: "2s" },
    });
    assert.equal(subscribed.status, 201, subscribed.text);
    const extensionContainers = async () =>
      (await listContainers(`gofer.extension=interval`))
        .filter((container) => container.Labels["gofer.instance"] === instanceId)
        .map((container) => `${container.Id}:${container.State}`);
    const before = await extensionContainers();
    assert.equal(before.length, 1, before.join(", "));
    const runCount = async () =>
      ((await call(c.url, "GET", `${base}/runs?limit=200`)).json?.runs ?? []).length;
    await waitFor(async () => (await runCount()) >= 1, 20_000, "the extension's first run");

    const listing = await call(c.url, "GET", "/api/system/replicas");
    const leaderUrl = listing.json.replicas.find(
      (replica: { state: string }) => replica.state === "leader",
    ).url;
    const leaderIndex = c.replicas.findIndex((replica) => replica.url === leaderUrl);
    assert.ok(leaderIndex >= 0);
    await c.replicas[leaderIndex]?.kill();
    const killedAt = Date.now();
    await waitFor(
      async () => {
        const now = await call(c.url, "GET", "/api/system/replicas");
        const leader = now.json?.replicas?.find((replica: { state: string }) => replica.state === "leader");
        return leader && leader.url !== leaderUrl;
      },
      30_000,
      "another replica to lead",
    );
    t.diagnostic(`kill -9 of the leader to another leading, with an extension: ${Date.now() - killedAt} ms`);
    // The new leader serves before its extensions are settled (adoption runs in the background, as at any
    // start): the extension is `processing` until its health check answers.
    const extension = await waitFor(
      async () => {
        const answer = await call(c.url, "GET", "/api/extensions/interval");
        return answer.json?.extension?.state === "running" ? answer : undefined;
      },
      15_000,
      "the adopted extension to be running",
    );
    assert.equal(extension.json.extension.restarts, 0, extension.text);
    assert.deepEqual(
      await extensionContainers(),
      before,
      "the same container, still running: adopted, not restarted",
    );
    const runsAtTakeover = await runCount();
    await waitFor(
      async () => (await runCount()) > runsAtTakeover,
      20_000,
      "a run started by the adopted extension",
    );

    // An extension's log followed over a WebSocket through a follower: the upgrade is tunnelled to the leader.
    const current = await call(c.url, "GET", "/api/system/replicas");
    const newLeaderUrl = current.json.replicas.find(
      (replica: { state: string }) => replica.state === "leader",
    ).url;
    const followerIndex = c.replicas.findIndex(
      (replica, index) => index !== leaderIndex && replica.running && replica.url !== newLeaderUrl,
    );
    assert.ok(followerIndex >= 0, "a follower is up");
    const frames = await new Promise<string[]>((resolve, reject) => {
      const seen: string[] = [];
      const socket = new WebSocket(
        `${replicaUrl(followerIndex).replace(/^http/, "ws")}/api/extensions/interval/logs`,
        {
          headers: { "gofer-api-version": "v0", authorization: `Bearer ${token}` },
        },
      );
      const timer = setTimeout(() => {
        socket.terminate();
        resolve(seen);
      }, 3_000);
      socket.on("message", (data) => seen.push(String(data)));
      socket.on("unexpected-response", (_request, response) => {
        clearTimeout(timer);
        reject(new Error(`the upgrade was refused with HTTP ${response.statusCode}`));
      });
      socket.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    assert.ok(frames.join("").length > 0, "the extension's output arrived through the follower");

    const uninstalled = await call(c.url, "DELETE", "/api/extensions/interval");
    assert.equal(uninstalled.status, 204, uninstalled.text);
    assert.deepEqual(await extensionContainers(), []);
    await waitFor(
      async () => {
        const runs = (await call(c.url, "GET", `${base}/runs?limit=200`)).json?.runs ?? [];
        return runs.every((run: { state: string }) => run.state === "complete");
      },
      30_000,
      "the ticks runs to finish",
    );
    await c.restart(leaderIndex);
  });

  it("the CLI works through the load balancer", async () => {
    const env = { GOFER_API_BASE_URL: (cluster as ReplicaCluster).url, GOFER_TOKEN: token };
    const started = await runGofer(["run", "start", "numbers", "--output", "json"], { env });
    assert.equal(started.code, 0, started.stderr);
    const runId = (JSON.parse(started.stdout) as { run_id: number }).run_id;
    const listed = await runGofer(["run", "list", "numbers"], { env });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`\\b${runId}\\b`));
    const replicas = await runGofer(["service", "replicas"], { env });
    assert.equal(replicas.code, 0, replicas.stderr);
    assert.match(replicas.stdout, /leader/);
    assert.match(replicas.stdout, /follower/);
    const watched = await runGofer(["run", "watch", "numbers", String(runId)], {
      env,
      timeoutMs: 90_000,
    });
    assert.equal(watched.code, 0, watched.stderr);
  });
});

/** Sends raw bytes (for requests `fetch` will not make) and answers everything read until the server closes. */
function rawRequest(base: string, text: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(text));
    let answer = "";
    socket.setEncoding("utf8");
    socket.setTimeout(15_000, () => socket.destroy(new Error("no answer within 15 s")));
    socket.on("data", (chunk: string) => {
      answer += chunk;
    });
    socket.on("close", () => resolve(answer));
    socket.on("error", reject);
  });
}

async function waitFor<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check().catch(() => undefined);
    if (result) return result as T;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Follows a log over plain HTTP, collecting whole lines until the server ends it. */
function followLog(url: string, token: string): { lines: string[]; ended: Promise<void> } {
  const lines: string[] = [];
  const ended = (async () => {
    const response = await fetch(url, {
      headers: { "gofer-api-version": "v0", authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(120_000),
    });
    assert.equal(response.status, 200);
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      pending += decoder.decode(chunk, { stream: true });
      const parts = pending.split("\n");
      pending = parts.pop() ?? "";
      lines.push(...parts);
    }
    if (pending) lines.push(pending);
  })();
  ended.catch(() => undefined);
  return { lines, ended };
}

function collectEvents(
  base: string,
  token: string,
): { seen: Array<{ id: number | string; kind: Record<string, unknown> }>; close(): void } {
  const seen: Array<{ id: number | string; kind: Record<string, unknown> }> = [];
  const socket = new WebSocket(`${base.replace(/^http/, "ws")}/api/events`, {
    headers: { "gofer-api-version": "v0", authorization: `Bearer ${token}` },
  });
  socket.on("message", (data) => seen.push(JSON.parse(String(data))));
  socket.on("error", () => undefined);
  return { seen, close: () => socket.terminate() };
}
