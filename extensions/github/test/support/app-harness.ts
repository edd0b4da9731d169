/**
 * The github extension run in-process by the kit with GitHub App settings, against a fake Gofer and a fake
 * GitHub on loopback, and the calls a test makes to it the way Gofer would.
 */
import { generateKeyPairSync } from "node:crypto";
import { type RunningExtension, runExtension } from "@gofer/sdk/extension";
import { callJson } from "../../../../packages/sdk/test/support/extension-client.ts";
import { createGithubExtension, type GithubExtensionOptions } from "../../src/extension.ts";
import { signBody } from "../../src/signature.ts";
import { fixture } from "../fixtures.ts";
import { FakeGithub } from "./fake-github.ts";
import { FakeGofer } from "./fake-gofer.ts";

export const SECRET = "github-check-secret";
export const WEBHOOK_SECRET = "It's a Secret to Everybody";
export const APP_ID = "12345";
export const INSTALLATION_ID = "678";
export const WEB_URL = "https://gofer.example.com";

/** Generated once per test process: no key is ever committed. */
const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
export const PUBLIC_KEY = keys.publicKey;
export const APP_KEY_BASE64 = Buffer.from(
  keys.privateKey.export({ type: "pkcs1", format: "pem" }) as string,
).toString("base64");

export interface Harness {
  gofer: FakeGofer;
  github: FakeGithub;
  extension: RunningExtension;
  call(method: string, path: string, body?: unknown): ReturnType<typeof callJson>;
  subscribe(pipeline: string, subscriptionId: string, params: Record<string, string>): Promise<number>;
  /** A signed pull_request delivery for octo-org/app with `action` and head commit `sha`. */
  deliverPullRequest(delivery: string, action: string, sha: string): Promise<number>;
  /** Starts the extension again on the same fakes, as after a restart. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface HarnessOptions extends GithubExtensionOptions {
  /** Run before the extension first starts, e.g. to leave state a previous start would have left. */
  beforeStart?(gofer: FakeGofer, github: FakeGithub): void;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const gofer = new FakeGofer(SECRET);
  const github = new FakeGithub({ appId: APP_ID, installationId: INSTALLATION_ID, publicKey: PUBLIC_KEY });
  const goferUrl = await gofer.start();
  const githubUrl = await github.start();
  options.beforeStart?.(gofer, github);
  const { beforeStart: _, ...extensionOptions } = options;
  const launch = () =>
    runExtension(createGithubExtension(extensionOptions), {
      env: {
        GOFER_EXTENSION_SYSTEM_ID: "github",
        GOFER_EXTENSION_SYSTEM_SECRET: SECRET,
        GOFER_EXTENSION_SYSTEM_GOFER_URL: goferUrl,
        GOFER_EXTENSION_SYSTEM_BIND_ADDRESS: "127.0.0.1:0",
        GOFER_EXTENSION_SYSTEM_LOG_LEVEL: "error",
        GOFER_EXTENSION_CONFIG_APP_WEBHOOK_SECRET: WEBHOOK_SECRET,
        GOFER_EXTENSION_CONFIG_APP_ID: APP_ID,
        GOFER_EXTENSION_CONFIG_APP_INSTALLATION: INSTALLATION_ID,
        GOFER_EXTENSION_CONFIG_APP_KEY: APP_KEY_BASE64,
        GOFER_EXTENSION_CONFIG_API_URL: `${githubUrl}/`,
        GOFER_EXTENSION_CONFIG_WEB_URL: `${WEB_URL}/`,
      },
      exitOnShutdown: false,
    });
  let extension = await launch();
  const call = (method: string, path: string, body?: unknown) =>
    callJson(extension.url, SECRET, method, path, body);
  const harness: Harness = {
    gofer,
    github,
    get extension() {
      return extension;
    },
    call,
    subscribe: async (pipeline, subscriptionId, params) => {
      const answer = await call("POST", "/api/subscribe", {
        namespace_id: "default",
        pipeline_id: pipeline,
        pipeline_subscription_id: subscriptionId,
        pipeline_subscription_params: params,
      });
      return answer.status;
    },
    deliverPullRequest: async (delivery, action, sha) => {
      const payload = fixture("pull_request") as { pull_request: { head: Record<string, unknown> } };
      const body = new TextEncoder().encode(
        JSON.stringify({
          ...payload,
          action,
          pull_request: { ...payload.pull_request, head: { ...payload.pull_request.head, sha } },
        }),
      );
      const answer = await call("POST", "/api/external-event", {
        headers: {
          "Content-Type": "application/json",
          "X-GitHub-Event": "pull_request",
          "X-GitHub-Delivery": delivery,
          "X-Hub-Signature-256": signBody(WEBHOOK_SECRET, body),
        },
        body: [...body],
      });
      return answer.status;
    },
    restart: async () => {
      await extension.close();
      extension = await launch();
    },
    stop: async () => {
      await extension.close();
      await gofer.stop();
      await github.stop();
    },
  };
  return harness;
}
