/**
 * The load balancer the replica tests put in front of several servers (support/haproxy.ts): a real haproxy spreads
 * requests over two tiny HTTP servers round-robin, and when one of them dies every request still gets an answer:
 * at first because a connection the dead one refuses is retried on the other (unless a health check noticed first),
 * then because the health check took the dead one out. With `httpCheckPath` an HTTP check decides instead.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { it } from "node:test";
import { type LoadBalancer, startLoadBalancer } from "./support/haproxy.ts";
import { waitFor } from "./support/wait-for.ts";

it("spreads requests over the backends and routes around a dead one", { timeout: 60_000 }, async () => {
  const beta = await startNamedServer("beta");
  const backends = [await startNamedServer("alpha"), beta];
  let balancer: LoadBalancer | undefined;
  try {
    balancer = await startLoadBalancer({
      backends: backends.map(({ name, url }) => ({ name, url })),
    });
    await balancer.waitUntilReady(10_000);
    assert.match(balancer.url, /^http:\/\/127\.0\.0\.1:\d+$/);

    const first = await askMany(balancer.url, 6);
    assert.deepEqual(count(first), { alpha: 3, beta: 3 }, `round-robin over both: ${first.join(", ")}`);

    // Before any health check notices: the connection beta refuses is retried on alpha.
    await beta.close();
    const right = await askMany(balancer.url, 6);
    assert.deepEqual(count(right), { alpha: 6 }, `every request answered by alpha: ${right.join(", ")}`);

    // Two missed checks 500 ms apart take beta out; requests keep being answered.
    const b = balancer;
    await waitFor("haproxy to mark beta down", 10_000, async () =>
      /replicas\/beta is DOWN/.test(b.log()) ? true : undefined,
    );
    const later = await askMany(balancer.url, 4);
    assert.deepEqual(count(later), { alpha: 4 });
    assert.match(balancer.log(), /GET \/ HTTP\/1\.1/, "haproxy logs the requests it forwards");
  } finally {
    await balancer?.stop();
    for (const backend of backends) await backend.close();
  }
  const pid = balancer?.pid ?? 0;
  assert.throws(() => process.kill(pid, 0), { code: "ESRCH" }, "haproxy is gone after stop()");
});

it("takes a backend out whose HTTP health check fails", { timeout: 30_000 }, async () => {
  const backends = [await startNamedServer("alpha"), await startNamedServer("beta", { healthy: false })];
  let balancer: LoadBalancer | undefined;
  try {
    balancer = await startLoadBalancer({
      backends: backends.map(({ name, url }) => ({ name, url })),
      httpCheckPath: "/healthz",
    });
    await balancer.waitUntilReady(10_000);
    const b = balancer;
    await waitFor("haproxy to mark beta down", 10_000, async () =>
      /replicas\/beta is DOWN.*Layer7 wrong status/.test(b.log()) ? true : undefined,
    );
    const answers = await askMany(balancer.url, 4);
    assert.deepEqual(count(answers), { alpha: 4 }, `beta answers no requests: ${answers.join(", ")}`);
  } finally {
    await balancer?.stop();
    for (const backend of backends) await backend.close();
  }
});

interface NamedServer {
  name: string;
  url: string;
  close(): Promise<void>;
}

/**
 * An HTTP server on a loopback port that answers every request with its own name, except `/healthz`, which
 * answers 503 when it is not `healthy`.
 */
async function startNamedServer(name: string, { healthy = true } = {}): Promise<NamedServer> {
  const server = http.createServer((request, response) => {
    response.setHeader("content-type", "text/plain");
    if (request.url === "/healthz") response.statusCode = healthy ? 200 : 503;
    response.end(name);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

/** `n` requests one after the other, each on a connection of its own; the answers in order. */
async function askMany(url: string, n: number): Promise<string[]> {
  const answers: string[] = [];
  for (let i = 0; i < n; i++) answers.push(await ask(url));
  return answers;
}

function ask(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, timeout: 5_000 }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        body += chunk;
      });
      response.on("end", () => {
        if (response.statusCode === 200) resolve(body);
        else reject(new Error(`GET ${url}: ${response.statusCode} ${body}`));
      });
      response.on("error", reject);
    });
    request.on("timeout", () => request.destroy(new Error(`GET ${url}: no answer within 5 s`)));
    request.on("error", reject);
  });
}

function count(answers: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const answer of answers) counts[answer] = (counts[answer] ?? 0) + 1;
  return counts;
}
