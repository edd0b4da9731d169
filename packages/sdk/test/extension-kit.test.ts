import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, request as httpRequest } from "node:http";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { GoferApiError } from "../src/client/index.ts";
import {
  defineExtension,
  type ExtensionContext,
  type ExtensionDefinition,
  ExtensionError,
  type ExternalEvent,
  type RunningExtension,
  runExtension,
  type Subscription,
  type SubscriptionKey,
} from "../src/extension/index.ts";
import { assertEnvelope, call, SECRET } from "./support/extension-client.ts";
import { closeServer, FakeServer, listenLocally } from "./support/fake-server.ts";

const MiB = 1024 * 1024;

/** The env Gofer would give the container, listening on a free loopback port; errors only, to keep output quiet. */
function extensionEnv(goferUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    GOFER_EXTENSION_SYSTEM_ID: "hello",
    GOFER_EXTENSION_SYSTEM_SECRET: SECRET,
    GOFER_EXTENSION_SYSTEM_GOFER_URL: goferUrl,
    GOFER_EXTENSION_SYSTEM_BIND_ADDRESS: "127.0.0.1:0",
    GOFER_EXTENSION_SYSTEM_LOG_LEVEL: "error",
    GOFER_EXTENSION_SYSTEM_USE_TLS: "false",
    ...extra,
  };
}

/** Records what the kit handed to each handler. */
class Recorder {
  subscribed: Subscription[] = [];
  unsubscribed: SubscriptionKey[] = [];
  events: ExternalEvent[] = [];
  context: ExtensionContext | undefined;
  shutdownCalls = 0;
  /** Whether context.signal was already aborted when the shutdown hook ran. */
  abortedAtShutdown: boolean | undefined;
  /** Thrown by subscribe when set. */
  failWith: unknown;

  definition(overrides: Partial<ExtensionDefinition> = {}): ExtensionDefinition {
    return defineExtension({
      documentation: {
        body: "Says hello to pipelines.",
        configParams: [{ key: "greeting", required: false, documentation: "What to say." }],
        subscriptionParams: [
          { key: "every", required: true, documentation: "How often, e.g. 5m." },
          { key: "name", required: false, documentation: "Who to greet." },
        ],
      },
      setup: (context) => {
        this.context = context;
      },
      subscribe: (subscription) => {
        if (this.failWith !== undefined) throw this.failWith;
        this.subscribed.push(subscription);
      },
      unsubscribe: (key) => {
        this.unsubscribed.push(key);
      },
      externalEvent: (event) => {
        this.events.push(event);
      },
      shutdown: (context) => {
        this.shutdownCalls += 1;
        this.abortedAtShutdown = context.signal.aborted;
      },
      ...overrides,
    });
  }
}

const subscription = {
  namespace_id: "default",
  pipeline_id: "hello-pipeline",
  pipeline_subscription_id: "every-minute",
  pipeline_subscription_params: { every: "1m", name: "world" },
};

/** Collects the kit's JSON log lines written while `work` runs, passing everything else through to stdout. */
async function captureLogs<T>(
  work: () => Promise<T>,
): Promise<{ result: T; logs: Record<string, unknown>[] }> {
  const logs: Record<string, unknown>[] = [];
  const original = process.stdout.write;
  process.stdout.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: never[]) {
    if (typeof chunk === "string" && chunk.startsWith('{"level":')) {
      for (const line of chunk.split("\n").filter(Boolean)) logs.push(JSON.parse(line));
      return true;
    }
    return original.call(this, chunk as string, ...rest);
  } as typeof process.stdout.write;
  try {
    return { result: await work(), logs };
  } finally {
    process.stdout.write = original;
  }
}

