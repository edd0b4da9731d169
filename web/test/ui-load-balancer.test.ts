/**
 * The web UI through a load balancer: two real replicas (`gofer service start`) on one PostgreSQL database behind
 * haproxy, round-robin, so consecutive requests of one page land on different replicas. The Replicas view shows
 * both (one leading, one following) and which one answered each refresh; a run started from the UI (the change is
 * forwarded to the leader) finishes on its page with its log, read through whichever replica answers.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, afterEach, before, describe, it } from "node:test";
import pg from "pg";
import type { Browser, Page } from "playwright-core";
import { apiCall } from "../../packages/gofer/test/support/api-call.ts";
import { pipelineConfig, shTask } from "../../packages/gofer/test/support/pipelines.ts";
import {
  type PrivatePostgres,
  startPrivatePostgres,
} from "../../packages/gofer/test/support/private-postgres.ts";
import {
  type ReplicaCluster,
  startReplicaCluster,
} from "../../packages/gofer/test/support/replica-cluster.ts";
import { listContainers } from "../../scripts/chaos/engine.ts";
import { launchBrowser, openPage, screenshot, signIn } from "./support/browser.ts";

const PIPELINE = pipelineConfig("greeter", [
  shTask("greet", "for i in 1 2 3 4 5; do echo hello-$i; sleep 0.4; done"),
]);

describe("the web UI through a load balancer in front of two replicas", { timeout: 240_000 }, () => {
  let postgres: PrivatePostgres | undefined;
  let cluster: ReplicaCluster | undefined;
  let browser: Browser | undefined;
  let token = "";
  let instanceId = "";

  /** A call through the load balancer, or straight to `base` (a replica), which haproxy's log then leaves out. */
  const call = (method: string, path: string, body?: unknown, base = (cluster as ReplicaCluster).url) =>
    apiCall(base, token, method, path, body);

  /** Which backend haproxy sent each request for a path under `prefix` to, in order. */
  const backendsFor = (prefix: string): string[] =>
    (cluster as ReplicaCluster).balancer
      .log()
      .split("\n")
      .filter((line) => line.includes(`"GET ${prefix}`))
      .map((line) => /\breplicas\/(replica-\d+)\b/.exec(line)?.[1] ?? "?");

  before(async () => {
    postgres = await startPrivatePostgres();
    const databaseUrl = await postgres.createDatabase("web_replicas");
    // Nothing here tests a takeover, so the lease is long enough that a busy machine does not lose it by accident.
    cluster = await startReplicaCluster({ databaseUrl, count: 2, leaseTimeoutSeconds: 15 });
    // startReplicaCluster returns once a replica serves as leader: changes are taken at once.
    const bootstrap = await call("POST", "/api/tokens/bootstrap");
    assert.equal(bootstrap.status, 201, bootstrap.text);
    token = bootstrap.json.secret;
    const base = `/api/namespaces/default/pipelines/${PIPELINE.id}`;
    const registered = await call("POST", `${base}/configs`, { config: PIPELINE });
    assert.equal(registered.status, 201, registered.text);
    const deployed = await call("POST", `${base}/configs/1`);
    assert.equal(deployed.status, 201, deployed.text);
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      instanceId = (await client.query("select instance_id from system")).rows[0].instance_id;
    } finally {
      await client.end();
    }
    browser = await launchBrowser();
  });

  // A failure here is often the cluster's, not the page's: show what haproxy and each replica said.
  afterEach((t) => {
    // Node sets `passed` on a test's context too; the pinned @types/node declares it on suites only.
    if ((t as unknown as { passed?: boolean }).passed !== false || !cluster) return;
    const tail = (text: string) => text.trimEnd().split("\n").slice(-30).join("\n");
    console.log(`haproxy:\n${tail(cluster.balancer.log())}`);
    for (const [index, replica] of cluster.replicas.entries()) {
      let log = "";
      try {
        log = readFileSync(replica.logPath, "utf8");
      } catch {
        log = "(no log)";
      }
      console.log(`replica-${index + 1} (${replica.url}):\n${tail(log)}`);
    }
  });

  after(async () => {
    await browser?.close();
    const leftover = instanceId ? await listContainers(`gofer.instance=${instanceId}`) : [];
    await cluster?.stop();
    await postgres?.stop();
    assert.deepEqual(
      leftover.map((container) => container.Id),
      [],
      "no container is left",
    );
  });

  async function signedInPage(path: string): Promise<Awaited<ReturnType<typeof openPage>>> {
    const opened = await openPage(browser as Browser);
    await opened.page.goto(`${(cluster as ReplicaCluster).url}${path}`);
    await signIn(opened.page, token);
    return opened;
  }

  const answeringReplica = (page: Page) =>
    page
      .locator("table.replicas tbody tr", { has: page.locator(".self-mark") })
      .getAttribute("data-replica-id");

  it("shows both replicas, one leading and one following, and which one answered each refresh", async () => {
    const c = cluster as ReplicaCluster;
    const { page, context, errors } = await signedInPage("/namespaces/default");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Replicas" }).click();
    const rows = page.locator("table.replicas tbody tr");
    await rows.nth(1).waitFor();
    assert.equal(await rows.count(), 2);
    // The leader is listed first.
    assert.deepEqual(
      await rows.evaluateAll((elements) =>
        elements.map((element) => (element as unknown as { dataset: { state: string } }).dataset.state),
      ),
      ["leader", "follower"],
    );
    const leader = rows.first();
    assert.equal(await leader.locator(".pill").textContent(), "leader");
    await leader.getByText(c.replicas[0]?.url ?? "?", { exact: true }).waitFor();
    await leader.getByText(/\d+ runs?, \d+ tasks?, \d+ extensions?/).waitFor();
    assert.equal(await rows.nth(1).locator("td").last().textContent(), "–", "a follower owns nothing");
    assert.equal(await page.locator(".self-mark").count(), 1, "one replica answered");

    const listing = await call("GET", "/api/system/replicas", undefined, c.replicas[1]?.url);
    assert.equal(listing.status, 200, listing.text);
    const facts = page.getByRole("list", { name: "Lease" });
    await facts.getByText("Storage: PostgreSQL").waitFor();
    await facts
      .getByText(`lease term ${listing.json.lease.term}, held by ${listing.json.lease.holder.slice(0, 8)}`)
      .waitFor();
    await facts.getByText("serving", { exact: true }).waitFor();
    await facts.getByText(/^expires in /).waitFor();
    await screenshot(page, "replicas-cluster");

    // Refreshes land on the other replica in turn: the "this replica" mark moves.
    const first = await answeringReplica(page);
    const deadline = Date.now() + 20_000;
    let moved = first;
    while (moved === first && Date.now() < deadline) {
      await page.waitForTimeout(500);
      moved = await answeringReplica(page);
    }
    assert.notEqual(moved, first, "a later refresh was answered by the other replica");
    assert.deepEqual(
      [...new Set(backendsFor("/api/system/replicas"))].sort(),
      ["replica-1", "replica-2"],
      "haproxy sent the page's refreshes to both replicas",
    );
    assert.deepEqual(errors, []);
    await context.close();
  });

  it("starts a run from the UI and shows it finish with its log, whichever replica answers", async () => {
    const { page, context, errors } = await signedInPage(`/namespaces/default/pipelines/${PIPELINE.id}`);
    await page.getByRole("heading", { name: `Pipeline ${PIPELINE.id}` }).waitFor();
    await page.getByRole("button", { name: "Start run" }).click();
    await page.getByRole("button", { name: "Start", exact: true }).click();
    await page.waitForURL(new RegExp(`/pipelines/${PIPELINE.id}/runs/1$`));
    const log = page.getByRole("log", { name: "Task log" });
    await page.locator('[data-testid="run-state"][data-status="successful"]').waitFor({ timeout: 60_000 });
    await log.locator(".log-line", { hasText: "hello-5" }).waitFor({ timeout: 30_000 });
    assert.deepEqual(await log.locator(".log-line").allTextContents(), [
      "hello-1",
      "hello-2",
      "hello-3",
      "hello-4",
      "hello-5",
    ]);
    await screenshot(page, "run-through-load-balancer");

    const run = await call(
      "GET",
      `/api/namespaces/default/pipelines/${PIPELINE.id}/runs/1`,
      undefined,
      cluster?.replicas[1]?.url,
    );
    assert.equal(run.json.run.status, "successful", run.text);
    // The page's reads of this pipeline were spread over both replicas, not pinned to one.
    const backends = backendsFor(`/api/namespaces/default/pipelines/${PIPELINE.id}`);
    assert.deepEqual([...new Set(backends)].sort(), ["replica-1", "replica-2"], backends.join(" "));
    assert.deepEqual(errors, []);
    await context.close();
  });
});
