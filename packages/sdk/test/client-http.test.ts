import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, beforeEach, describe, test } from "node:test";
import {
  GoferApiError,
  GoferClient,
  GoferConnectionError,
  type PipelineConfig,
} from "../src/client/index.ts";
import {
  type CannedResponse,
  closeServer,
  FakeServer,
  listenLocally,
  refusingUrl,
} from "./support/fake-server.ts";

const namespace = { id: "default", name: "Default", description: "", created: 1, modified: 2 };
const metadata = { namespace_id: "ns", pipeline_id: "pipe", created: 1, modified: 1, state: "active" };
const configVersion = {
  namespace_id: "ns",
  pipeline_id: "pipe",
  version: 3,
  parallelism: 0,
  name: "Pipe",
  description: "",
  tasks: {},
  state: "unreleased",
  registered: 5,
  deprecated: 0,
};
const deployment = {
  namespace_id: "ns",
  pipeline_id: "pipe",
  deployment_id: 1,
  start_version: 3,
  end_version: 3,
  started: 1,
  ended: 1,
  state: "Complete",
  status: "Successful",
  status_reason: null,
  logs: [],
};
const token = {
  id: "t1",
  created: 1,
  metadata: {},
  expires: 0,
  disabled: false,
  user: "root",
  roles: ["admin"],
};
const run = { run_id: 7, state: "pending" };
const taskExecution = { task_id: "build", state: "waiting" };
const attempt = { attempt: 1, status: "failed", exit_code: 3 };
const event = { id: "12", kind: { started_run: { run_id: 7 } }, emitted: 9 };
const pipelineConfig: PipelineConfig = {
  id: "pipe",
  name: "Pipe",
  description: null,
  parallelism: 0,
  tasks: [
    {
      id: "build",
      description: null,
      image: "busybox",
      registry_auth: null,
      depends_on: {},
      variables: {},
      entrypoint: null,
      command: ["true"],
      inject_api_token: false,
      always_pull_newest_image: false,
    },
  ],
};

