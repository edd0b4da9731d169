import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { eventRef, parsePayload, runVariables } from "../src/payload.ts";
import { fixture, fixtureBytes } from "./fixtures.ts";

const delivery = "72d3162e-cc78-11e3-81ab-4c9367dc0958";

describe("payload", () => {
  it("parses a JSON body", () => {
    const parsed = parsePayload(fixtureBytes("push"), "application/json");
    assert.ok(parsed.ok);
    assert.equal(parsed.payload.ref, "refs/heads/main");
  });

  it("parses a form-encoded body", () => {
    const form = `payload=${encodeURIComponent(new TextDecoder().decode(fixtureBytes("release")))}`;
    const parsed = parsePayload(new TextEncoder().encode(form), "application/x-www-form-urlencoded");
    assert.ok(parsed.ok);
    assert.equal(parsed.payload.action, "published");
  });

  it("refuses bodies that are not a JSON object", () => {
    for (const text of ["", "{", "[1,2]", "null", '"text"']) {
      const parsed = parsePayload(new TextEncoder().encode(text), "application/json");
      assert.equal(parsed.ok, false, text);
    }
  });
});

describe("run variables", () => {
  it("takes push's ref, commit and people", () => {
    assert.deepEqual(runVariables("push", fixture("push"), delivery), {
      GOFER_EXTENSION_GITHUB_EVENT: "push",
      GOFER_EXTENSION_GITHUB_ACTION: "",
      GOFER_EXTENSION_GITHUB_REPOSITORY: "octo-org/app",
      GOFER_EXTENSION_GITHUB_REF: "refs/heads/main",
      GOFER_EXTENSION_GITHUB_SHA: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
      GOFER_EXTENSION_GITHUB_AUTHOR: "monalisa",
      GOFER_EXTENSION_GITHUB_DELIVERY: delivery,
      GOFER_EXTENSION_GITHUB_HEAD_COMMIT_ID: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
      GOFER_EXTENSION_GITHUB_HEAD_COMMIT_AUTHOR_NAME: "Mona Lisa",
      GOFER_EXTENSION_GITHUB_HEAD_COMMIT_AUTHOR_EMAIL: "mona@example.com",
      GOFER_EXTENSION_GITHUB_HEAD_COMMIT_AUTHOR_USERNAME: "monalisa",
      GOFER_EXTENSION_GITHUB_HEAD_COMMIT_COMMITTER_NAME: "GitHub",
      GOFER_EXTENSION_GITHUB_HEAD_COMMIT_COMMITTER_EMAIL: "noreply@github.com",
      GOFER_EXTENSION_GITHUB_HEAD_COMMIT_COMMITTER_USERNAME: "web-flow",
    });
  });

  it("takes pull_request's head branch, commit and author", () => {
    assert.deepEqual(runVariables("pull_request", fixture("pull_request"), delivery), {
      GOFER_EXTENSION_GITHUB_EVENT: "pull_request",
      GOFER_EXTENSION_GITHUB_ACTION: "opened",
      GOFER_EXTENSION_GITHUB_REPOSITORY: "Octo-Org/App",
      GOFER_EXTENSION_GITHUB_REF: "refs/pull/42/head",
      GOFER_EXTENSION_GITHUB_SHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
      GOFER_EXTENSION_GITHUB_AUTHOR: "hubot",
      GOFER_EXTENSION_GITHUB_DELIVERY: delivery,
      GOFER_EXTENSION_GITHUB_PULLREQUEST_HEAD_REF: "feature/readme",
      GOFER_EXTENSION_GITHUB_PULLREQUEST_BRANCH: "feature/readme",
      GOFER_EXTENSION_GITHUB_PULLREQUEST_HEAD_SHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
      GOFER_EXTENSION_GITHUB_PULLREQUEST_AUTHOR_USERNAME: "hubot",
    });
  });

  it("takes release's tag and times", () => {
    assert.deepEqual(runVariables("release", fixture("release"), undefined), {
      GOFER_EXTENSION_GITHUB_EVENT: "release",
      GOFER_EXTENSION_GITHUB_ACTION: "published",
      GOFER_EXTENSION_GITHUB_REPOSITORY: "octo-org/app",
      GOFER_EXTENSION_GITHUB_REF: "refs/tags/v1.2.0",
      GOFER_EXTENSION_GITHUB_SHA: "",
      GOFER_EXTENSION_GITHUB_AUTHOR: "monalisa",
      GOFER_EXTENSION_GITHUB_DELIVERY: "",
      GOFER_EXTENSION_GITHUB_RELEASE_TAG_NAME: "v1.2.0",
      GOFER_EXTENSION_GITHUB_RELEASE_TARGET_COMMITISH: "main",
      GOFER_EXTENSION_GITHUB_RELEASE_AUTHOR_LOGIN: "monalisa",
      GOFER_EXTENSION_GITHUB_RELEASE_CREATED_AT: "2025-02-01T09:00:00Z",
      GOFER_EXTENSION_GITHUB_RELEASE_PUBLISHED_AT: "2025-02-01T09:05:00Z",
    });
  });

  it("gives other events the common variables", () => {
    const issues = {
      action: "labeled",
      repository: { full_name: "octo-org/app" },
      sender: { login: "hubot" },
    };
    assert.deepEqual(runVariables("issues", issues, delivery), {
      GOFER_EXTENSION_GITHUB_EVENT: "issues",
      GOFER_EXTENSION_GITHUB_ACTION: "labeled",
      GOFER_EXTENSION_GITHUB_REPOSITORY: "octo-org/app",
      GOFER_EXTENSION_GITHUB_REF: "",
      GOFER_EXTENSION_GITHUB_SHA: "",
      GOFER_EXTENSION_GITHUB_AUTHOR: "hubot",
      GOFER_EXTENSION_GITHUB_DELIVERY: delivery,
    });
  });

  it("writes create and delete refs in full", () => {
    assert.equal(eventRef("create", { ref: "v1.0", ref_type: "tag" }), "refs/tags/v1.0");
    assert.equal(eventRef("delete", { ref: "topic", ref_type: "branch" }), "refs/heads/topic");
    assert.equal(eventRef("push", { ref: "refs/tags/v1.0" }), "refs/tags/v1.0");
  });

  it("reads the pushed ref of a tag push", () => {
    const tagPush = { ...fixture("push"), ref: "refs/tags/v1.2.0" };
    assert.equal(runVariables("push", tagPush, delivery).GOFER_EXTENSION_GITHUB_REF, "refs/tags/v1.2.0");
  });
});
