import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { Extension, Subscription } from "../src/client/index.ts";
import { GoferApiError, GoferClient, GoferConnectionError } from "../src/client/index.ts";
import { FakeServer, type RecordedRequest, refusingUrl, sendCanned } from "./support/fake-server.ts";

const extension: Extension = {
  registration: {
    extension_id: "interval",
    image: "gofer/extension-interval:latest",
    registry_auth: null,
    settings: [{ key: "MIN_INTERVAL", value: "********", source: "system" }],
    created: 1700,
    modified: 1700,
    status: "enabled",
    additional_roles: [],
  },
  url: "http://127.0.0.1:40211",
  started: 1800,
  state: "running",
  documentation: {
    body: "Runs a pipeline every so often.",
    config_params: [
      { key: "min_interval", required: false, documentation: "The shortest interval allowed." },
    ],
    pipeline_subscription_params: [{ key: "every", required: true, documentation: "How often, e.g. 5m." }],
  },
  state_reason: null,
  restarts: 0,
};

const subscription: Subscription = {
  namespace_id: "ns",
  pipeline_id: "pipe",
  extension_id: "interval",
  subscription_id: "every-5m",
  settings: { every: "5m" },
  status: "active",
  status_reason: null,
};

/** The body the client sent, parsed. */
const bodyOf = (request: RecordedRequest): unknown => JSON.parse(request.body);