describe("GoferClient over HTTP", () => {
  const server = new FakeServer();
  let baseUrl = "";
  let client: GoferClient;

  before(async () => {
    baseUrl = await server.start();
    client = new GoferClient({ baseUrl, token: "s3cret", userAgent: "gofer-test/1.0" });
  });
  after(() => server.stop());
  beforeEach(() => {
    server.next = { status: 204 };
  });

  test("sends the version header, the bearer token and the user agent on every request", async () => {
    server.next = { status: 200, body: { namespaces: [] } };
    await client.namespaces.list();
    const { headers } = server.last;
    assert.equal(headers["gofer-api-version"], "v0");
    assert.equal(headers.authorization, "Bearer s3cret");
    assert.equal(headers["user-agent"], "gofer-test/1.0");
    assert.equal(headers["content-type"], undefined, "no body, so no content type");
  });

  test("leaves out the Authorization header when no token is set", async () => {
    server.next = { status: 200, body: { commit: "abc", semver: "0.1.0" } };
    await new GoferClient({ baseUrl }).system.metadata();
    assert.equal(server.last.headers.authorization, undefined);
    assert.equal(server.last.headers["gofer-api-version"], "v0");
  });

  test("sends JSON bodies with their content type", async () => {
    server.next = { status: 201, body: { namespace } };
    await client.namespaces.create({ id: "default", name: "Default", description: "" });
    assert.equal(server.last.headers["content-type"], "application/json");
    assert.deepEqual(JSON.parse(server.last.body), { id: "default", name: "Default", description: "" });
  });

  // Each row: the call, the canned answer, and the request the server must have seen.
  const calls: {
    name: string;
    call: (client: GoferClient) => Promise<unknown>;
    answer: CannedResponse;
    method: string;
    url: string;
    body?: unknown;
    returns: unknown;
  }[] = [
    {
      name: "system.metadata",
      call: (c) => c.system.metadata(),
      answer: { status: 200, body: { commit: "abc", semver: "0.1.0" } },
      method: "GET",
      url: "/api/system/metadata",
      returns: { commit: "abc", semver: "0.1.0" },
    },
    {
      name: "tokens.bootstrap",
      call: (c) => c.tokens.bootstrap(),
      answer: { status: 201, body: { token_details: token, secret: "xyz" } },
      method: "POST",
      url: "/api/tokens/bootstrap",
      returns: { token_details: token, secret: "xyz" },
    },
    {
      name: "tokens.whoami",
      call: (c) => c.tokens.whoami(),
      answer: { status: 200, body: { token } },
      method: "GET",
      url: "/api/tokens/whoami",
      returns: token,
    },
    {
      name: "namespaces.list",
      call: (c) => c.namespaces.list(),
      answer: { status: 200, body: { namespaces: [namespace] } },
      method: "GET",
      url: "/api/namespaces",
      returns: [namespace],
    },
    {
      name: "namespaces.get",
      call: (c) => c.namespaces.get("default"),
      answer: { status: 200, body: { namespace } },
      method: "GET",
      url: "/api/namespaces/default",
      returns: namespace,
    },
    {
      name: "namespaces.update",
      call: (c) => c.namespaces.update("default", { name: "Renamed" }),
      answer: { status: 200, body: { namespace } },
      method: "PATCH",
      url: "/api/namespaces/default",
      body: { name: "Renamed" },
      returns: namespace,
    },
    {
      name: "namespaces.delete",
      call: (c) => c.namespaces.delete("default"),
      answer: { status: 204 },
      method: "DELETE",
      url: "/api/namespaces/default",
      returns: undefined,
    },
    {
      name: "pipelines.list",
      call: (c) => c.pipelines.list("ns"),
      answer: { status: 200, body: { pipelines: [metadata] } },
      method: "GET",
      url: "/api/namespaces/ns/pipelines",
      returns: [metadata],
    },
    {
      name: "pipelines.get",
      call: (c) => c.pipelines.get("ns", "pipe"),
      answer: { status: 200, body: { pipeline: metadata } },
      method: "GET",
      url: "/api/namespaces/ns/pipelines/pipe",
      returns: metadata,
    },
    {
      name: "pipelines.setState",
      call: (c) => c.pipelines.setState("ns", "pipe", "disabled"),
      answer: { status: 204 },
      method: "PATCH",
      url: "/api/namespaces/ns/pipelines/pipe",
      body: { state: "disabled" },
      returns: undefined,
    },
    {
      name: "pipelines.delete",
      call: (c) => c.pipelines.delete("ns", "pipe"),
      answer: { status: 204 },
      method: "DELETE",
      url: "/api/namespaces/ns/pipelines/pipe",
      returns: undefined,
    },
    {
      name: "configs.list",
      call: (c) => c.configs.list("ns", "pipe"),
      answer: { status: 200, body: { configs: [configVersion] } },
      method: "GET",
      url: "/api/namespaces/ns/pipelines/pipe/configs",
      returns: [configVersion],
    },
    {
      name: "configs.get",
      call: (c) => c.configs.get("ns", "pipe", 3),
      answer: { status: 200, body: { config: configVersion } },
      method: "GET",
      url: "/api/namespaces/ns/pipelines/pipe/configs/3",
      returns: configVersion,
    },
    {
      name: 'configs.get "latest"',
      call: (c) => c.configs.get("ns", "pipe", "latest"),
      answer: { status: 200, body: { config: configVersion } },
      method: "GET",
      url: "/api/namespaces/ns/pipelines/pipe/configs/0",
      returns: configVersion,
    },
    {
      name: "configs.register",
      call: (c) => c.configs.register("ns", "pipe", pipelineConfig),
      answer: { status: 201, body: { pipeline: { metadata, config: configVersion } } },
      method: "POST",
      url: "/api/namespaces/ns/pipelines/pipe/configs",
      body: { config: pipelineConfig },
      returns: configVersion,
    },
    {
      name: "configs.deploy",
      call: (c) => c.configs.deploy("ns", "pipe", 3),
      answer: { status: 201, body: { deployment } },
      method: "POST",
      url: "/api/namespaces/ns/pipelines/pipe/configs/3",
      returns: deployment,
    },
    {
      name: "configs.delete",
      call: (c) => c.configs.delete("ns", "pipe", 2),
      answer: { status: 204 },
      method: "DELETE",
      url: "/api/namespaces/ns/pipelines/pipe/configs/2",
      returns: undefined,
    },
    {
      name: "deployments.list",
      call: (c) => c.deployments.list("ns", "pipe"),
      answer: { status: 200, body: { deployments: [deployment] } },
      method: "GET",
      url: "/api/namespaces/ns/pipelines/pipe/deployments",
      returns: [deployment],
    },
    {
      name: "deployments.get",
      call: (c) => c.deployments.get("ns", "pipe", 1),
      answer: { status: 200, body: { deployment } },
      method: "GET",
      url: "/api/namespaces/ns/pipelines/pipe/deployments/1",
      returns: deployment,
    },
    {
      name: "runs.list without options",
      call: (c) => c.runs.list("ns", "pipe"),
      answer: { status: 200, body: { runs: [run] } },
      method: "GET",
      url: "/api/namespaces/ns/pipelines/pipe/runs",
      returns: [run],
    },
    {
      name: "runs.list with options",
      call: (c) => c.runs.list("ns", "pipe", { limit: 10, offset: 20, reverse: true }),
      answer: { status: 200, body: { runs: [run] } },
      method: "GET",
      url: "/api/namespaces/ns/pipelines/pipe/runs?limit=10&offset=20&reverse=true",
      returns: [run],
    },
    {
      name: "runs.start with variables",
      call: (c) => c.runs.start("ns", "pipe", { GREETING: "hi" }),
      answer: { status: 201, body: { run } },
      method: "POST",
      url: "/api/namespaces/ns/pipelines/pipe/runs",
      body: { variables: { GREETING: "hi" } },
      returns: run,
    },
    {
      name: "runs.start without variables",
      call: (c) => c.runs.start("ns", "pipe"),
      answer: { status: 201, body: { run } },
      method: "POST",
      url: "/api/namespaces/ns/pipelines/pipe/runs",
      body: {},
      returns: run,
    },
    {
      name: "runs.get",
      call: (c) => c.runs.get("ns", "pipe", 7),
      answer: { status: 200, body: { run } },
      method: "GET",
      url: "/api/namespaces/ns/pipelines/pipe/runs/7",
      returns: run,
    },
    {
      name: "runs.cancel",
      call: (c) => c.runs.cancel("ns", "pipe", 7),
      answer: { status: 204 },
      method: "DELETE",
      url: "/api/namespaces/ns/pipelines/pipe/runs/7",
      returns: undefined,
    },
    {
      name: "runs.retry",
      call: (c) => c.runs.retry("ns", "pipe", 7),
      answer: { status: 200, body: { run } },
      method: "POST",
      url: "/api/namespaces/ns/pipelines/pipe/runs/7/retry",
      returns: run,
    },
    {
      name: "tasks.list",
      call: (c) => c.tasks.list("ns", "pipe", 7),
      answer: { status: 200, body: { task_executions: [taskExecution] } },
      method: "GET",
      url: "/api/namespaces/ns/pipelines/pipe/runs/7/tasks",
      returns: [taskExecution],
    },
    {
      name: "tasks.get",
      call: (c) => c.tasks.get("ns", "pipe", 7, "build"),
      answer: { status: 200, body: { task_execution: taskExecution } },
      method: "GET",
      url: "/api/namespaces/ns/pipelines/pipe/runs/7/tasks/build",
      returns: taskExecution,
    },
    {
      name: "tasks.attempts",
      call: (c) => c.tasks.attempts("ns", "pipe", 7, "build"),
      answer: { status: 200, body: { attempts: [attempt] } },
      method: "GET",
      url: "/api/namespaces/ns/pipelines/pipe/runs/7/tasks/build/attempts",
      returns: [attempt],
    },
    {
      name: "tasks.cancel",
      call: (c) => c.tasks.cancel("ns", "pipe", 7, "build"),
      answer: { status: 204 },
      method: "DELETE",
      url: "/api/namespaces/ns/pipelines/pipe/runs/7/tasks/build",
      returns: undefined,
    },
    {
      name: "tasks.cancel with a wait",
      call: (c) => c.tasks.cancel("ns", "pipe", 7, "build", { waitForSeconds: 0 }),
      answer: { status: 204 },
      method: "DELETE",
      url: "/api/namespaces/ns/pipelines/pipe/runs/7/tasks/build?wait_for=0",
      returns: undefined,
    },
    {
      name: "tasks.deleteLogs",
      call: (c) => c.tasks.deleteLogs("ns", "pipe", 7, "build"),
      answer: { status: 204 },
      method: "DELETE",
      url: "/api/namespaces/ns/pipelines/pipe/runs/7/tasks/build/logs",
      returns: undefined,
    },
    {
      name: "events.get",
      call: (c) => c.events.get("12"),
      answer: { status: 200, body: { event } },
      method: "GET",
      url: "/api/events/12",
      returns: event,
    },
    {
      name: "events.delete",
      call: (c) => c.events.delete("12"),
      answer: { status: 204 },
      method: "DELETE",
      url: "/api/events/12",
      returns: undefined,
    },
  ];
  for (const row of calls) {
    test(`${row.name}: ${row.method} ${row.url}, envelope unwrapped`, async () => {
      server.next = row.answer;
      assert.deepEqual(await row.call(client), row.returns);
      assert.equal(server.last.method, row.method);
      assert.equal(server.last.url, row.url);
      if (row.body === undefined) assert.equal(server.last.body, "");
      else assert.deepEqual(JSON.parse(server.last.body), row.body);
    });
  }

  test("encodes each id as a single path segment", async () => {
    server.next = { status: 200, body: { task_execution: taskExecution } };
    await client.tasks.get("a b/c", "p?q#r", 7, "t%1");
    assert.equal(server.last.url, "/api/namespaces/a%20b%2Fc/pipelines/p%3Fq%23r/runs/7/tasks/t%251");
  });

  test("refuses empty and dot ids before sending anything", async () => {
    const before = server.requests.length;
    await assert.rejects(client.namespaces.get(".."), TypeError);
    await assert.rejects(client.namespaces.get(""), TypeError);
    await assert.rejects(async () => {
      for await (const _line of client.tasks.logs("ns", "pipe", 1, ".")) assert.fail("no line expected");
    }, TypeError);
    assert.equal(server.requests.length, before);
  });

  test("keeps a path prefix of the base URL", async () => {
    server.next = { status: 200, body: { namespaces: [] } };
    await new GoferClient({ baseUrl: `${baseUrl}/gofer/` }).namespaces.list();
    assert.equal(server.last.url, "/gofer/api/namespaces");
  });

  test("turns the v0 error envelope into a GoferApiError", async () => {
    server.next = {
      status: 404,
      body: { request_id: "req-42", message: 'Namespace "nope" not found', error_code: "NOT_FOUND" },
    };
    const error = await client.namespaces.get("nope").catch((caught: unknown) => caught);
    assert.ok(error instanceof GoferApiError);
    assert.equal(error.status, 404);
    assert.equal(error.message, 'Namespace "nope" not found');
    assert.equal(error.errorCode, "NOT_FOUND");
    assert.equal(error.requestId, "req-42");
    assert.equal(error.name, "GoferApiError");
  });

  test("accepts an envelope without error_code, as Gofer's reference server sends", async () => {
    server.next = { status: 401, body: { request_id: "r", message: "Unauthorized" } };
    await assert.rejects(client.tokens.whoami(), (error: unknown) => {
      assert.ok(error instanceof GoferApiError);
      assert.equal(error.message, "Unauthorized");
      assert.equal(error.errorCode, undefined);
      return true;
    });
  });

  test("falls back to the status text, and the x-request-id header, when the body is no envelope", async () => {
    server.next = { status: 502, body: "<html>bad gateway</html>", headers: { "x-request-id": "hdr-1" } };
    await assert.rejects(client.namespaces.list(), (error: unknown) => {
      assert.ok(error instanceof GoferApiError);
      assert.equal(error.status, 502);
      assert.equal(error.message, "Bad Gateway");
      assert.equal(error.errorCode, undefined);
      assert.equal(error.requestId, "hdr-1");
      return true;
    });
  });

  test("reports a 2xx answer that is not Gofer's JSON as a connection problem naming the URL", async () => {
    server.next = { status: 200, body: "<html>some other server</html>" };
    await assert.rejects(client.namespaces.list(), (error: unknown) => {
      assert.ok(error instanceof GoferConnectionError);
      assert.match(error.message, new RegExp(baseUrl.replaceAll(".", "\\.")));
      assert.match(error.message, /Gofer server/);
      return true;
    });
    server.next = { status: 200, body: { something: "else" } };
    await assert.rejects(client.namespaces.list(), GoferConnectionError);
  });
});

