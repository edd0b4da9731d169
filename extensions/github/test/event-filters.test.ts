import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type EventRule,
  globToRegExp,
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