describe("GoferClient extensions and subscriptions", () => {
  const server = new FakeServer();
  let baseUrl: string;
  let client: GoferClient;

  before(async () => {
    baseUrl = await server.start();
    client = new GoferClient({ baseUrl, token: "secret-token", timeoutMs: 2000 });
  });
  after(() => server.stop());
  beforeEach(() => {
    server.requests.length = 0;
    server.next = { status: 204 };
    server.handler = (_request, response) => sendCanned(response, server.next);
  });

  describe("extensions", () => {
    test("list unwraps {extensions} and sends the v0 headers", async () => {
      server.next = { status: 200, body: { extensions: [extension] } };
      assert.deepEqual(await client.extensions.list(), [extension]);
      const { method, url, headers } = server.last;
      assert.equal(method, "GET");
      assert.equal(url, "/api/extensions");
      assert.equal(headers["gofer-api-version"], "v0");
      assert.equal(headers.authorization, "Bearer secret-token");
    });

    test("get unwraps {extension}, with the extra state fields as served", async () => {
      const failed: Extension = {
        ...extension,
        state: "exited",
        url: "",
        started: 0,
        state_reason: { reason: "crashed", description: "exit code 2" },
        restarts: 3,
      };
      server.next = { status: 200, body: { extension: failed } };
      const got = await client.extensions.get("interval");
      assert.deepEqual(got, failed);
      assert.equal(got.registration.settings[0]?.value, "********");
      assert.equal(server.last.method, "GET");
      assert.equal(server.last.url, "/api/extensions/interval");
    });

    test("install POSTs id, image, settings, registry auth and roles, and unwraps the 201 {extension}", async () => {
      server.next = { status: 201, body: { extension } };
      const got = await client.extensions.install({
        id: "interval",
        image: "gofer/extension-interval:latest",
        settings: { min_interval: "1m" },
        registry_auth: { user: "robot", pass: "hunter2" },
        additional_roles: ["objects-writer"],
      });
      assert.deepEqual(got, extension);
      const request = server.last;
      assert.equal(request.method, "POST");
      assert.equal(request.url, "/api/extensions");
      assert.equal(request.headers["content-type"], "application/json");
      assert.deepEqual(bodyOf(request), {
        id: "interval",
        image: "gofer/extension-interval:latest",
        settings: { min_interval: "1m" },
        registry_auth: { user: "robot", pass: "hunter2" },
        additional_roles: ["objects-writer"],
      });
    });

    test("install leaves out the optional fields it was not given", async () => {
      server.next = { status: 201, body: { extension } };
      await client.extensions.install({ id: "cron", image: "gofer/extension-cron:latest", settings: {} });
      assert.deepEqual(bodyOf(server.last), {
        id: "cron",
        image: "gofer/extension-cron:latest",
        settings: {},
      });
    });

    test("enable and disable PATCH {enable} and accept the 204", async () => {
      assert.equal(await client.extensions.enable("interval"), undefined);
      assert.equal(server.last.method, "PATCH");
      assert.equal(server.last.url, "/api/extensions/interval");
      assert.deepEqual(bodyOf(server.last), { enable: true });
      await client.extensions.disable("interval");
      assert.equal(server.last.method, "PATCH");
      assert.deepEqual(bodyOf(server.last), { enable: false });
    });

    test("uninstall DELETEs the extension", async () => {
      await client.extensions.uninstall("interval");
      assert.equal(server.last.method, "DELETE");
      assert.equal(server.last.url, "/api/extensions/interval");
      assert.equal(server.last.body, "");
    });

    test("debug returns the info text", async () => {
      server.next = { status: 200, body: { info: "subscriptions: 2\nuptime: 5m" } };
      assert.equal(await client.extensions.debug("interval"), "subscriptions: 2\nuptime: 5m");
      assert.equal(server.last.method, "GET");
      assert.equal(server.last.url, "/api/extensions/interval/debug");
    });

    test("subscriptions lists the extension's subscriptions", async () => {
      server.next = { status: 200, body: { subscriptions: [subscription] } };
      assert.deepEqual(await client.extensions.subscriptions("interval"), [subscription]);
      assert.equal(server.last.method, "GET");
      assert.equal(server.last.url, "/api/extensions/interval/subscriptions");
    });

    test("ids are encoded as one path segment, and '.' or '' are refused before sending", async () => {
      server.next = { status: 200, body: { extension } };
      await client.extensions.get("a b/c");
      assert.equal(server.last.url, "/api/extensions/a%20b%2Fc");
      server.requests.length = 0;
      await assert.rejects(client.extensions.get(".."), TypeError);
      await assert.rejects(client.extensions.uninstall(""), TypeError);
      assert.equal(server.requests.length, 0);
    });

    test("a 404 envelope becomes a GoferApiError with the server's message and code", async () => {
      server.next = {
        status: 404,
        body: { message: 'Extension "missing" not found', request_id: "req-1", error_code: "NOT_FOUND" },
      };
      await assert.rejects(client.extensions.get("missing"), (error) => {
        assert.ok(error instanceof GoferApiError);
        assert.equal(error.status, 404);
        assert.equal(error.message, 'Extension "missing" not found');
        assert.equal(error.errorCode, "NOT_FOUND");
        assert.equal(error.requestId, "req-1");
        return true;
      });
    });

    test("a 401 on an admin-only call is a GoferApiError too", async () => {
      server.next = { status: 401, body: { message: "Route requires admin level token", request_id: "r" } };
      await assert.rejects(client.extensions.disable("interval"), (error) => {
        assert.ok(error instanceof GoferApiError);
        assert.equal(error.status, 401);
        return true;
      });
    });

    test("an answer without the expected envelope is not taken for a Gofer server", async () => {
      server.next = { status: 200, body: { items: [] } };
      await assert.rejects(client.extensions.list(), (error) => {
        assert.ok(error instanceof GoferConnectionError);
        assert.match(error.message, /"extensions"/);
        return true;
      });
      server.next = { status: 200, body: { something: "else" } };
      await assert.rejects(client.extensions.debug("interval"), GoferConnectionError);
    });
  });

  describe("extension logs", () => {
    async function collect(lines: AsyncIterable<string>): Promise<string[]> {
      const all: string[] = [];
      for await (const line of lines) all.push(line);
      return all;
    }

    test("yields the plain-text log line by line, following only when asked", async () => {
      server.handler = (_request, response) => {
        response.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
        response.end("listening on 0.0.0.0:8082\nsubscribed ns/pipe/every-5m\nno newline");
      };
      assert.deepEqual(await collect(client.extensions.logs("interval")), [
        "listening on 0.0.0.0:8082",
        "subscribed ns/pipe/every-5m",
        "no newline",
      ]);
      assert.equal(server.last.method, "GET");
      assert.equal(server.last.url, "/api/extensions/interval/logs");
      assert.equal(server.last.headers["gofer-api-version"], "v0");
      assert.equal(server.last.headers.authorization, "Bearer secret-token");
      await collect(client.extensions.logs("interval", { follow: true }));
      assert.equal(server.last.url, "/api/extensions/interval/logs?follow=true");
    });

    test("sends nothing until iterated", async () => {
      const lines = client.extensions.logs("interval");
      await sleep(20);
      assert.equal(server.requests.length, 0);
      server.handler = (_request, response) => void response.end("only\n");
      assert.deepEqual(await collect(lines), ["only"]);
    });

    test("a followed log may stay silent longer than the request timeout", async () => {
      const quick = new GoferClient({ baseUrl, timeoutMs: 200 });
      server.handler = (_request, response) => {
        response.writeHead(200, { "content-type": "text/plain" });
        response.write("before\n");
        setTimeout(() => response.end("after\n"), 400);
      };
      assert.deepEqual(await collect(quick.extensions.logs("interval", { follow: true })), [
        "before",
        "after",
      ]);
    });

    test("aborting the signal ends the iteration with the abort reason", async () => {
      server.handler = (_request, response) => {
        response.writeHead(200, { "content-type": "text/plain" });
        response.write("one\n");
      };
      const controller = new AbortController();
      const reason = new Error("stop");
      const lines: string[] = [];
      await assert.rejects(
        (async () => {
          for await (const line of client.extensions.logs("interval", {
            follow: true,
            signal: controller.signal,
          })) {
            lines.push(line);
            controller.abort(reason);
          }
        })(),
        (error) => error === reason,
      );
      assert.deepEqual(lines, ["one"]);
    });

    test("a refusal is a GoferApiError", async () => {
      server.next = { status: 404, body: { message: 'Extension "nope" not found', error_code: "NOT_FOUND" } };
      await assert.rejects(collect(client.extensions.logs("nope")), (error) => {
        assert.ok(error instanceof GoferApiError);
        assert.equal(error.status, 404);
        assert.equal(error.errorCode, "NOT_FOUND");
        return true;
      });
    });
  });

  describe("subscriptions", () => {
    const base = "/api/namespaces/ns/pipelines/pipe/subscriptions";

    test("list unwraps {subscriptions}", async () => {
      server.next = { status: 200, body: { subscriptions: [subscription] } };
      assert.deepEqual(await client.subscriptions.list("ns", "pipe"), [subscription]);
      assert.equal(server.last.method, "GET");
      assert.equal(server.last.url, base);
    });

    test("get addresses the subscription by extension and subscription id", async () => {
      server.next = { status: 200, body: { subscription } };
      assert.deepEqual(await client.subscriptions.get("ns", "pipe", "interval", "every-5m"), subscription);
      assert.equal(server.last.method, "GET");
      assert.equal(server.last.url, `${base}/interval/every-5m`);
    });

    test("create POSTs extension_id, subscription_id and settings, and unwraps the 201 {subscription}", async () => {
      server.next = { status: 201, body: { subscription } };
      const got = await client.subscriptions.create("ns", "pipe", {
        extension_id: "interval",
        subscription_id: "every-5m",
        settings: { every: "5m", token: "pipeline_secret{{api_token}}" },
      });
      assert.deepEqual(got, subscription);
      assert.equal(server.last.method, "POST");
      assert.equal(server.last.url, base);
      assert.deepEqual(bodyOf(server.last), {
        extension_id: "interval",
        subscription_id: "every-5m",
        settings: { every: "5m", token: "pipeline_secret{{api_token}}" },
      });
    });

    test("enable and disable PATCH {status} and accept the 204", async () => {
      assert.equal(await client.subscriptions.disable("ns", "pipe", "interval", "every-5m"), undefined);
      assert.equal(server.last.method, "PATCH");
      assert.equal(server.last.url, `${base}/interval/every-5m`);
      assert.deepEqual(bodyOf(server.last), { status: "disabled" });
      await client.subscriptions.enable("ns", "pipe", "interval", "every-5m");
      assert.deepEqual(bodyOf(server.last), { status: "active" });
    });

    test("delete DELETEs the subscription", async () => {
      await client.subscriptions.delete("ns", "pipe", "interval", "every-5m");
      assert.equal(server.last.method, "DELETE");
      assert.equal(server.last.url, `${base}/interval/every-5m`);
    });

    test("every id is its own encoded segment", async () => {
      server.next = { status: 200, body: { subscription } };
      await client.subscriptions.get("my ns", "a/b", "ext?x", "sub#1");
      assert.equal(server.last.url, "/api/namespaces/my%20ns/pipelines/a%2Fb/subscriptions/ext%3Fx/sub%231");
      server.requests.length = 0;
      await assert.rejects(client.subscriptions.delete("ns", "pipe", ".", "every-5m"), TypeError);
      assert.equal(server.requests.length, 0);
    });

    test("a 409 on a duplicate is a GoferApiError with its code", async () => {
      server.next = {
        status: 409,
        body: { message: "Subscription already exists", request_id: "r", error_code: "ALREADY_EXISTS" },
      };
      await assert.rejects(
        client.subscriptions.create("ns", "pipe", {
          extension_id: "interval",
          subscription_id: "every-5m",
          settings: {},
        }),
        (error) => {
          assert.ok(error instanceof GoferApiError);
          assert.equal(error.status, 409);
          assert.equal(error.errorCode, "ALREADY_EXISTS");
          return true;
        },
      );
    });

    test("an unreachable server is a GoferConnectionError", async () => {
      const offline = new GoferClient({ baseUrl: await refusingUrl(), timeoutMs: 1000 });
      await assert.rejects(offline.subscriptions.list("ns", "pipe"), GoferConnectionError);
    });
  });
});
