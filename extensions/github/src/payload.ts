/**
 * Reading a webhook delivery: its body (JSON, or the form-encoded `payload=` GitHub sends when the webhook's
 * content type is application/x-www-form-urlencoded) and the run variables taken from it. GitHub's payloads
 * differ per event, so every field is read defensively and a missing one is left out.
 */

export type Payload = Record<string, unknown>;

export type Parsed = { ok: true; payload: Payload } | { ok: false; problem: string };

export function parsePayload(body: Uint8Array, contentType: string | undefined): Parsed {
  let text = new TextDecoder().decode(body);
  if (contentType?.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
    const field = new URLSearchParams(text).get("payload");
    if (field === null) return { ok: false, problem: "the form-encoded body has no payload field" };
    text = field;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      problem: `the body is not JSON: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return { ok: false, problem: "the body is not a JSON object" };
  }
  return { ok: true, payload: json as Payload };
}

/** The string at `path` in `value`, or undefined. */
export function field(value: unknown, ...path: string[]): string | undefined {
  let current = value;
  for (const key of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  if (typeof current === "string") return current;
  if (typeof current === "number" || typeof current === "boolean") return String(current);
  return undefined;
}

export const repositoryName = (payload: Payload) => field(payload, "repository", "full_name");
export const action = (payload: Payload) => field(payload, "action");

/**
 * The git ref the delivery is about, in full: the pushed ref; `refs/pull/<n>/head` for a pull request (it lives
 * in the base repository even when the branch is in a fork); `refs/tags/<tag>` for a release; `ref`/`ref_type`
 * for create and delete.
 */
export function eventRef(event: string, payload: Payload): string | undefined {
  if (
    event === "pull_request" ||
    event === "pull_request_review" ||
    event === "pull_request_review_comment"
  ) {
    const number = field(payload, "pull_request", "number");
    return number === undefined ? undefined : `refs/pull/${number}/head`;
  }
  if (event === "release") {
    const tag = field(payload, "release", "tag_name");
    return tag === undefined ? undefined : `refs/tags/${tag}`;
  }
  const ref = field(payload, "ref");
  if (ref === undefined || ref.startsWith("refs/")) return ref;
  const refType = field(payload, "ref_type");
  if (refType === "branch") return `refs/heads/${ref}`;
  if (refType === "tag") return `refs/tags/${ref}`;
  return ref;
}

/** The commit the delivery is about. */
export function eventSha(payload: Payload): string | undefined {
  return (
    field(payload, "pull_request", "head", "sha") ??
    field(payload, "head_commit", "id") ??
    field(payload, "after") ??
    field(payload, "check_suite", "head_sha") ??
    field(payload, "check_run", "head_sha") ??
    field(payload, "workflow_run", "head_sha") ??
    field(payload, "deployment", "sha") ??
    field(payload, "sha")
  );
}

const PREFIX = "GOFER_EXTENSION_GITHUB_";

/**
 * The run's variables. Always EVENT, ACTION, REPOSITORY, REF, SHA, AUTHOR and DELIVERY (empty when the delivery
 * has no such thing), plus v0's per-event names for push, pull_request and release.
 */
export function runVariables(
  event: string,
  payload: Payload,
  deliveryId: string | undefined,
): Record<string, string> {
  const variables: Record<string, string | undefined> = {
    EVENT: event,
    ACTION: action(payload),
    REPOSITORY: repositoryName(payload),
    REF: eventRef(event, payload),
    SHA: eventSha(payload),
    AUTHOR: field(payload, "sender", "login") ?? field(payload, "pusher", "name"),
    DELIVERY: deliveryId,
  };
  if (event === "push") {
    const commit = (...path: string[]) => field(payload, "head_commit", ...path);
    Object.assign(variables, {
      HEAD_COMMIT_ID: commit("id"),
      HEAD_COMMIT_AUTHOR_NAME: commit("author", "name"),
      HEAD_COMMIT_AUTHOR_EMAIL: commit("author", "email"),
      HEAD_COMMIT_AUTHOR_USERNAME: commit("author", "username"),
      HEAD_COMMIT_COMMITTER_NAME: commit("committer", "name"),
      HEAD_COMMIT_COMMITTER_EMAIL: commit("committer", "email"),
      HEAD_COMMIT_COMMITTER_USERNAME: commit("committer", "username"),
    });
  } else if (event === "pull_request") {
    const pull = (...path: string[]) => field(payload, "pull_request", ...path);
    Object.assign(variables, {
      PULLREQUEST_HEAD_REF: pull("head", "ref"),
      PULLREQUEST_BRANCH: pull("head", "ref"),
      PULLREQUEST_HEAD_SHA: pull("head", "sha"),
      PULLREQUEST_AUTHOR_USERNAME: pull("user", "login"),
      PULLREQUEST_AUTHOR_NAME: pull("user", "name"),
      PULLREQUEST_AUTHOR_EMAIL: pull("user", "email"),
    });
  } else if (event === "release") {
    const release = (...path: string[]) => field(payload, "release", ...path);
    Object.assign(variables, {
      RELEASE_TAG_NAME: release("tag_name"),
      RELEASE_TARGET_COMMITISH: release("target_commitish"),
      RELEASE_AUTHOR_LOGIN: release("author", "login"),
      RELEASE_CREATED_AT: release("created_at"),
      RELEASE_PUBLISHED_AT: release("published_at"),
    });
  }
  const always = new Set(["EVENT", "ACTION", "REPOSITORY", "REF", "SHA", "AUTHOR", "DELIVERY"]);
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(variables)) {
    if (value !== undefined) result[PREFIX + name] = value;
    else if (always.has(name)) result[PREFIX + name] = "";
  }
  return result;
}
