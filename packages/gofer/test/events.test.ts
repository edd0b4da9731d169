import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { deployPipeline, pipelineConfig, shTask, startRun, waitForRun } from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";
import { assertEnvelopeBody, refusedSocket, socketHeaders } from "./support/websocket.ts";

const WAIT_MS = 10_000;

interface WireEvent {
  id: string;
  kind: Record<string, Record<string, unknown>>;
  emitted: number;
}

const kindOf = (event: WireEvent): string => Object.keys(event.kind)[0] ?? "";
const detailsOf = (event: WireEvent): Record<string, unknown> => event.kind[kindOf(event)] ?? {};

/** Checks the v0 event shape: `{id: "<digits>", kind: {<one kind>: {...}}, emitted: <epoch ms>}`. */
function assertEventShape(event: WireEvent, startedAt: number): void {
  assert.deepEqual(Object.keys(event).sort(), ["emitted", "id", "kind"], JSON.stringify(event));
  assert.equal(typeof event.id, "string");
  assert.match(event.id, /^[1-9]\d*$/);
  assert.equal(typeof event.kind, "object");
  assert.equal(Object.keys(event.kind).length, 1, JSON.stringify(event));
  const details = detailsOf(event);
  assert.ok(details && typeof details === "object" && !Array.isArray(details), JSON.stringify(event));
  assert.equal(typeof event.emitted, "number");
  assert.ok(
    event.emitted >= startedAt && event.emitted <= Date.now(),
    `emitted ${event.emitted} is not recent`,
  );
}

/**
 * An open event stream: `events` grows as frames arrive; `until` waits (bounded) for a condition on them, and
 * `closed` settles when the server closes the socket.
 */
interface EventSocket {
  events: WireEvent[];
  until(predicate: (events: WireEvent[]) => boolean, what: string): Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

function openEvents(server: TestServer, query: string): Promise<EventSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${server.url.replace("http", "ws")}/api/events${query}`, {
      headers: socketHeaders(server),
    });
    const events: WireEvent[] = [];
    const waiters = new Set<() => void>();
    let resolveClosed: (value: { code: number; reason: string }) => void = () => undefined;
    const closed = new Promise<{ code: number; reason: string }>((resolveClose) => {
      resolveClosed = resolveClose;
    });
    socket.on("message", (data, isBinary) => {
      assert.equal(isBinary, false, "events arrive as text frames");
      events.push(JSON.parse(String(data)));
      for (const waiter of waiters) waiter();
    });
    socket.on("close", (code, reason) => {
      resolveClosed({ code, reason: String(reason) });
      for (const waiter of waiters) waiter();
    });
    socket.on("unexpected-response", (_request, response) => {
      socket.terminate();
      reject(new Error(`/api/events${query} refused with HTTP ${response.statusCode}`));
    });
    socket.on("error", reject);
    socket.on("open", () =>
      resolve({
        events,
        closed,
        until: (predicate, what) =>
          new Promise((resolveWait, rejectWait) => {
            const check = () => {
              if (predicate(events)) {
                clearTimeout(timer);
                waiters.delete(check);
                resolveWait();
              } else if (socket.readyState === WebSocket.CLOSED) {
                clearTimeout(timer);
                waiters.delete(check);
                rejectWait(new Error(`${what}: the stream closed first`));
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              rejectWait(new Error(`${what}: not within ${WAIT_MS} ms (${events.length} events so far)`));
            }, WAIT_MS);
            waiters.add(check);
            check();
          }),
        close: async () => {
          if (socket.readyState === WebSocket.CLOSED) return;
          socket.close(1000);
          await closed;
        },
      }),
    );
  });
}

/** Fails instead of hanging when `promise` never settles. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${WAIT_MS} ms`)), WAIT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const ids = (events: WireEvent[]) => events.map((event) => Number(event.id));

function assertStrictlyAscending(events: WireEvent[]): void {
  const seen = ids(events);
  for (let index = 1; index < seen.length; index += 1) {
    assert.ok(
      (seen[index] ?? 0) > (seen[index - 1] ?? 0),
      `event ${seen[index]} follows ${seen[index - 1]} at position ${index}`,
    );
  }
}

