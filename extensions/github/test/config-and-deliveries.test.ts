import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { describe, it } from "node:test";
import { DEFAULT_API_URL, privateKeyProblem, readGithubConfig } from "../src/config.ts";
import { DeliveryLog } from "../src/delivery-log.ts";

const reader = (settings: Record<string, string>) => (key: string) => settings[key];

describe("github config", () => {
  const pem = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
    type: "pkcs1",
    format: "pem",
  });
  const base64 = Buffer.from(pem).toString("base64");

  it("takes webhook_secret, or v0's app_webhook_secret", () => {
    assert.deepEqual(readGithubConfig(reader({ webhook_secret: "s1" })), {
      webhookSecret: "s1",
      apiUrl: DEFAULT_API_URL,
    });
    assert.equal(readGithubConfig(reader({ app_webhook_secret: "s0" })).webhookSecret, "s0");
    assert.equal(
      readGithubConfig(reader({ webhook_secret: "new", app_webhook_secret: "old" })).webhookSecret,
      "new",
    );
  });

  it("refuses to start without a secret, naming the setting", () => {
    assert.throws(() => readGithubConfig(reader({})), /GOFER_EXTENSION_CONFIG_WEBHOOK_SECRET/);
  });

  it("takes v0's GitHub App settings, checking each", () => {
    const config = readGithubConfig(
      reader({ app_webhook_secret: "s", app_id: "12345", app_installation: "678", app_key: base64 }),
    );
    assert.equal(config.app?.appId, "12345");
    assert.equal(config.app?.installationId, "678");
    assert.equal(config.app?.privateKey.asymmetricKeyType, "rsa");
    assert.equal(config.missingAppSettings, undefined);
    assert.equal(privateKeyProblem(String(pem)), undefined);
    assert.throws(
      () => readGithubConfig(reader({ webhook_secret: "s", app_id: "my-app" })),
      /APP_ID must be a number/,
    );
    assert.throws(
      () => readGithubConfig(reader({ webhook_secret: "s", app_key: "bm90IGEga2V5" })),
      /APP_KEY is not a base64-encoded PEM/,
    );
    const broken = Buffer.from(
      "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
    ).toString("base64");
    assert.throws(
      () => readGithubConfig(reader({ webhook_secret: "s", app_key: broken })),
      /APP_KEY does not hold a usable private key/,
    );
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({
      type: "pkcs8",
      format: "pem",
    });
    assert.throws(
      () => readGithubConfig(reader({ webhook_secret: "s", app_key: Buffer.from(ec).toString("base64") })),
      /APP_KEY holds a ec key; a GitHub App's private key is RSA/,
    );
  });

  it("says which App settings are missing when only some are given", () => {
    const config = readGithubConfig(reader({ webhook_secret: "s", app_id: "12345" }));
    assert.equal(config.app, undefined);
    assert.deepEqual(config.missingAppSettings, ["app_installation", "app_key"]);
  });

  it("takes GitHub's API URL (GitHub Enterprise) and Gofer's web URL", () => {
    const config = readGithubConfig(
      reader({
        webhook_secret: "s",
        api_url: "https://ghe.example.com/api/v3/",
        web_url: "https://gofer.example.com/",
      }),
    );
    assert.equal(config.apiUrl, "https://ghe.example.com/api/v3");
    assert.equal(config.webUrl, "https://gofer.example.com");
    assert.throws(
      () => readGithubConfig(reader({ webhook_secret: "s", api_url: "ghe.example.com" })),
      /GOFER_EXTENSION_CONFIG_API_URL must be an http\(s\) URL/,
    );
    assert.throws(
      () => readGithubConfig(reader({ webhook_secret: "s", web_url: "ftp://gofer" })),
      /GOFER_EXTENSION_CONFIG_WEB_URL must be an http\(s\) URL/,
    );
  });
});

describe("delivery log", () => {
  it("starts each subscription once per delivery", () => {
    const log = new DeliveryLog();
    assert.equal(log.claim("d1", "a"), true);
    assert.equal(log.claim("d1", "b"), true);
    assert.equal(log.claim("d1", "a"), false);
    assert.equal(log.claim("d2", "a"), true);
  });

  it("lets a redelivery retry a run that failed to start", () => {
    const log = new DeliveryLog();
    assert.equal(log.claim("d1", "a"), true);
    log.release("d1", "a");
    assert.equal(log.claim("d1", "a"), true);
  });

  it("forgets the oldest delivery past its capacity", () => {
    const log = new DeliveryLog(1000);
    for (let i = 0; i < 1001; i++) log.claim(`d${i}`, "a");
    assert.equal(log.size, 1000);
    assert.equal(log.has("d0"), false);
    assert.equal(log.has("d1"), true);
    assert.equal(log.claim("d1000", "a"), false);
    assert.equal(log.claim("d0", "a"), true);
  });
});
