import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkRequested,
  type EventRule,
  globToRegExp,
  parseEventFilter,
  parseEvents,
  pushFilterMatches,
  rulesMatch,
} from "../src/event-filters.ts";

function rules(text: string): EventRule[] {
  const parsed = parseEvents(text);
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.problem);
  return parsed.value;
}

describe("events param", () => {
  it("parses names, filters and spaces", () => {
    assert.deepEqual(rules("push:main|release/*, pull_request:opened|synchronize , release"), [
      { event: "push", filters: ["main", "release/*"] },
      { event: "pull_request", filters: ["opened", "synchronize"] },
      { event: "release", filters: [] },
    ]);
    assert.deepEqual(rules("push:tags/v*"), [{ event: "push", filters: ["tags/v*"] }]);
  });

  it("refuses invalid entries, saying which", () => {
    const cases: Array<[string, RegExp]> = [
      ["", /empty/],
      ["push,,release", /empty entry/],
      ["push,", /empty entry/],
      ["Push", /"Push".*GitHub event/],
      ["pull-request", /GitHub event/],
      ["push:", /empty filter/],
      ["push:main|", /empty filter/],
      ["push:tags/", /not a branch glob/],
      ["push:feature branch", /not a branch glob/],
      ["push:/main", /not a branch glob/],
      ["pull_request:Opened", /not an action/],
      ["pull_request:opened|sync-hronize", /not an action/],
      ["ping", /ping/],
    ];
    for (const [text, reason] of cases) {
      const parsed = parseEvents(text);
      assert.equal(parsed.ok, false, text);
      if (!parsed.ok) assert.match(parsed.problem, reason, text);
    }
  });
});

function filterRules(text: string): EventRule[] {
  const parsed = parseEventFilter(text);
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.problem);
  return parsed.value;
}

describe("event_filter param (Gofer v0's form)", () => {
  it("parses an event alone, or with actions", () => {
    assert.deepEqual(filterRules("push"), [{ event: "push", filters: [] }]);
    assert.deepEqual(filterRules("pull_request/opened,synchronize"), [
      { event: "pull_request", filters: ["opened", "synchronize"] },
    ]);
    assert.deepEqual(filterRules("pull_request_with_check/opened,synchronize"), [
      { event: "pull_request_with_check", filters: ["opened", "synchronize"] },
    ]);
  });

  it("reads actions as v0 did: any case, empty ones skipped, none meaning any", () => {
    assert.deepEqual(filterRules(" pull_request / Opened , SYNCHRONIZE ,, "), [
      { event: "pull_request", filters: ["opened", "synchronize"] },
    ]);
    assert.deepEqual(filterRules("release/"), [{ event: "release", filters: [] }]);
    assert.deepEqual(filterRules("issues/labeled,labeled"), [{ event: "issues", filters: ["labeled"] }]);
  });

  it("refuses what it cannot match, saying why", () => {
    const cases: Array<[string, RegExp]> = [
      ["", /empty/],
      ["  ", /empty/],
      ["Push", /GitHub event/],
      ["pull-request/opened", /GitHub event/],
      ["ping", /ping/],
      ["push/main", /push deliveries have no action.*events=push:<branch glob>/],
      ["pull_request/opened/closed", /"opened\/closed" is not an action/],
      ["pull_request/re-opened", /not an action/],
    ];
    for (const [text, reason] of cases) {
      const parsed = parseEventFilter(text);
      assert.equal(parsed.ok, false, text);
      if (!parsed.ok) {
        assert.match(parsed.problem, reason, text);
        assert.match(parsed.problem, /^event_filter /, text);
      }
    }
  });

  it("matches deliveries as the same rule from events does", () => {
    const fromFilter = filterRules("pull_request/opened,synchronize");
    const fromEvents = rules("pull_request:opened|synchronize");
    for (const delivery of [
      { event: "pull_request", action: "opened" },
      { event: "pull_request", action: "closed" },
      { event: "push", ref: "refs/heads/main" },
    ]) {
      assert.equal(
        rulesMatch(fromFilter, delivery),
        rulesMatch(fromEvents, delivery),
        JSON.stringify(delivery),
      );
    }
  });
});

