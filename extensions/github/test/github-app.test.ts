/** The App's JWT, the installation token cache and the check runs client, against the fake GitHub on loopback. */
import assert from "node:assert/strict";
import { createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { refusingUrl } from "../../../packages/sdk/test/support/fake-server.ts";
import { createAppJwt, InstallationTokens, TOKEN_REFRESH_MARGIN_MS } from "../src/github-app.ts";
import { GithubChecks } from "../src/github-checks.ts";
import { GithubApiError } from "../src/github-http.ts";
import { FakeGithub } from "./support/fake-github.ts";

const APP_ID = "12345";
const INSTALLATION_ID = "678";
/** Generated at test time: no key is committed. */
const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const app = { appId: APP_ID, installationId: INSTALLATION_ID, privateKey };
const TOKENS = /\/access_tokens$/;
const CHECK_RUNS = /\/check-runs$/;
const repository = { owner: "octo-org", repo: "app" };
const newCheckRun = {
  name: "ci",
  head_sha: "a".repeat(40),
  status: "in_progress" as const,
  started_at: "2025-01-15T17:26:27Z",
};

describe("App JWT", () => {
  it("is RS256, with iat a minute back, exp nine minutes ahead and the App id as iss", () => {
    const jwt = createAppJwt("42", privateKey, 1_750_000_000_500);
    const [header = "", claims = "", signature = ""] = jwt.split(".");
    const decode = (part: string) => JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as unknown;
    assert.deepEqual(decode(header), { alg: "RS256", typ: "JWT" });
    assert.deepEqual(decode(claims), { iat: 1_750_000_000 - 60, exp: 1_750_000_000 + 540, iss: "42" });
    const signed = Buffer.from(`${header}.${claims}`);
    assert.equal(verify("sha256", signed, publicKey, Buffer.from(signature, "base64url")), true);
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;
    assert.equal(verify("sha256", signed, other, Buffer.from(signature, "base64url")), false);
  });
});

describe("installation tokens", () => {
  let clock = Date.parse("2025-03-01T12:00:00Z");
  const now = () => clock;
  let github: FakeGithub;
  let apiUrl: string;

  before(async () => {
    github = new FakeGithub({ appId: APP_ID, installationId: INSTALLATION_ID, publicKey, now });
    apiUrl = await github.start();
  });

  after(() => github.stop());

  it("are bought with a JWT GitHub verifies, and kept until shortly before they expire", async () => {
    const tokens = new InstallationTokens({ app, apiUrl, now });
    const first = await tokens.token();
    assert.match(first, /^ghs_/);
    const calls = () => github.callsTo("POST", TOKENS);
    assert.equal(calls()[0]?.status, 201, calls()[0]?.refusal);

    clock += 30 * 60_000;
    assert.equal(await tokens.token(), first, "half an hour later the token is reused");
    assert.equal(calls().length, 1);

    clock += 30 * 60_000 - TOKEN_REFRESH_MARGIN_MS;
    const second = await tokens.token();
    assert.notEqual(second, first, "within the margin of its expiry the token is replaced");
    assert.equal(calls().length, 2);
    assert.equal(calls()[1]?.status, 201, "the new JWT is valid at the new time");

    clock += 2 * 60 * 60_000;
    assert.notEqual(await tokens.token(), second, "an expired token is never handed out");
    assert.equal(tokens.requested, 3);
  });

  it("share one request between concurrent callers", async () => {
    const tokens = new InstallationTokens({ app, apiUrl, now });
    const before = github.callsTo("POST", TOKENS).length;
    const [a, b, c] = await Promise.all([tokens.token(), tokens.token(), tokens.token()]);
    assert.equal(a, b);
    assert.equal(b, c);
    assert.equal(github.callsTo("POST", TOKENS).length, before + 1);
  });

  it("are refused when the JWT is signed with another key", async () => {
    const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    const tokens = new InstallationTokens({ app: { ...app, privateKey: stranger }, apiUrl, now });
    await assert.rejects(tokens.token(), (error: unknown) => {
      assert.ok(error instanceof GithubApiError);
      assert.equal(error.status, 401);
      assert.equal(error.retryable, false);
      assert.match(error.message, /signature does not verify/);
      return true;
    });
  });

  it("are refused when the JWT names another App", async () => {
    const tokens = new InstallationTokens({ app: { ...app, appId: "999" }, apiUrl, now });
    await assert.rejects(tokens.token(), /iss "999" is not the App's id/);
  });

  it("name the installation GitHub does not know", async () => {
    const tokens = new InstallationTokens({ app: { ...app, installationId: "999" }, apiUrl, now });
    await assert.rejects(
      tokens.token(),
      /GitHub answered 404 to POST \/app\/installations\/999\/access_tokens/,
    );
  });

  it("are refused when this clock is far behind GitHub's", async () => {
    const tokens = new InstallationTokens({ app, apiUrl, now: () => clock - 15 * 60_000 });
    await assert.rejects(tokens.token(), /the JWT has expired/);
  });
});

describe("check runs client", () => {
  let github: FakeGithub;
  let checks: GithubChecks;
  let tokens: InstallationTokens;

  before(async () => {
    github = new FakeGithub({
      appId: APP_ID,
      installationId: INSTALLATION_ID,
      publicKey: createPublicKey(privateKey),
    });
    const apiUrl = await github.start();
    tokens = new InstallationTokens({ app, apiUrl });
    checks = new GithubChecks({ apiUrl, tokens, retryDelaysMs: [1, 1] });
  });

  after(() => github.stop());

  it("creates and completes a check run with the installation token", async () => {
    const id = await checks.create(repository, newCheckRun);
    await checks.update(repository, id, {
      status: "completed",
      conclusion: "success",
      completed_at: "2025-01-15T17:30:00Z",
    });
    assert.equal(github.checkRuns.get(id)?.conclusion, "success");
    assert.deepEqual(
      github.calls.map((call) => `${call.method} ${call.status}`),
      ["POST 201", "POST 201", "PATCH 200"],
    );
  });

  it("retries server errors a bounded number of times", async () => {
    github.failNext("POST", CHECK_RUNS, 502);
    github.failNext("POST", CHECK_RUNS, 503);
    const before = github.callsTo("POST", CHECK_RUNS).length;
    await checks.create(repository, newCheckRun);
    assert.equal(github.callsTo("POST", CHECK_RUNS).length, before + 3);

    for (let i = 0; i < 3; i++) github.failNext("POST", CHECK_RUNS, 500);
    await assert.rejects(checks.create(repository, newCheckRun), /GitHub answered 500/);
  });

  it("does not retry what GitHub refuses", async () => {
    const before = github.callsTo("POST", CHECK_RUNS).length;
    await assert.rejects(
      checks.create(repository, { ...newCheckRun, head_sha: "main" }),
      /GitHub answered 422 .*head_sha is not a commit SHA/,
    );
    assert.equal(github.callsTo("POST", CHECK_RUNS).length, before + 1);
  });

  it("replaces a token GitHub refuses, once", async () => {
    const requested = tokens.requested;
    github.tokens.clear();
    await checks.create(repository, newCheckRun);
    assert.equal(tokens.requested, requested + 1);
  });

  it("says when GitHub cannot be reached", async () => {
    const apiUrl = await refusingUrl();
    const unreachable = new GithubChecks({
      apiUrl,
      tokens: new InstallationTokens({ app, apiUrl }),
      retryDelaysMs: [1],
    });
    await assert.rejects(unreachable.create(repository, newCheckRun), (error: unknown) => {
      assert.ok(error instanceof GithubApiError);
      assert.equal(error.status, undefined);
      assert.match(
        error.message,
        /GitHub could not be reached \(POST \/app\/installations\/678\/access_tokens\)/,
      );
      return true;
    });
  });
});
