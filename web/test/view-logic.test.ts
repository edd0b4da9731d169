/** The UI's pure logic, run in Node: graph layout, config diff, run statistics, task attempts, replicas. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type {
  ReplicaListing,
  ReplicaSummary,
  Run,
  TaskAttempt,
  TaskExecution,
} from "../../packages/sdk/src/client/wire-types.ts";
import { lineDiff } from "../src/diff/line-diff.ts";
import { ago, fromNow } from "../src/format.ts";
import { layoutDag, NODE_HEIGHT, NODE_WIDTH } from "../src/graph/layout.ts";
import { leaseFacts, orderReplicas, ownsText } from "../src/replicas/replica-facts.ts";
import { attemptSegments, describeRetries, retryCountdown } from "../src/runs/attempts.ts";
import { runStats } from "../src/runs/run-stats.ts";

describe("graph layout", () => {
  const dag = [
    { id: "checkout", parents: [] },
    { id: "build", parents: ["checkout"] },
    { id: "test", parents: ["checkout"] },
    { id: "publish", parents: ["build", "test"] },
    { id: "notify", parents: ["test"] },
    { id: "lint", parents: [] },
  ];

  it("puts every task right of its parents, with no two nodes overlapping", () => {
    const { nodes, width, height } = layoutDag(dag);
    assert.equal(nodes.size, dag.length);
    for (const task of dag) {
      const child = nodes.get(task.id);
      assert.ok(child);
      for (const parent of task.parents) assert.ok((nodes.get(parent)?.x ?? Infinity) + NODE_WIDTH < child.x);
      assert.ok(
        child.x >= 0 && child.y >= 0 && child.x + NODE_WIDTH <= width && child.y + NODE_HEIGHT <= height,
      );
    }
    const placed = [...nodes.values()];
    for (const a of placed)
      for (const b of placed) {
        if (a === b) continue;
        const apart =
          a.x + NODE_WIDTH <= b.x ||
          b.x + NODE_WIDTH <= a.x ||
          a.y + NODE_HEIGHT <= b.y ||
          b.y + NODE_HEIGHT <= a.y;
        assert.ok(apart, `${a.id} overlaps ${b.id}`);
      }
  });

  it("draws a graph with a cycle or an unknown parent instead of hanging", () => {
    const { nodes } = layoutDag([
      { id: "a", parents: ["b"] },
      { id: "b", parents: ["a", "missing"] },
    ]);
    assert.deepEqual([...nodes.keys()].sort(), ["a", "b"]);
  });
});

describe("config diff", () => {
  it("keeps common lines and marks only what changed", () => {
    const before = ["{", '  "image": "alpine:3.19",', '  "command": ["make"]', "}"];
    const after = ["{", '  "image": "alpine:3.20",', '  "command": ["make"]', '  "parallelism": 2', "}"];
    const diff = lineDiff(before, after);
    assert.deepEqual(
      diff.filter((line) => line.kind !== "same"),
      [
        { kind: "removed", text: '  "image": "alpine:3.19",' },
        { kind: "added", text: '  "image": "alpine:3.20",' },
        { kind: "added", text: '  "parallelism": 2' },
      ],
    );
    assert.deepEqual(
      diff.filter((line) => line.kind !== "added").map((line) => line.text),
      before,
    );
    assert.deepEqual(
      diff.filter((line) => line.kind !== "removed").map((line) => line.text),
      after,
    );
  });
});

describe("run statistics", () => {
  const run = (status: Run["status"], seconds: number, state: Run["state"] = "complete") =>
    ({ state, status, started: 1_000, ended: state === "complete" ? 1_000 + seconds * 1000 : 0 }) as Run;

  it("counts success over finished runs, leaving out cancelled and unfinished ones, and takes the median time", () => {
    const stats = runStats([
      run("successful", 10),
      run("failed", 30),
      run("successful", 20),
      run("cancelled", 1),
      run("unknown", 0, "running"),
    ]);
    assert.equal(stats.successRate, 2 / 3);
    assert.equal(stats.medianMs, 20_000);
    assert.deepEqual(runStats([]), { successRate: undefined, medianMs: undefined });
  });
});

describe("task attempts", () => {
  const attempt = (
    n: number,
    started: number,
    ended: number,
    status: TaskAttempt["status"],
  ): TaskAttempt => ({
    attempt: n,
    started,
    ended,
    exit_code: status === "failed" ? 3 : 0,
    status,
    status_reason: null,
  });
  const execution = (fields: Partial<TaskExecution>) =>
    ({
      attempt: 1,
      state: "complete",
      status: "successful",
      started: 0,
      ended: 0,
      ...fields,
    }) as TaskExecution;

  it("draws every attempt that ran, oldest first, the execution itself as the current one", () => {
    const running = execution({ attempt: 3, state: "running", status: "unknown", started: 5_000 });
    // The list's last entry (the current attempt) is stale: the execution is the truth for it.
    const listed = [
      attempt(1, 1_000, 2_000, "failed"),
      attempt(2, 3_000, 4_000, "failed"),
      attempt(3, 0, 0, "unknown"),
    ];
    assert.deepEqual(
      attemptSegments(running, listed, 6_000).map(({ attempt, started, finish, look, current }) => [
        attempt,
        started,
        finish,
        look,
        current,
      ]),
      [
        [1, 1_000, 2_000, "failed", false],
        [2, 3_000, 4_000, "failed", false],
        [3, 5_000, 6_000, "running", true],
      ],
    );
    const waiting = execution({ attempt: 2, state: "waiting", status: "unknown" });
    assert.deepEqual(
      attemptSegments(waiting, [attempt(1, 1_000, 2_000, "failed")], 3_000).map((segment) => segment.attempt),
      [1],
      "an attempt that has not started has no bar",
    );
  });

  it("counts down while a retry waits, and not once the task is complete", () => {
    const waiting = execution({ attempt: 2, state: "waiting", status: "unknown", retry_at: 10_000 });
    assert.equal(retryCountdown(waiting, 6_500), "retrying in 4s");
    assert.equal(retryCountdown(waiting, 10_500), "retrying now");
    assert.equal(retryCountdown(execution({}), 0), undefined);
  });

  it("puts a retry policy in words", () => {
    assert.equal(
      describeRetries({ limit: 2, delay: "1s", factor: 2, max_delay: "5m", on: ["failure", "timeout"] }),
      "up to 2 more attempts, 1s apart (×2, at most 5m), on failure, timeout",
    );
    assert.equal(
      describeRetries({ limit: 1, delay: "100ms", factor: 1, max_delay: "5m", on: [] }),
      "up to 1 more attempt, 100ms apart",
    );
  });
});

describe("replicas", () => {
  const replica = (id: string, state: ReplicaSummary["state"], started: number): ReplicaSummary => ({
    id,
    url: `http://10.0.0.${started}:8080`,
    hostname: "host",
    pid: started,
    version: "0.1.0",
    started,
    heartbeat: 0,
    state,
    self: false,
  });

  it("lists the leader first, then followers, then the ones gone, oldest first within each", () => {
    const ordered = orderReplicas([
      replica("e", "stopped", 1),
      replica("d", "silent", 2),
      replica("c", "follower", 5),
      replica("b", "follower", 3),
      replica("a", "leader", 4),
    ]);
    assert.deepEqual(
      ordered.map((item) => item.id),
      ["a", "b", "c", "d", "e"],
    );
  });

  it("says what the leader owns, in words, and nothing for the others", () => {
    assert.equal(
      ownsText({ runs_in_flight: 1, tasks_in_flight: 3, extensions: 0 }),
      "1 run, 3 tasks, 0 extensions",
    );
    assert.equal(ownsText(undefined), "–");
  });

  it("puts the lease in a line: storage, term and holder, serving or not, and when it expires", () => {
    const base: ReplicaListing = { storage: "postgres", lease_timeout_ms: 15_000, lease: null, replicas: [] };
    const lease = { holder: "7fd0c5d1-aaaa", term: 4, acquired: 1_000, expires: 14_000, serving: true };
    assert.deepEqual(leaseFacts({ ...base, lease }, 10_000), [
      "Storage: PostgreSQL",
      "lease term 4, held by 7fd0c5d1",
      "serving",
      "expires in 4.0 s",
      "lease timeout 15 s",
    ]);
    assert.deepEqual(leaseFacts({ ...base, lease: { ...lease, serving: false } }, 10_000).slice(2, 4), [
      "not serving yet (being taken over)",
      "expires in 4.0 s",
    ]);
    assert.deepEqual(leaseFacts({ ...base, lease: { ...lease, serving: false } }, 20_000).slice(2, 4), [
      "not serving (lease vacant)",
      "expired 6.0 s ago",
    ]);
    assert.deepEqual(leaseFacts(base, 0), ["Storage: PostgreSQL", "lease never taken", "lease timeout 15 s"]);
    assert.equal(leaseFacts({ ...base, storage: "sqlite" })[0], "Storage: SQLite");
  });

  it("tells a heartbeat's age to the second, and a time to come", () => {
    assert.equal(ago(9_500, 10_000), "just now");
    assert.equal(ago(7_600, 10_000), "2.4 s ago");
    assert.equal(ago(0, 10_000), "–");
    assert.equal(fromNow(12_000, 10_000), "in 2.0 s");
    assert.equal(fromNow(8_000, 10_000), "2.0 s ago");
  });
});
