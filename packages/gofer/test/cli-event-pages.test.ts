/**
 * `gofer event list --before <id> --limit n` (and `--after`) read the event log a page at a time from an event id,
 * through the server's cursor, so a script pages back through a long history without reading it from the top;
 * flags that ask for two directions at once are refused before the server is asked.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { insertEvent } from "../src/storage/events-store.ts";
import { assertOk, type Gofer, useCliServer } from "./support/cli.ts";
import { type StoredEvent, storedEvents } from "./support/stored-events.ts";
import type { TestServer } from "./support/test-server.ts";

const STORED = 700;

const jsonLines = (stdout: string): StoredEvent[] =>
  stdout
    .trimEnd()
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));

describe("CLI: the event log a page at a time", () => {
  let server: TestServer;
  let gofer: Gofer;
  let stored: StoredEvent[];
  useCliServer((started, cli) => {
    server = started;
    gofer = cli;
  });

  before(async () => {
    await server.service.db.transaction().execute(async (tx) => {
      for (let index = 0; index < STORED; index += 1)
        await insertEvent(tx, "created_namespace", { namespace_id: `ns-${index}` }, Date.now());
    });
    stored = await storedEvents(server);
  });

  it("pages back from the newest with --before and --limit, each page exact, to the oldest", async () => {
    const size = 300;
    const pages: string[][] = [];
    let next = ["event", "list", "--reverse", "--limit", String(size), "--json"];
    // Bounded, so a cursor that did not move fails here instead of paging forever.
    while (pages.length <= stored.length / size + 1) {
      const page = jsonLines(assertOk(await gofer(next)).stdout).map((event) => event.id);
      pages.push(page);
      if (page.length < size) break;
      next = ["event", "list", "--before", String(page.at(-1)), "--limit", String(size), "--json"];
    }
    assert.deepEqual(
      pages.map((page) => page.length),
      [300, 300, stored.length - 600],
    );
    assert.deepEqual(pages.flat(), stored.map((event) => event.id).reverse(), "no gap and no repeat");

    // People are told how to ask for the next page.
    const human = assertOk(await gofer(["event", "list", "--before", String(stored[100]?.id), "-l", "5"]));
    const shown = human.stdout
      .trimEnd()
      .split("\n")
      .map((line) => line.trim().split(/\s+/)[0]);
    assert.deepEqual(
      shown,
      stored
        .slice(95, 100)
        .map((event) => event.id)
        .reverse(),
      human.stdout,
    );
    assert.match(human.stderr, new RegExp(`gofer event list --before ${stored[95]?.id} --limit 5`));
  });

  it("reads forward from an event with --after, stopping at the newest", async () => {
    const from = stored[STORED - 10] as StoredEvent;
    const page = jsonLines(assertOk(await gofer(["event", "list", "--after", from.id, "--json"])).stdout);
    assert.deepEqual(
      page.map((event) => event.id),
      stored.slice(STORED - 9).map((event) => event.id),
    );
    const limited = jsonLines(
      assertOk(await gofer(["event", "list", "--after", from.id, "--limit", "3", "--json"])).stdout,
    );
    assert.deepEqual(
      limited.map((event) => event.id),
      stored.slice(STORED - 9, STORED - 6).map((event) => event.id),
    );
  });

  it("refuses flags that ask for two directions, and ids and limits that are not numbers", async () => {
    const refusals: [string[], RegExp][] = [
      [["--before", "5", "--follow"], /--before cannot be combined with --follow/],
      [["--before", "5", "--after", "2"], /--before and --after cannot be combined/],
      [["--after", "5", "--reverse"], /--after cannot be combined with --reverse/],
      [["--before", "newest"], /expected an event id/],
      [["--limit", "0"], /expected a whole number of 1 or more/],
    ];
    for (const [flags, message] of refusals) {
      const refused = await gofer(["event", "list", ...flags]);
      assert.notEqual(refused.code, 0, flags.join(" "));
      assert.match(refused.stderr, message, refused.stderr);
    }
  });
});