describe("pull_request_with_check", () => {
  it("matches pull_request deliveries and asks for a check run", () => {
    const withCheck = filterRules("pull_request_with_check/opened,synchronize");
    const opened = { event: "pull_request", action: "opened" };
    assert.equal(rulesMatch(withCheck, opened), true);
    assert.equal(checkRequested(withCheck, opened), true);
    assert.equal(rulesMatch(withCheck, { event: "pull_request", action: "closed" }), false);
    assert.equal(checkRequested(withCheck, { event: "pull_request", action: "closed" }), false);
    assert.equal(rulesMatch(withCheck, { event: "pull_request_review", action: "submitted" }), false);
  });

  it("is taken by events too, and only its own matches ask for a check run", () => {
    const mixed = rules("pull_request_with_check:opened,pull_request:closed");
    assert.equal(checkRequested(mixed, { event: "pull_request", action: "opened" }), true);
    assert.equal(rulesMatch(mixed, { event: "pull_request", action: "closed" }), true);
    assert.equal(checkRequested(mixed, { event: "pull_request", action: "closed" }), false);
    assert.equal(checkRequested(rules("pull_request"), { event: "pull_request", action: "opened" }), false);
  });
});

describe("globs", () => {
  it("keeps * within a segment, lets ** cross them, escapes the rest", () => {
    assert.equal(globToRegExp("release/*").test("release/1.2"), true);
    assert.equal(globToRegExp("release/*").test("release/1.2/hotfix"), false);
    assert.equal(globToRegExp("release/**").test("release/1.2/hotfix"), true);
    assert.equal(globToRegExp("v1.?").test("v1.5"), true);
    assert.equal(globToRegExp("v1.?").test("v1x5"), false);
    assert.equal(globToRegExp("a+b").test("a+b"), true);
  });
});

describe("push filters", () => {
  it("match branches under refs/heads", () => {
    assert.equal(pushFilterMatches("main", "refs/heads/main"), true);
    assert.equal(pushFilterMatches("main", "refs/heads/main-old"), false);
    assert.equal(pushFilterMatches("release/*", "refs/heads/release/2025.1"), true);
    assert.equal(pushFilterMatches("*", "refs/heads/feature/x"), false);
    assert.equal(pushFilterMatches("**", "refs/heads/feature/x"), true);
  });

  it("match tags only through a tags/ filter", () => {
    assert.equal(pushFilterMatches("main", "refs/tags/main"), false);
    assert.equal(pushFilterMatches("**", "refs/tags/v1.0.0"), false);
    assert.equal(pushFilterMatches("tags/v*", "refs/tags/v1.0.0"), true);
    assert.equal(pushFilterMatches("tags/v*", "refs/heads/v1"), false);
  });
});

describe("matching deliveries", () => {
  it("matches push by branch glob and tag glob", () => {
    const push = rules("push:main|release/*|tags/v*");
    assert.equal(rulesMatch(push, { event: "push", ref: "refs/heads/main" }), true);
    assert.equal(rulesMatch(push, { event: "push", ref: "refs/heads/release/1.0" }), true);
    assert.equal(rulesMatch(push, { event: "push", ref: "refs/tags/v2.0.0" }), true);
    assert.equal(rulesMatch(push, { event: "push", ref: "refs/heads/develop" }), false);
    assert.equal(rulesMatch(push, { event: "push" }), false);
  });

  it("matches pull_request by action", () => {
    const pulls = rules("pull_request:opened|synchronize|reopened");
    assert.equal(rulesMatch(pulls, { event: "pull_request", action: "synchronize" }), true);
    assert.equal(rulesMatch(pulls, { event: "pull_request", action: "closed" }), false);
    assert.equal(rulesMatch(pulls, { event: "pull_request" }), false);
  });

  it("matches any action or ref when an event has no filter", () => {
    const any = rules("push,pull_request,issues:labeled");
    assert.equal(rulesMatch(any, { event: "push", ref: "refs/tags/anything" }), true);
    assert.equal(rulesMatch(any, { event: "pull_request", action: "closed" }), true);
    assert.equal(rulesMatch(any, { event: "issues", action: "labeled" }), true);
    assert.equal(rulesMatch(any, { event: "issues", action: "opened" }), false);
    assert.equal(rulesMatch(any, { event: "release", action: "published" }), false);
  });
});
