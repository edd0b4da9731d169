/**
 * The pure logic behind the UI's lists, run in Node: folding a config diff, which versions the compare opens on,
 * the run list's pages and filter, the pipeline search, deployments in words, and the events page's filter and
 * older pages.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { GoferEvent } from "../../packages/sdk/src/client/wire-types.ts";
import { foldUnchanged } from "../src/diff/collapse.ts";
import { comparePair } from "../src/diff/compare-pair.ts";
import { type DiffLine, lineDiff } from "../src/diff/line-diff.ts";
import { describeDeployment } from "../src/lists/deployment-summary.ts";
import {
  eventFilterSearch,
  eventScope,
  matchesEventFilter,
  NO_FILTER,
  OlderEvents,
  parseEventFilter,
} from "../src/lists/event-filter.ts";
import { matchesSearch } from "../src/lists/pipeline-search.ts";
import { runListPage, runListQuery } from "../src/lists/run-list.ts";

const numbered = (count: number, from = 1) => Array.from({ length: count }, (_, i) => `line ${from + i}`);

describe("folding a config diff", () => {
  it("keeps three unchanged lines around each change and folds the rest, every line still there", () => {
    const before = numbered(40);
    const after = [...before];
    after[19] = "changed 20";
    const lines = lineDiff(before, after);
    const hunks = foldUnchanged(lines);
    assert.deepEqual(
      hunks.map((hunk) => [hunk.kind, hunk.lines.length]),
      [
        ["folded", 19 - 3],
        ["shown", 3 + 2 + 3],
        ["folded", 20 - 3],
      ],
    );
    assert.deepEqual(
      hunks.flatMap((hunk) => hunk.lines),
      lines,
      "folding hides lines, it never drops one",
    );
    const shown = hunks.find((hunk) => hunk.kind === "shown")?.lines.map((line) => line.text);
    assert.deepEqual(shown, [
      "line 17",
      "line 18",
      "line 19",
      "line 20",
      "changed 20",
      "line 21",
      "line 22",
      "line 23",
    ]);
  });

  it("never folds a single line, and keeps a short stretch between two changes", () => {
    const same = (text: string): DiffLine => ({ kind: "same", text });
    const added = (text: string): DiffLine => ({ kind: "added", text });
    const between = [added("a"), ...numbered(7).map(same), added("b")];
    assert.deepEqual(
      foldUnchanged(between).map((hunk) => hunk.kind),
      ["shown"],
    );
    const longer = [added("a"), ...numbered(8).map(same), added("b")];
    assert.deepEqual(
      foldUnchanged(longer).map((hunk) => [hunk.kind, hunk.lines.length]),
      [
        ["shown", 4],
        ["folded", 2],
        ["shown", 4],
      ],
    );
    assert.deepEqual(
      foldUnchanged([...numbered(4).map(same), added("end")]).map((hunk) => [hunk.kind, hunk.lines.length]),
      [["shown", 5]],
    );
  });
});

describe("the versions the compare opens on", () => {
  const versions = (live: number | undefined, ...numbers: number[]) =>
    numbers.map((version) => ({ version, state: version === live ? "live" : "unreleased" }));

  it("opens on the version before the live one against the live one", () => {
    assert.deepEqual(comparePair(versions(3, 1, 2, 3, 4)), { from: 2, to: 3 });
    assert.deepEqual(comparePair(versions(undefined, 1, 2, 3)), { from: 2, to: 3 });
    // Versions removed by retention leave gaps: the previous one is the one still stored.
    assert.deepEqual(comparePair(versions(7, 2, 7)), { from: 2, to: 7 });
    assert.deepEqual(comparePair(versions(1, 1, 2)), { from: 1, to: 2 });
    assert.equal(comparePair(versions(1, 1)), undefined);
  });

  it("opens on a version asked for against the live one, older on the left", () => {
    assert.deepEqual(comparePair(versions(3, 1, 2, 3, 4), 1), { from: 1, to: 3 });
    assert.deepEqual(comparePair(versions(3, 1, 2, 3, 4), 4), { from: 3, to: 4 });
    assert.deepEqual(comparePair(versions(3, 1, 2, 3, 4), 3), { from: 2, to: 3 });
    assert.deepEqual(
      comparePair(versions(3, 1, 2, 3, 4), 9),
      { from: 2, to: 3 },
      "an unknown one is ignored",
    );
  });
});

describe("the run list's pages", () => {
  it("asks for one run more than a page shows, newest first, narrowed when a status is chosen", () => {
    assert.equal(runListQuery(0), "?limit=26&offset=0&reverse=true");
    assert.equal(runListQuery(2, "failed"), "?limit=26&offset=50&reverse=true&status=failed");
  });

  it("shows a page and knows from the extra run whether older ones follow", () => {
    const fetched = Array.from({ length: 26 }, (_, i) => 100 - i);
    assert.deepEqual(runListPage(1, fetched), {
      runs: fetched.slice(0, 25),
      older: true,
      first: 26,
      last: 50,
    });
    assert.deepEqual(runListPage(2, [3, 2, 1]), { runs: [3, 2, 1], older: false, first: 51, last: 53 });
    assert.deepEqual(runListPage(0, []), { runs: [], older: false, first: 0, last: 0 });
  });
});

describe("the pipelines search", () => {
  const pipeline = { id: "release", name: "Release train", description: "Builds and ships to production" };

  it("finds every typed word in the id, the name or the description, in any case", () => {
    assert.equal(matchesSearch(pipeline, ""), true);
    assert.equal(matchesSearch(pipeline, "REL"), true);
    assert.equal(matchesSearch(pipeline, "train ships"), true);
    assert.equal(matchesSearch(pipeline, "production release"), true);
    assert.equal(matchesSearch(pipeline, "staging"), false);
    assert.equal(matchesSearch(pipeline, "train staging"), false);
    assert.equal(matchesSearch({ id: "bare" }, "bare"), true);
  });
});

describe("deployments in words", () => {
  it("says a first deployment deployed its version instead of moving from it to itself", () => {
    assert.equal(
      describeDeployment({ deployment_id: 1, start_version: 1, end_version: 1 }),
      "#1: deployed v1",
    );
    assert.equal(
      describeDeployment({ deployment_id: 2, start_version: 1, end_version: 2 }),
      "#2: deployed v2, replacing v1",
    );
    assert.equal(
      describeDeployment({ deployment_id: 3, start_version: 2, end_version: 1 }),
      "#3: rolled back to v1 from v2",
    );
  });
});

describe("the events page's filter and older pages", () => {
  let next = 1000;
  const event = (kind: string, details: Record<string, unknown>): GoferEvent =>
    ({ id: String(next--), kind: { [kind]: details }, emitted: 1 }) as unknown as GoferEvent;
  const ran = (pipeline: string, run: number) =>
    event("completed_run", {
      namespace_id: "default",
      pipeline_id: pipeline,
      run_id: run,
      status: "successful",
    });

  it("reads and writes the filter in the address, a run only with its pipeline", () => {
    const filter = { kind: "completed_run", namespace: "default", pipeline: "release", run: 3 };
    assert.equal(eventFilterSearch(filter), "?kind=completed_run&namespace=default&pipeline=release&run=3");
    assert.deepEqual(parseEventFilter(eventFilterSearch(filter)), filter);
    assert.deepEqual(parseEventFilter("?run=3"), NO_FILTER);
    assert.deepEqual(parseEventFilter("?pipeline=release&run=x"), {
      ...NO_FILTER,
      namespace: "default",
      pipeline: "release",
    });
    assert.equal(eventFilterSearch(NO_FILTER), "");
  });

  it("names the pipeline, run and task of an event, and matches the filter by them", () => {
    const task = event("completed_task_execution", {
      namespace_id: "default",
      pipeline_id: "release",
      run_id: 3,
      task_execution_id: "build",
      status: "failed",
    });
    assert.deepEqual(eventScope(task), { namespace: "default", pipeline: "release", run: 3, task: "build" });
    assert.deepEqual(eventScope(event("created_role", { role_id: "ops" })), {});
    const filter = { ...NO_FILTER, namespace: "default", pipeline: "release" };
    assert.equal(matchesEventFilter(task, filter), true);
    assert.equal(matchesEventFilter(task, { ...filter, run: 3 }), true);
    assert.equal(matchesEventFilter(task, { ...filter, run: 4 }), false);
    assert.equal(matchesEventFilter(task, { ...filter, namespace: "other" }), false);
    assert.equal(matchesEventFilter(task, { ...filter, kind: "completed_run" }), false);
    assert.equal(matchesEventFilter(event("created_role", { role_id: "ops" }), filter), false);
  });

  const history = (query: string) => `/api/events?history=true&reverse=true&${query}`;

  it("asks for the page below the oldest event held, then below the oldest read, until a page matches", () => {
    const page = new OlderEvents({
      before: "500",
      want: 2,
      maxRead: 10_000,
      matches: (candidate) =>
        matchesEventFilter(candidate, { ...NO_FILTER, namespace: "default", pipeline: "a" }),
    });
    // As many as the page wants first: without a filter, one request is the page.
    assert.equal(page.nextPath(), history("limit=2&before=500"));
    const first = [ran("b", 9), ran("a", 8)];
    assert.deepEqual(
      first.map((candidate) => page.take(candidate)),
      [true, true],
    );
    assert.equal(page.requestEnded(2), "more");
    // The filter passes over most events, so the next request asks for more, from below the last one read.
    assert.equal(page.nextPath(), history(`limit=1000&before=${first[1]?.id}`));
    const second = [ran("b", 7), ran("a", 6), ran("a", 5)];
    // Full at the second match: the reader closes the stream there; the rest is the next click's.
    assert.deepEqual(
      second.slice(0, 2).map((candidate) => page.take(candidate)),
      [true, false],
    );
    assert.equal(page.requestEnded(2), "full");
    assert.deepEqual(
      page.read.map((candidate) => eventScope(candidate).run),
      [9, 8, 7, 6],
    );
    assert.equal(page.oldest, second[1]?.id);
  });

  it("reaches the beginning when the server sends fewer events than asked, starting from the newest", () => {
    const page = new OlderEvents({ before: undefined, want: 100, maxRead: 10_000, matches: () => true });
    assert.equal(page.nextPath(), history("limit=100"));
    for (const run of [3, 2, 1]) assert.equal(page.take(ran("a", run)), true);
    assert.equal(page.requestEnded(3), "beginning");
  });

  it("stops after reading its bound when few events match, so one click never reads the whole history", () => {
    const page = new OlderEvents({ before: "90000", want: 100, maxRead: 1500, matches: () => false });
    const answer = (count: number) => {
      for (let index = 0; index < count; index += 1) page.take(ran("b", index));
      return page.requestEnded(count);
    };
    assert.equal(page.nextPath(), history("limit=100&before=90000"));
    assert.equal(answer(100), "more");
    assert.match(page.nextPath(), /limit=1000&/);
    assert.equal(answer(1000), "more");
    // The last request asks only for what the bound leaves.
    assert.match(page.nextPath(), /limit=400&/);
    assert.equal(answer(400), "bounded");
    assert.equal(page.read.length, 1500);
    assert.equal(page.oldest, page.read.at(-1)?.id);
  });
});