/** The events of one run of pipeline `pipeline`, in the order received. */
const ofRun = (events: WireEvent[], pipeline: string, runId: number) =>
  events.filter((event) => {
    const details = detailsOf(event);
    return details.pipeline_id === pipeline && details.run_id === runId;
  });

const isCompletedRun = (pipeline: string, runId: number) => (event: WireEvent) =>
  kindOf(event) === "completed_run" &&
  detailsOf(event).pipeline_id === pipeline &&
  detailsOf(event).run_id === runId;

/**
 * The run's events must tell its story in order: queued, started, each task started before it completed (with
 * its real status), and completed last with the run's real status.
 */
function assertRunStory(
  events: WireEvent[],
  pipeline: string,
  runId: number,
  taskStatuses: Record<string, string>,
  runStatus: string,
): void {
  const story = ofRun(events, pipeline, runId);
  const kinds = story.map(kindOf);
  assert.equal(kinds[0], "queued_run", kinds.join(","));
  assert.equal(kinds[1], "started_run", kinds.join(","));
  assert.equal(kinds.at(-1), "completed_run", kinds.join(","));
  assert.equal(detailsOf(story.at(-1) as WireEvent).status, runStatus);
  assert.equal(kinds.filter((kind) => kind === "completed_run").length, 1);
  for (const [task, status] of Object.entries(taskStatuses)) {
    const positions = (kind: string) =>
      story.flatMap((event, index) =>
        kindOf(event) === kind && detailsOf(event).task_execution_id === task ? [index] : [],
      );
    const started = positions("started_task_execution");
    const completed = positions("completed_task_execution");
    assert.equal(completed.length, 1, `completed_task_execution of ${task}: ${kinds.join(",")}`);
    assert.equal(detailsOf(story[completed[0] ?? 0] as WireEvent).status, status, `status of ${task}`);
    if (status === "skipped") {
      assert.equal(started.length, 0, `a skipped ${task} never starts`);
    } else {
      assert.equal(started.length, 1, `started_task_execution of ${task}: ${kinds.join(",")}`);
      assert.ok((started[0] ?? 0) < (completed[0] ?? 0), `${task} completed before it started`);
    }
  }
}