describe("GoferClient connection failures", () => {
  test("a refused connection is a GoferConnectionError naming the URL and what to check", async () => {
    const baseUrl = await refusingUrl();
    const error = await new GoferClient({ baseUrl }).namespaces.list().catch((caught: unknown) => caught);
    assert.ok(error instanceof GoferConnectionError);
    assert.equal(error.baseUrl, baseUrl);
    assert.equal(error.timedOut, false);
    assert.match(
      error.message,
      new RegExp(`Could not reach the Gofer server at ${baseUrl.replaceAll(".", "\\.")}`),
    );
    assert.match(error.message, /ECONNREFUSED/);
    assert.match(error.message, /check that the server is running/);
  });

  test("a server that does not answer in time is a timed-out GoferConnectionError", async () => {
    const silent = createServer(() => undefined);
    const baseUrl = await listenLocally(silent);
    try {
      const started = Date.now();
      const error = await new GoferClient({ baseUrl, timeoutMs: 150 }).runs
        .get("ns", "pipe", 1)
        .catch((caught: unknown) => caught);
      assert.ok(error instanceof GoferConnectionError);
      assert.equal(error.timedOut, true);
      assert.match(
        error.message,
        /did not answer GET \/api\/namespaces\/ns\/pipelines\/pipe\/runs\/1 within 150 ms/,
      );
      assert.ok(Date.now() - started < 2_000);
    } finally {
      await closeServer(silent);
    }
  });

  test("the timeout also covers a body that stalls after the headers", async () => {
    const stalling = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.write('{"namespaces": [');
    });
    const baseUrl = await listenLocally(stalling);
    try {
      await assert.rejects(
        new GoferClient({ baseUrl, timeoutMs: 150 }).namespaces.list(),
        (error: unknown) => error instanceof GoferConnectionError && error.timedOut,
      );
    } finally {
      await closeServer(stalling);
    }
  });

  test("a base URL that is not http(s) is refused at construction", () => {
    assert.throws(() => new GoferClient({ baseUrl: "127.0.0.1:8080" }), TypeError);
    assert.throws(() => new GoferClient({ baseUrl: "ftp://127.0.0.1" }), TypeError);
  });

  test("uses the fetch it is given", async () => {
    const seen: string[] = [];
    const fakeFetch: typeof fetch = async (input) => {
      seen.push(String(input));
      return Response.json({ commit: "c", semver: "1.2.3" });
    };
    const metadata = await new GoferClient({
      baseUrl: "http://gofer.invalid",
      fetch: fakeFetch,
    }).system.metadata();
    assert.deepEqual(metadata, { commit: "c", semver: "1.2.3" });
    assert.deepEqual(seen, ["http://gofer.invalid/api/system/metadata"]);
  });
});
