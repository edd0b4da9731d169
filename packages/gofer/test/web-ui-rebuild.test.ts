/**
 * A web UI folder rebuilt under a running server, the way `npm run build:web` does it (Vite first empties the
 * folder, then writes the hashed assets and index.html): the server serves the new build within a second or so,
 * with new ETags and the same caching rules, keeps serving the build it had while the folder is empty or
 * half-written, and picks up a build that appears after it started without one.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { rawGet as get } from "./support/raw-get.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

/** A build shaped like Vite's: index.html naming a hashed script and stylesheet under assets/. */
function build(hash: string) {
  return {
    script: `assets/index-${hash}.js`,
    style: `assets/index-${hash}.css`,
    page:
      `<!doctype html><title>Gofer ${hash}</title>` +
      `<script type="module" crossorigin src="/assets/index-${hash}.js"></script>` +
      `<link rel="stylesheet" crossorigin href="/assets/index-${hash}.css">`,
  };
}

async function writeAssets(folder: string, hash: string): Promise<void> {
  const { script, style } = build(hash);
  await mkdir(join(folder, "assets"), { recursive: true });
  await writeFile(join(folder, script), `console.log("build ${hash}");`);
  await writeFile(join(folder, style), `body { --build: "${hash}"; }`);
}

async function writePage(folder: string, hash: string): Promise<void> {
  await writeFile(join(folder, "index.html"), build(hash).page);
}

/** What Vite's emptyOutDir does: the folder stays, everything in it goes. */
async function emptyFolder(folder: string): Promise<void> {
  for (const entry of await readdir(folder)) await rm(join(folder, entry), { recursive: true, force: true });
}

/** Asks for `path` until `accept` holds, for at most `ms`; returns the answer and how long it took. */
async function until(
  server: TestServer,
  path: string,
  accept: (answer: Awaited<ReturnType<typeof get>>) => boolean,
  ms = 5000,
) {
  const started = Date.now();
  for (;;) {
    const answer = await get(server, path);
    if (accept(answer)) return { answer, took: Date.now() - started };
    if (Date.now() - started > ms) assert.fail(`${path} still answers ${answer.status}: ${answer.text}`);
    await sleep(100);
  }
}

describe("a web UI folder rebuilt while the server runs", () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  async function serverOn(folder: string): Promise<TestServer> {
    const server = await startTestServer({ GOFER_WEB_WEB__PATH: folder });
    cleanup.push(() => server.stop());
    return server;
  }

  async function tempFolder(): Promise<string> {
    const folder = await mkdtemp(join(tmpdir(), "gofer-web-ui-rebuild-"));
    cleanup.push(() => rm(folder, { recursive: true, force: true }));
    return folder;
  }

  it("serves a build written after it started on an empty folder, without a restart", async () => {
    const folder = await tempFolder();
    const server = await serverOn(folder);
    const empty = await get(server, "/");
    assert.equal(empty.status, 503);
    assert.match(empty.text, /npm run build:web/);

    await writeAssets(folder, "first111");
    await writePage(folder, "first111");
    const { answer, took } = await until(server, "/", (page) => page.status === 200);
    assert.equal(answer.text, build("first111").page);
    assert.ok(took < 2500, `noticed after ${took} ms`);
    const script = await get(server, `/${build("first111").script}`);
    assert.equal(script.status, 200);
    assert.equal(script.headers["cache-control"], "public, max-age=31536000, immutable");
  });

  it("keeps the old build while the folder is emptied and half-written, then serves the new one with new ETags", async () => {
    const folder = await tempFolder();
    await writeAssets(folder, "old22222");
    await writePage(folder, "old22222");
    const server = await serverOn(folder);
    const before = await get(server, "/");
    assert.equal(before.text, build("old22222").page);
    const oldTag = String(before.headers.etag);
    assert.equal((await get(server, "/", { "if-none-match": oldTag })).status, 304);

    // Emptied: the build in hand is still whole, page and assets, a look later.
    await emptyFolder(folder);
    await sleep(1200);
    const meanwhile = await get(server, "/");
    assert.equal(meanwhile.status, 200);
    assert.equal(meanwhile.text, build("old22222").page);
    assert.equal((await get(server, `/${build("old22222").script}`)).status, 200);

    // The new page before its assets: not served until what it names is there.
    await writePage(folder, "new33333");
    await sleep(1200);
    assert.equal((await get(server, "/")).text, build("old22222").page);

    await writeAssets(folder, "new33333");
    const { answer } = await until(server, "/", (page) => page.text === build("new33333").page);
    assert.equal(answer.headers["cache-control"], "no-cache");
    const newTag = String(answer.headers.etag);
    assert.notEqual(newTag, oldTag);
    const revalidated = await get(server, "/", { "if-none-match": oldTag });
    assert.equal(revalidated.status, 200, "the old ETag no longer matches");
    assert.equal((await get(server, "/", { "if-none-match": newTag })).status, 304);
    const script = await get(server, `/${build("new33333").script}`);
    assert.equal(script.status, 200);
    assert.equal(script.text, `console.log("build new33333");`);
    assert.equal(script.headers["cache-control"], "public, max-age=31536000, immutable");
    assert.equal((await get(server, `/${build("old22222").script}`)).status, 404, "the old build is gone");
    // A client-side route answers the new page too.
    assert.equal((await get(server, "/namespaces/default")).text, build("new33333").page);
  });

  it("replaces the build it serves only once the folder has stopped being written", async () => {
    const folder = await tempFolder();
    await writeAssets(folder, "old44444");
    await writePage(folder, "old44444");
    const server = await serverOn(folder);
    assert.equal((await get(server, "/")).text, build("old44444").page);

    // A whole new build, and then, as Vite writes its chunks, one the page does not name, still being written.
    await emptyFolder(folder);
    await writeAssets(folder, "new55555");
    await writePage(folder, "new55555");
    const writing = Date.now();
    const chunk = join(folder, "assets", "xterm-session-new55555.js");
    await writeFile(chunk, "");
    for (let look = 0; look < 3; look += 1) {
      await sleep(400);
      await writeFile(chunk, `console.log(${JSON.stringify("x".repeat(look + 1))});`);
      const served = await get(server, "/");
      assert.equal(
        served.text,
        build("old44444").page,
        `the old build ${Date.now() - writing} ms after the rebuild began`,
      );
    }
    const { took } = await until(server, "/", (page) => page.text === build("new55555").page);
    assert.ok(took < 3000, `the new build after ${took} ms of quiet`);
    const later = await get(server, "/assets/xterm-session-new55555.js");
    assert.equal(later.status, 200);
    assert.equal(later.text, `console.log("xxx");`);
  });
});