describe("extension kit over HTTP", () => {
  const gofer = new FakeServer();
  let goferUrl = "";
  let recorder: Recorder;
  let running: RunningExtension;
  let url = "";

  before(async () => {
    goferUrl = await gofer.start();
  });
  after(() => gofer.stop());

  beforeEach(async () => {
    recorder = new Recorder();
    gofer.requests.length = 0;
    running = await runExtension(recorder.definition(), {
      env: extensionEnv(goferUrl),
      exitOnShutdown: false,
    });
    url = running.url;
  });
  // The shutdown tests close it themselves; closing again is a no-op, which they check too.
  afterEach(() => running.close());

  test("listens on the real port when the bind address asks for port 0", () => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(new URL(url).port, "0");
  });

  test("health answers 204 without a secret", async () => {
    const answer = await call(url, "GET", "/api/health", { authorization: null });
    assert.equal(answer.status, 204);
    assert.equal(answer.text, "");
  });

  test("info returns the extension id and its documentation in wire form", async () => {
    const answer = await call(url, "GET", "/api/info");
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.text), {
      extension_id: "hello",
      documentation: {
        body: "Says hello to pipelines.",
        config_params: [{ key: "greeting", required: false, documentation: "What to say." }],
        pipeline_subscription_params: [
          { key: "every", required: true, documentation: "How often, e.g. 5m." },
          { key: "name", required: false, documentation: "Who to greet." },
        ],
      },
    });
  });

  test("a missing Authorization header is a 400", async () => {
    const answer = await call(url, "GET", "/api/info", { authorization: null });
    const envelope = assertEnvelope(answer, 400, "INVALID_AUTHORIZATION");
    assert.match(envelope.message, /Missing Authorization/);
  });

  test("an Authorization header that is not Bearer is a 400", async () => {
    const answer = await call(url, "GET", "/api/debug", { authorization: `Basic ${SECRET}` });
    assertEnvelope(answer, 400, "INVALID_AUTHORIZATION");
  });

  test("a wrong secret is a 401, and the handler is not called", async () => {
    const answer = await call(url, "POST", "/api/subscribe", {
      authorization: "Bearer not-the-secret",
      body: subscription,
    });
    assertEnvelope(answer, 401, "UNAUTHENTICATED");
    assert.equal(recorder.subscribed.length, 0);
  });

  test("every request gets its own request id", async () => {
    const first = assertEnvelope(
      await call(url, "GET", "/api/info", { authorization: null }),
      400,
      "INVALID_AUTHORIZATION",
    );
    const second = assertEnvelope(
      await call(url, "GET", "/api/info", { authorization: null }),
      400,
      "INVALID_AUTHORIZATION",
    );
    assert.notEqual(first.request_id, second.request_id);
  });

  test("subscribe hands the parsed subscription to the handler and answers 204, again on a replay", async () => {
    assert.equal((await call(url, "POST", "/api/subscribe", { body: subscription })).status, 204);
    assert.equal((await call(url, "POST", "/api/subscribe", { body: subscription })).status, 204);
    const expected = {
      namespaceId: "default",
      pipelineId: "hello-pipeline",
      subscriptionId: "every-minute",
      params: { every: "1m", name: "world" },
    };
    assert.deepEqual(recorder.subscribed, [expected, expected]);
  });

  test("subscribe without a required subscription param is refused naming it", async () => {
    const answer = await call(url, "POST", "/api/subscribe", {
      body: { ...subscription, pipeline_subscription_params: { name: "world" } },
    });
    const envelope = assertEnvelope(answer, 400, "INVALID_SUBSCRIPTION");
    assert.match(envelope.message, /"every"/);
    assert.equal(recorder.subscribed.length, 0);
  });

  test("a body of the wrong shape is a 400 naming the field", async () => {
    const cases: [unknown, RegExp][] = [
      [[1, 2], /must be a JSON object, not an array/],
      [{ ...subscription, namespace_id: 7 }, /namespace_id must be a string, not a number/],
      [{ ...subscription, pipeline_id: undefined }, /pipeline_id is missing/],
      [{ ...subscription, pipeline_subscription_id: "" }, /pipeline_subscription_id must not be empty/],
      [
        { ...subscription, pipeline_subscription_params: [] },
        /pipeline_subscription_params must be an object/,
      ],
      [
        { ...subscription, pipeline_subscription_params: { every: 60 } },
        /pipeline_subscription_params\.every must be a string, not a number/,
      ],
    ];
    for (const [body, message] of cases) {
      const envelope = assertEnvelope(
        await call(url, "POST", "/api/subscribe", { body }),
        400,
        "BAD_REQUEST",
      );
      assert.match(envelope.message, message);
    }
    assert.equal(recorder.subscribed.length, 0);
  });

  test("a body that is not JSON, or is empty, is a 400", async () => {
    const broken = assertEnvelope(
      await call(url, "POST", "/api/subscribe", { body: "{not json" }),
      400,
      "BAD_REQUEST",
    );
    assert.match(broken.message, /not valid JSON/);
    const empty = assertEnvelope(
      await call(url, "DELETE", "/api/subscribe", { body: "" }),
      400,
      "BAD_REQUEST",
    );
    assert.match(empty.message, /empty/);
  });

  test("a body over 1 MiB is a 413 before it is read", async () => {
    const params = { every: "1m", padding: "x".repeat(MiB) };
    const answer = await call(url, "POST", "/api/subscribe", {
      body: { ...subscription, pipeline_subscription_params: params },
    });
    const envelope = assertEnvelope(answer, 413, "BODY_TOO_LARGE");
    assert.match(envelope.message, /1 MiB/);
    assert.equal(recorder.subscribed.length, 0);
  });

  test("a streamed body without a length is cut off at the limit with a 413", async () => {
    const target = new URL("/api/subscribe", url);
    const request = httpRequest(target, {
      method: "POST",
      headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json" },
    });
    // The client keeps writing past the limit; a write failing once the kit closes the connection is expected.
    request.on("error", () => undefined);
    let written = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = () => {
      while (written < 4 * MiB && request.write(chunk)) written += chunk.length;
      if (written < 4 * MiB) request.once("drain", pump);
    };
    request.write('{"padding":"');
    pump();
    const [response] = (await once(request, "response")) as [import("node:http").IncomingMessage];
    let text = "";
    for await (const part of response) text += String(part);
    assert.equal(response.statusCode, 413);
    assert.equal(JSON.parse(text).error_code, "BODY_TOO_LARGE");
    assert.equal(response.headers.connection, "close");
    request.destroy();
  });

  test("an unknown path is a 404 and a known path with another method a 405", async () => {
    const missing = assertEnvelope(await call(url, "GET", "/api/nothing"), 404, "NOT_FOUND");
    assert.match(missing.message, /\/api\/nothing/);
    const wrong = await call(url, "PUT", "/api/subscribe", { body: subscription });
    assertEnvelope(wrong, 405, "METHOD_NOT_ALLOWED");
    assert.equal(wrong.headers.get("allow"), "POST, DELETE");
    assertEnvelope(await call(url, "POST", "/api/health"), 405, "METHOD_NOT_ALLOWED");
  });

  test("unsubscribe hands the key to the handler and answers 204, also for an unknown one", async () => {
    const { namespace_id, pipeline_id, pipeline_subscription_id } = subscription;
    const body = { namespace_id, pipeline_id, pipeline_subscription_id };
    assert.equal((await call(url, "DELETE", "/api/subscribe", { body })).status, 204);
    assert.deepEqual(recorder.unsubscribed, [
      { namespaceId: "default", pipelineId: "hello-pipeline", subscriptionId: "every-minute" },
    ]);
  });

  test("an external event's bytes and headers arrive intact", async () => {
    const bytes = Array.from({ length: 512 }, (_, index) => (index * 7) % 256);
    const headers = { "content-type": "application/octet-stream", "x-hub-signature-256": "sha256=abc" };
    const answer = await call(url, "POST", "/api/external-event", { body: { headers, body: bytes } });
    assert.equal(answer.status, 204, answer.text);
    const [event] = recorder.events;
    assert.ok(event);
    assert.ok(event.body instanceof Uint8Array);
    assert.deepEqual([...event.body], bytes);
    assert.deepEqual(event.headers, headers);
  });

  test("an external event with a value that is not a byte is a 400 naming its index", async () => {
    const answer = await call(url, "POST", "/api/external-event", {
      body: { headers: {}, body: [1, 2, 256] },
    });
    const envelope = assertEnvelope(answer, 400, "BAD_REQUEST");
    assert.match(envelope.message, /body\[2\]/);
    const headers = await call(url, "POST", "/api/external-event", { body: { headers: { a: 1 }, body: [] } });
    assert.match(assertEnvelope(headers, 400, "BAD_REQUEST").message, /headers\.a must be a string/);
  });

  test("an external event may be up to 48 MiB of JSON and no more", async () => {
    // Over 1 MiB of JSON, so only the external-event limit lets it through.
    const large = Array.from({ length: 600_000 }, (_, index) => index % 256);
    assert.equal(
      (await call(url, "POST", "/api/external-event", { body: { headers: {}, body: large } })).status,
      204,
    );
    assert.equal(recorder.events[0]?.body.length, 600_000);
    const tooLarge = `{"headers":{},"body":[${"0,".repeat(24 * MiB)}0]}`;
    assertEnvelope(await call(url, "POST", "/api/external-event", { body: tooLarge }), 413, "BODY_TOO_LARGE");
  });

  test("an ExtensionError thrown by a handler becomes the answer", async () => {
    recorder.failWith = new ExtensionError(409, "ALREADY_WATCHING", "That pipeline is already watched");
    const envelope = assertEnvelope(
      await call(url, "POST", "/api/subscribe", { body: subscription }),
      409,
      "ALREADY_WATCHING",
    );
    assert.equal(envelope.message, "That pipeline is already watched");
  });

  test("a plain Error thrown by a handler is a 500 with its message", async () => {
    recorder.failWith = new Error("the clock is broken");
    const { result: answer, logs } = await captureLogs(() =>
      call(url, "POST", "/api/subscribe", { body: subscription }),
    );
    const envelope = assertEnvelope(answer, 500, "INTERNAL");
    assert.equal(envelope.message, "the clock is broken");
    assert.ok(logs.some((entry) => entry.level === "error" && entry.error === "the clock is broken"));
  });

  test("debug without a handler summarises the active subscriptions", async () => {
    await call(url, "POST", "/api/subscribe", { body: subscription });
    const answer = await call(url, "GET", "/api/debug");
    assert.equal(answer.status, 200);
    const { info } = JSON.parse(answer.text) as { info: string };
    assert.match(info, /Extension hello: 1 subscription/);
    assert.match(info, /default\/hello-pipeline every-minute/);
  });

  test("the config reads GOFER_EXTENSION_CONFIG_<KEY>, an empty value as undefined", async () => {
    const seen: (string | undefined)[] = [];
    const configured = await runExtension(
      recorder.definition({
        setup: (context) => {
          seen.push(
            context.config("greeting"),
            context.config("GREETING"),
            context.config("empty"),
            context.config("none"),
          );
        },
      }),
      {
        env: extensionEnv(goferUrl, {
          GOFER_EXTENSION_CONFIG_GREETING: "hi",
          GOFER_EXTENSION_CONFIG_EMPTY: "",
        }),
        exitOnShutdown: false,
      },
    );
    await configured.close();
    assert.deepEqual(seen, ["hi", "hi", undefined, undefined]);
  });

  test("startRun starts a run through Gofer's API as the extension and returns its id", async () => {
    gofer.next = {
      status: 201,
      body: { run: { namespace_id: "default", pipeline_id: "hello-pipeline", run_id: 42 } },
    };
    const context = recorder.context;
    assert.ok(context);
    const { result: runId, logs } = await captureLogs(() =>
      context.startRun({ namespaceId: "default", pipelineId: "hello-pipeline" }, { GREETING: "hi" }),
    );
    assert.equal(runId, 42);
    const sent = gofer.last;
    assert.equal(sent.method, "POST");
    assert.equal(sent.url, "/api/namespaces/default/pipelines/hello-pipeline/runs");
    assert.equal(sent.headers.authorization, `Bearer ${SECRET}`);
    assert.equal(sent.headers["gofer-api-version"], "v0");
    assert.deepEqual(JSON.parse(sent.body), { variables: { GREETING: "hi" } });
    // The level is `error` in these tests, so the info line is not written; only failures would be.
    assert.deepEqual(logs, []);
  });

  test("startRun logs the run it started at info level", async () => {
    gofer.next = { status: 201, body: { run: { run_id: 9 } } };
    const { result, logs } = await captureLogs(async () => {
      const verbose = await runExtension(recorder.definition(), {
        env: extensionEnv(goferUrl, { GOFER_EXTENSION_SYSTEM_LOG_LEVEL: "info" }),
        exitOnShutdown: false,
      });
      const runId = await recorder.context?.startRun({ namespaceId: "ns", pipelineId: "pipe" });
      await verbose.close();
      return runId;
    });
    assert.equal(result, 9);
    const started = logs.find((entry) => entry.msg === "run started");
    assert.deepEqual(
      {
        level: started?.level,
        namespace: started?.namespace,
        pipeline: started?.pipeline,
        run_id: started?.run_id,
      },
      { level: "info", namespace: "ns", pipeline: "pipe", run_id: 9 },
    );
    assert.equal(typeof started?.time, "string");
  });

  test("startRun rethrows Gofer's refusal after logging it", async () => {
    gofer.next = {
      status: 503,
      body: { message: "Pipeline is disabled", request_id: "r", error_code: "PIPELINE_INACTIVE" },
    };
    const context = recorder.context;
    assert.ok(context);
    const { result: failure, logs } = await captureLogs(() =>
      context.startRun({ namespaceId: "ns", pipelineId: "pipe" }).then(
        () => undefined,
        (error: unknown) => error,
      ),
    );
    assert.ok(failure instanceof GoferApiError);
    assert.equal(failure.status, 503);
    const entry = logs.find((line) => line.msg === "run could not be started");
    assert.equal(entry?.error, "Pipeline is disabled");
  });

  test("POST /api/shutdown answers 204, aborts the signal, runs the hook and closes the server", async () => {
    const context = recorder.context;
    assert.ok(context);
    const aborted = once(context.signal, "abort");
    const answer = await call(url, "POST", "/api/shutdown");
    assert.equal(answer.status, 204);
    await aborted;
    await running.close();
    assert.equal(recorder.shutdownCalls, 1);
    assert.equal(recorder.abortedAtShutdown, true);
    await assert.rejects(fetch(`${url}/api/health`), TypeError);
  });

  test("close() shuts down once however often it is called", async () => {
    await Promise.all([running.close(), running.close()]);
    await running.close();
    assert.equal(recorder.shutdownCalls, 1);
    assert.equal(recorder.context?.signal.aborted, true);
  });
});