describe("the event stream", () => {
  let server: TestServer;
  let startedAt: number;

  before(async () => {
    startedAt = Date.now();
    server = await startTestServer();
    await deployPipeline(
      server,
      pipelineConfig("evented", [
        shTask("first", "echo first"),
        shTask("second", "exit 3", { depends_on: { first: "Success" } }),
        shTask("skipped", "true", { depends_on: { second: "Success" } }),
      ]),
    );
  });
  after(async () => {
    await server.stop();
  });

  const storyOfEvented = { first: "successful", second: "failed", skipped: "skipped" };

  it("sends history in ascending order, then live events, with no duplicates", async () => {
    const firstRun = await startRun(server, "evented");
    const { run } = await waitForRun(server, "evented", firstRun, WAIT_MS);
    assert.equal(run.status, "failed");

    const stream = await openEvents(server, "?history=true");
    try {
      await stream.until(
        (events) => events.some(isCompletedRun("evented", firstRun)),
        "history of the first run",
      );
      const historyLength = stream.events.length;
      // History starts at the beginning: the server's own setup (namespace, pipeline, deployment) comes first.
      assert.equal(stream.events[0]?.id, "1");
      assertRunStory(stream.events, "evented", firstRun, storyOfEvented, "failed");

      const secondRun = await startRun(server, "evented");
      await stream.until(
        (events) => events.some(isCompletedRun("evented", secondRun)),
        "live events of the second run",
      );
      assert.ok(stream.events.length > historyLength);
      assertRunStory(stream.events, "evented", secondRun, storyOfEvented, "failed");

      assertStrictlyAscending(stream.events);
      for (const event of stream.events) assertEventShape(event, startedAt);
      // Nothing stored was skipped: every event the server holds up to the last one received was delivered.
      const last = Number(stream.events.at(-1)?.id);
      assert.deepEqual(
        ids(stream.events),
        Array.from({ length: last }, (_, index) => index + 1),
      );
    } finally {
      await stream.close();
    }
  });

  it("pages through long history forwards and, reversed, newest first before closing", async () => {
    // More events than one history page holds, so paging boundaries are crossed in both directions.
    for (let index = 0; index < 230; index += 1) {
      const created = await server.api("POST", "/api/namespaces", {
        id: `space-${index}`,
        name: `Space ${index}`,
        description: "",
      });
      assert.equal(created.status, 201, created.text);
    }

    const forward = await openEvents(server, "?history=true");
    let newest: number;
    try {
      await forward.until(
        (events) => events.some((event) => detailsOf(event).namespace_id === "space-229"),
        "the last namespace event",
      );
      assertStrictlyAscending(forward.events);
      newest = Number(forward.events.at(-1)?.id);
      assert.ok(newest > 230);
      assert.deepEqual(
        ids(forward.events),
        Array.from({ length: newest }, (_, index) => index + 1),
      );
    } finally {
      await forward.close();
    }

    const reversed = await openEvents(server, "?history=true&reverse=true");
    const closed = await within(reversed.closed, "the end of reversed history");
    assert.equal(closed.code, 1000);
    assert.deepEqual(
      ids(reversed.events),
      Array.from({ length: newest }, (_, index) => newest - index),
    );
    for (const event of reversed.events) assertEventShape(event, startedAt);
    assert.equal(kindOf(reversed.events[0] as WireEvent), "created_namespace");
    assert.equal(detailsOf(reversed.events[0] as WireEvent).namespace_id, "space-229");
  });

  it("refuses reverse=true without history with a 400 on the upgrade", async () => {
    const refused = await refusedSocket(server, "/api/events?reverse=true", WAIT_MS);
    assert.equal(refused.status, 400);
    assertEnvelopeBody(refused.body, "BAD_REQUEST");
    const explicit = await refusedSocket(server, "/api/events?history=false&reverse=true", WAIT_MS);
    assert.equal(explicit.status, 400);
    assertEnvelopeBody(explicit.body, "BAD_REQUEST");
  });

  it("gets and deletes single events", async () => {
    const runId = await startRun(server, "evented");
    await waitForRun(server, "evented", runId, WAIT_MS);
    const stream = await openEvents(server, "?history=true");
    let completed: WireEvent | undefined;
    try {
      await stream.until((events) => events.some(isCompletedRun("evented", runId)), "the run's completion");
      completed = stream.events.find(isCompletedRun("evented", runId));
    } finally {
      await stream.close();
    }
    assert.ok(completed);

    const got = await server.api("GET", `/api/events/${completed.id}`);
    assert.equal(got.status, 200, got.text);
    assert.deepEqual(got.json.event, completed);
    assertEventShape(got.json.event, startedAt);
    assert.equal(detailsOf(got.json.event).status, "failed");

    const deleted = await server.api("DELETE", `/api/events/${completed.id}`);
    assert.equal(deleted.status, 204);
    assert.equal(deleted.text, "");
    const gone = await server.api("GET", `/api/events/${completed.id}`);
    assert.equal(gone.status, 404);
    assertEnvelopeBody(gone.text, "NOT_FOUND");
    const again = await server.api("DELETE", `/api/events/${completed.id}`);
    assert.equal(again.status, 404);
    assertEnvelopeBody(again.text, "NOT_FOUND");

    // The deleted event is gone from history too.
    const after = await openEvents(server, "?history=true&reverse=true");
    assert.equal((await within(after.closed, "the end of reversed history")).code, 1000);
    assert.ok(after.events.length > 0);
    assert.ok(!after.events.some((event) => event.id === completed.id));

    for (const method of ["GET", "DELETE"]) {
      const invalid = await server.api(method, "/api/events/not-a-number");
      assert.equal(invalid.status, 400, `${method}: ${invalid.text}`);
      assertEnvelopeBody(invalid.text, "BAD_REQUEST");
    }
  });
});
