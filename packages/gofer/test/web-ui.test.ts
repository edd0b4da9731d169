import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { rawGet as get } from "./support/raw-get.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const INDEX = `<!doctype html><title>Gofer</title><script type="module" src="/assets/app-abc123.js"></script>${"<!-- padding -->".repeat(100)}`;
const SCRIPT = `console.log("gofer");\n${"// padding\n".repeat(200)}`;

describe("the web UI at /", () => {
  let server: TestServer;
  let folder: string;
  before(async () => {
    folder = await mkdtemp(join(tmpdir(), "gofer-web-ui-"));
    await mkdir(join(folder, "assets"));
    await writeFile(join(folder, "index.html"), INDEX);
    await writeFile(join(folder, "assets", "app-abc123.js"), SCRIPT);
    await writeFile(join(folder, "favicon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
    server = await startTestServer({ GOFER_WEB_WEB__PATH: folder });
  });
  after(async () => {
    await server.stop();
    await rm(folder, { recursive: true, force: true });
  });

  it("serves index.html revalidated on every load, and hashed assets cached for a year", async () => {
    const page = await get(server, "/");
    assert.equal(page.status, 200);
    assert.equal(page.headers["content-type"], "text/html; charset=utf-8");
    assert.equal(page.headers["cache-control"], "no-cache");
    assert.equal(page.body.toString(), INDEX);
    assert.match(String(page.headers["content-security-policy"]), /default-src 'self'/);
    assert.match(String(page.headers["content-security-policy"]), /frame-ancestors 'none'/);
    assert.equal(page.headers["x-content-type-options"], "nosniff");

    const script = await get(server, "/assets/app-abc123.js");
    assert.equal(script.status, 200);
    assert.equal(script.headers["content-type"], "text/javascript; charset=utf-8");
    assert.equal(script.headers["cache-control"], "public, max-age=31536000, immutable");
    assert.equal(script.body.toString(), SCRIPT);

    const icon = await get(server, "/favicon.svg");
    assert.equal(icon.headers["content-type"], "image/svg+xml");
    assert.equal(icon.headers["cache-control"], "no-cache");
  });

  it("answers 304 to a matching ETag and gzip to a browser that accepts it", async () => {
    const first = await get(server, "/assets/app-abc123.js");
    const etag = String(first.headers.etag);
    assert.match(etag, /^".+"$/);
    const again = await get(server, "/assets/app-abc123.js", { "if-none-match": etag });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);

    const zipped = await get(server, "/", { "accept-encoding": "gzip, deflate, br" });
    assert.equal(zipped.headers["content-encoding"], "gzip");
    assert.equal(zipped.headers.vary, "accept-encoding");
    assert.ok(zipped.body.length < Buffer.byteLength(INDEX));
    assert.equal(gunzipSync(zipped.body).toString(), INDEX);
  });

  it("answers index.html for the UI's own routes, so a reload of any page works", async () => {
    for (const path of ["/namespaces/default", "/namespaces/default/pipelines/build/runs/3", "/events?x=1"]) {
      const page = await get(server, path);
      assert.equal(page.status, 200, path);
      assert.equal(page.body.toString(), INDEX, path);
    }
  });

  it("keeps the API's 404 envelope, and answers 404 for missing files instead of the page", async () => {
    const api = await get(server, "/api/nothing-here", { "gofer-api-version": "v0" });
    assert.equal(api.status, 404);
    assert.equal(JSON.parse(api.body.toString()).error_code, "NOT_FOUND");
    for (const path of ["/assets/missing-123.js", "/missing.css"]) {
      const missing = await get(server, path);
      assert.equal(missing.status, 404, path);
      assert.notEqual(missing.body.toString(), INDEX);
    }
  });

  it("never reads outside its folder", async () => {
    await writeFile(join(folder, "..", "gofer-web-ui-secret.txt"), "TOP-SECRET-CONTENT");
    try {
      for (const path of [
        "/../gofer-web-ui-secret.txt",
        "/assets/%2e%2e/%2e%2e/gofer-web-ui-secret.txt",
        "/assets/..%2f..%2fgofer-web-ui-secret.txt",
        "/%2e%2e%5cgofer-web-ui-secret.txt",
        "/assets%00/app-abc123.js",
        "/%E0%A4%A",
      ]) {
        const response = await get(server, path);
        assert.ok(!response.body.toString().includes("TOP-SECRET-CONTENT"), path);
        assert.notEqual(response.status, 200, path);
      }
    } finally {
      await rm(join(folder, "..", "gofer-web-ui-secret.txt"), { force: true });
    }
  });
});

describe("a server whose web UI is not built", () => {
  it("still serves the API, and / says how to build the UI", async () => {
    const empty = await mkdtemp(join(tmpdir(), "gofer-web-ui-empty-"));
    const server = await startTestServer({ GOFER_WEB_WEB__PATH: empty });
    try {
      const page = await get(server, "/");
      assert.equal(page.status, 503);
      assert.match(page.body.toString(), /npm run build:web/);
      const api = await server.api("GET", "/api/namespaces");
      assert.equal(api.status, 200);
    } finally {
      await server.stop();
      await rm(empty, { recursive: true, force: true });
    }
  });

  it("serves nothing at / when web.enable is false", async () => {
    const server = await startTestServer({ GOFER_WEB_WEB__ENABLE: "false" });
    try {
      const page = await get(server, "/");
      assert.equal(page.status, 404);
    } finally {
      await server.stop();
    }
  });
});