describe("extension kit without external events or with its own debug", () => {
  test("external-event is a 404 when the extension takes none, and debug uses the handler", async () => {
    const definition = defineExtension({
      documentation: { body: "Minimal." },
      subscribe: () => undefined,
      unsubscribe: () => undefined,
      debug: (context) => `debug of ${context.id}`,
    });
    const running = await runExtension(definition, {
      env: extensionEnv("http://127.0.0.1:1"),
      exitOnShutdown: false,
    });
    try {
      assertEnvelope(
        await call(running.url, "POST", "/api/external-event", { body: { headers: {}, body: [] } }),
        404,
        "NOT_FOUND",
      );
      assert.deepEqual(JSON.parse((await call(running.url, "GET", "/api/debug")).text), {
        info: "debug of hello",
      });
      const info = JSON.parse((await call(running.url, "GET", "/api/info")).text);
      assert.deepEqual(info.documentation, {
        body: "Minimal.",
        config_params: [],
        pipeline_subscription_params: [],
      });
    } finally {
      await running.close();
    }
  });
});

describe("extension kit start-up", () => {
  const definition = defineExtension({
    documentation: {
      body: "Needs config.",
      configParams: [
        { key: "min_interval", required: true, documentation: "The shortest interval allowed." },
      ],
    },
    subscribe: () => undefined,
    unsubscribe: () => undefined,
  });

  test("a missing required config param rejects naming its variable", async () => {
    await assert.rejects(
      runExtension(definition, { env: extensionEnv("http://127.0.0.1:1"), exitOnShutdown: false }),
      /GOFER_EXTENSION_CONFIG_MIN_INTERVAL is not set/,
    );
  });

  test("every problem with the environment is reported at once", async () => {
    await assert.rejects(
      runExtension(definition, {
        env: {
          GOFER_EXTENSION_SYSTEM_BIND_ADDRESS: "nowhere",
          GOFER_EXTENSION_SYSTEM_LOG_LEVEL: "loud",
          GOFER_EXTENSION_CONFIG_MIN_INTERVAL: "",
        },
        exitOnShutdown: false,
      }),
      (error: Error) => {
        for (const name of [
          "GOFER_EXTENSION_SYSTEM_ID",
          "GOFER_EXTENSION_SYSTEM_SECRET",
          "GOFER_EXTENSION_SYSTEM_GOFER_URL",
          "GOFER_EXTENSION_SYSTEM_BIND_ADDRESS",
          "GOFER_EXTENSION_SYSTEM_LOG_LEVEL",
          "GOFER_EXTENSION_CONFIG_MIN_INTERVAL",
        ]) {
          assert.match(error.message, new RegExp(name));
        }
        return true;
      },
    );
  });

  test("without _GOFER_URL, _GOFER_HOST is used with the scheme USE_TLS says", async () => {
    const gofer = new FakeServer();
    const goferUrl = await gofer.start();
    gofer.next = { status: 201, body: { run: { run_id: 3 } } };
    let context: ExtensionContext | undefined;
    const env = extensionEnv("unused", { GOFER_EXTENSION_SYSTEM_GOFER_HOST: new URL(goferUrl).host });
    delete env.GOFER_EXTENSION_SYSTEM_GOFER_URL;
    const running = await runExtension(
      {
        ...definition,
        documentation: { body: "" },
        setup: (given) => {
          context = given;
        },
      },
      { env, exitOnShutdown: false },
    );
    try {
      assert.equal(await context?.startRun({ namespaceId: "ns", pipelineId: "pipe" }), 3);
      assert.equal(gofer.last.url, "/api/namespaces/ns/pipelines/pipe/runs");
    } finally {
      await running.close();
      await gofer.stop();
    }
  });

  test("USE_TLS=true without the certificate and key rejects naming both variables", async () => {
    const env = extensionEnv("https://127.0.0.1:1", {
      GOFER_EXTENSION_CONFIG_MIN_INTERVAL: "1m",
      GOFER_EXTENSION_SYSTEM_USE_TLS: "true",
    });
    await assert.rejects(runExtension(definition, { env, exitOnShutdown: false }), (error: Error) => {
      assert.match(error.message, /GOFER_EXTENSION_SYSTEM_TLS_CERT is not set \(the PEM certificate/);
      assert.match(error.message, /GOFER_EXTENSION_SYSTEM_TLS_KEY is not set \(the PEM private key/);
      return true;
    });
  });

  test("USE_TLS=true with PEMs that cannot serve HTTPS rejects naming them", async () => {
    const env = extensionEnv("https://127.0.0.1:1", {
      GOFER_EXTENSION_CONFIG_MIN_INTERVAL: "1m",
      GOFER_EXTENSION_SYSTEM_USE_TLS: "true",
      GOFER_EXTENSION_SYSTEM_TLS_CERT: "not a certificate",
      GOFER_EXTENSION_SYSTEM_TLS_KEY: "not a key",
    });
    await assert.rejects(
      runExtension(definition, { env, exitOnShutdown: false }),
      /GOFER_EXTENSION_SYSTEM_TLS_CERT and GOFER_EXTENSION_SYSTEM_TLS_KEY cannot serve HTTPS/,
    );
  });

  test("a setup that throws rejects with its message and aborts the signal", async () => {
    let context: ExtensionContext | undefined;
    await assert.rejects(
      runExtension(
        {
          ...definition,
          setup: (given) => {
            context = given;
            throw new ExtensionError(400, "BAD_CONFIG", "min_interval must be a duration");
          },
        },
        {
          env: extensionEnv("http://127.0.0.1:1", { GOFER_EXTENSION_CONFIG_MIN_INTERVAL: "x" }),
          exitOnShutdown: false,
        },
      ),
      /min_interval must be a duration/,
    );
    assert.equal(context?.signal.aborted, true);
  });

  test("a bind address in use rejects with a clear message", async () => {
    const holder = createServer();
    const taken = new URL(await listenLocally(holder)).host;
    try {
      await assert.rejects(
        runExtension(definition, {
          env: extensionEnv("http://127.0.0.1:1", {
            GOFER_EXTENSION_SYSTEM_BIND_ADDRESS: taken,
            GOFER_EXTENSION_CONFIG_MIN_INTERVAL: "1m",
          }),
          exitOnShutdown: false,
        }),
        new RegExp(
          `Cannot listen on ${taken} \\(GOFER_EXTENSION_SYSTEM_BIND_ADDRESS\\): the address is already in use`,
        ),
      );
    } finally {
      await closeServer(holder);
    }
  });

  test("ExtensionError refuses a status that is not an error", () => {
    assert.throws(() => new ExtensionError(204, "OK", "fine"), RangeError);
  });
});

describe("extension kit as the process owner", () => {
  const script = fileURLToPath(new URL("./support/extension-process.ts", import.meta.url));

  interface Started {
    child: ChildProcess;
    /** Every JSON log line the process wrote, as it arrives. */
    logs: Record<string, unknown>[];
    exited: Promise<number | null>;
  }

  function startProcess(env: Record<string, string>): Started {
    const child = spawn(process.execPath, [script], {
      env: { PATH: process.env.PATH, ...env },
      stdio: "pipe",
    });
    const logs: Record<string, unknown>[] = [];
    let pending = "";
    child.stdout?.on("data", (data: Buffer) => {
      pending += data.toString("utf8");
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines.filter(Boolean)) logs.push(JSON.parse(line));
    });
    const exited = once(child, "exit").then(([code]) => code as number | null);
    return { child, logs, exited };
  }

  async function listening(started: Started): Promise<string> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const line = started.logs.find((entry) => entry.msg === "extension listening");
      if (typeof line?.url === "string") return line.url;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    started.child.kill("SIGKILL");
    throw new Error(`the extension process did not start: ${JSON.stringify(started.logs)}`);
  }

  const env = (extra: Record<string, string> = {}) =>
    extensionEnv("http://127.0.0.1:1", { GOFER_EXTENSION_SYSTEM_LOG_LEVEL: "info", ...extra });

  test("SIGTERM runs the shutdown hook and exits 0", async () => {
    const started = startProcess(env());
    await listening(started);
    started.child.kill("SIGTERM");
    assert.equal(await started.exited, 0);
    const messages = started.logs.map((entry) => entry.msg);
    assert.deepEqual(messages.slice(-3), [
      "extension shutting down",
      "shutdown hook ran",
      "extension stopped",
    ]);
    assert.equal(started.logs.find((entry) => entry.msg === "shutdown hook ran")?.aborted, true);
  });

  test("POST /api/shutdown answers 204 and then the process exits 0", async () => {
    const started = startProcess(env());
    const url = await listening(started);
    assert.equal((await call(url, "POST", "/api/shutdown")).status, 204);
    assert.equal(await started.exited, 0);
    assert.ok(started.logs.some((entry) => entry.msg === "shutdown hook ran"));
  });

  test("a bind address in use exits 1 with a clear message", async () => {
    const holder = createServer();
    const taken = new URL(await listenLocally(holder)).host;
    try {
      const started = startProcess(env({ GOFER_EXTENSION_SYSTEM_BIND_ADDRESS: taken }));
      assert.equal(await started.exited, 1);
      const failure = started.logs.find((entry) => entry.level === "error");
      assert.equal(failure?.msg, "extension could not start");
      assert.match(String(failure?.error), /already in use/);
    } finally {
      await closeServer(holder);
    }
  });
});
