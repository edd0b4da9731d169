/**
 * Serves the built web UI at `/`: Vite's output (index.html plus content-hashed files under assets/), held in
 * memory with its gzip form and ETag computed once per build. Hashed files are cached for a year; index.html is
 * revalidated on every load, so a new release reaches browsers at once. Any other path that is not under /api/
 * answers index.html, so a reload of a page the UI routed to client-side works.
 *
 * The UI comes from `web.path` when set, else from inside the single binary (embedded as SEA assets by
 * scripts/build-binary.sh, never changing), else from the checkout's web/dist. A folder can be rebuilt while the
 * server runs (`npm run build:web` first empties it, then writes the new build): see UiFolder.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { GoferApp } from "./api-context.ts";

export interface WebUiOptions {
  /** Folder of a built web UI (index.html and assets/), or "" for the one shipped with Gofer. */
  path: string;
}

interface UiFile {
  body: Buffer;
  gzip: Buffer | undefined;
  type: string;
  etag: string;
  /** Content-hashed by the build: its name changes whenever its content does. */
  immutable: boolean;
}

/** The prefix of the embedded files' asset keys, and the key of the list of them. */
export const SEA_ASSET_PREFIX = "web-ui/";
export const SEA_MANIFEST = `${SEA_ASSET_PREFIX}manifest.json`;
const CHECKOUT_BUILD = fileURLToPath(new URL("../../../../web/dist", import.meta.url));

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
  ".map": "application/json",
};
/** At most one look at index.html a second, however many requests arrive. */
const RECHECK_MS = 1000;
/** How long a rebuilt folder must go unwritten before it replaces the build being served. */
const QUIET_MS = 1000;
/** Longer than a build takes between writing its page and the last asset the page names. */
const SETTLED_MS = 10_000;
const COMPRESSIBLE = new Set([".html", ".js", ".css", ".json", ".svg", ".txt", ".map"]);

/**
 * Pages may load only what this server serves and talk only to it (WebSockets included); inline styles are
 * allowed because the terminal and the graph set element styles, inline scripts are not.
 */
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'; " +
    "img-src 'self' data:; font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; " +
    "form-action 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

export function registerWebUi(app: GoferApp, options: WebUiOptions): void {
  const source = options.path || (seaAssetsPresent() ? "" : CHECKOUT_BUILD);
  const folder = source
    ? new UiFolder(source, () => app.log.info(`the web UI in ${source} changed; serving its new build`))
    : undefined;
  const embedded = folder ? undefined : readSeaAssets();
  if (!(folder ? folder.current() : embedded)?.has("index.html")) {
    app.log.warn(
      `the web UI is not built (no index.html in ${source || "the binary"}); / explains how to build it`,
    );
  }
  app.route({
    method: ["GET", "HEAD"],
    url: "/*",
    schema: { hide: true },
    handler: async (request, reply) => {
      const path = pathOf(request);
      // The API's own unknown paths keep answering the v0 error envelope.
      if (path === undefined || path.startsWith("/api/") || path === "/api") return reply.callNotFound();
      const files = folder ? folder.fresh() : embedded;
      const index = files?.get("index.html");
      if (!files || !index) return notBuilt(reply, source);
      const name = path.slice(1);
      const file =
        files.get(name) ?? (name.startsWith("assets/") || extname(name) !== "" ? undefined : index);
      if (!file) return reply.callNotFound();
      return send(request, reply, file);
    },
  });
}

function send(request: FastifyRequest, reply: FastifyReply, file: UiFile) {
  reply.headers(SECURITY_HEADERS);
  reply.header("cache-control", file.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  reply.header("etag", file.etag);
  reply.header("vary", "accept-encoding");
  reply.type(file.type);
  if (request.headers["if-none-match"] === file.etag) return reply.code(304).send();
  const gzip = file.gzip && /\bgzip\b/.test(String(request.headers["accept-encoding"] ?? ""));
  if (gzip) reply.header("content-encoding", "gzip");
  return reply.send(gzip ? file.gzip : file.body);
}

function notBuilt(reply: FastifyReply, source: string) {
  reply.headers(SECURITY_HEADERS);
  return reply
    .code(503)
    .header("cache-control", "no-store")
    .type("text/html; charset=utf-8")
    .send(
      "<!doctype html><title>Gofer</title><h1>The web UI is not built</h1>" +
        `<p>No built UI was found${source ? ` in <code>${escapeHtml(source)}</code>` : ""}. From the Gofer ` +
        "checkout, run <code>npm run build:web</code> and reload this page (the server notices a new build " +
        "within a second), or point <code>web.path</code> at a built UI and restart the server. The API at " +
        "<code>/api/</code> works without it.</p>",
    );
}

/** The decoded path, or undefined when it cannot be decoded or could name something outside the UI folder. */
function pathOf(request: FastifyRequest): string | undefined {
  const raw = request.url.split("?", 1)[0] ?? "/";
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  if (path.includes("\0") || path.includes("\\") || path.split("/").includes("..")) return undefined;
  return path;
}

/**
 * A built UI in a folder, read again when its index.html is new or changed (Vite rewrites it with every build):
 * at most one stat a second. While a rebuild has emptied the folder, the build read before is served on, whole
 * (its page and every asset it names are in memory); a build caught half-written (an asset the page names not
 * there yet, a file still growing) is left for the next look, so no browser caches a cut asset for a year.
 */
class UiFolder {
  readonly #folder: string;
  readonly #onChange: () => void;
  #files: Map<string, UiFile> | undefined;
  /** The index.html that #files was read with. */
  #stamp: IndexStamp | undefined;
  #lookedAt: number;

  constructor(folder: string, onChange: () => void) {
    this.#folder = folder;
    this.#onChange = onChange;
    this.#lookedAt = Date.now();
    const stamp = indexStamp(folder);
    this.#files = stamp && readBuild(folder, stamp);
    this.#stamp = this.#files ? stamp : undefined;
  }

  current(): Map<string, UiFile> | undefined {
    return this.#files;
  }

  /** The newest complete build, looking at the folder again when the last look is a second old. */
  fresh(): Map<string, UiFile> | undefined {
    const now = Date.now();
    if (now - this.#lookedAt < RECHECK_MS) return this.#files;
    this.#lookedAt = now;
    const stamp = indexStamp(this.#folder);
    if (stamp === undefined || stamp.key === this.#stamp?.key) return this.#files;
    // A build replacing the one served must also have stopped writing: a chunk the page loads later (the terminal)
    // is not named in index.html, and a file just created reads as whole while still empty.
    const files = readBuild(this.#folder, stamp, now - QUIET_MS);
    if (files) {
      this.#files = files;
      this.#stamp = stamp;
      this.#onChange();
    }
    return this.#files;
  }
}

interface IndexStamp {
  /** What changes when index.html is written again: its inode, size or modification time. */
  key: string;
  mtimeMs: number;
}

function indexStamp(folder: string): IndexStamp | undefined {
  try {
    const stat = statSync(join(folder, "index.html"));
    return { key: `${stat.ino}:${stat.size}:${stat.mtimeMs}`, mtimeMs: stat.mtimeMs };
  } catch {
    return undefined;
  }
}

/**
 * Every file of the build whose index.html had `stamp`, or undefined while that build is not whole: a file
 * changed under the read, the folder emptied by the next build meanwhile, or an asset the page names not written
 * yet, or (with `writtenBefore`) a file written after that moment. A page that has named a missing asset for
 * SETTLED_MS is a finished build with a hole, served as it is (the asset answers 404), so a broken folder is not
 * read over and over.
 */
function readBuild(
  folder: string,
  stamp: IndexStamp,
  writtenBefore = Number.POSITIVE_INFINITY,
): Map<string, UiFile> | undefined {
  let names: string[];
  let page: Buffer;
  try {
    names = filesUnder(folder);
    page = readFileSync(join(folder, "index.html"));
  } catch {
    return undefined;
  }
  const named = [...page.toString("utf8").matchAll(/(?:src|href)="\/?(assets\/[^"?#]+)"/g)];
  const whole = named.every((match) => names.includes(match[1] ?? ""));
  if (!whole && Date.now() - stamp.mtimeMs < SETTLED_MS) return undefined;
  const files = new Map<string, UiFile>();
  try {
    for (const name of names) {
      const full = join(folder, ...name.split("/"));
      const body = readFileSync(full);
      const stat = statSync(full);
      // A file still being written is longer by now than what was read, or was written a moment ago.
      if (stat.size !== body.length || stat.mtimeMs > writtenBefore) return undefined;
      files.set(name, uiFile(name, body));
    }
  } catch {
    return undefined;
  }
  return files.has("index.html") && indexStamp(folder)?.key === stamp.key ? files : undefined;
}

/** The folder's files, by their path inside it with "/" between folders. */
function filesUnder(folder: string): string[] {
  const names: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else names.push(relative(folder, full).split(sep).join("/"));
    }
  };
  walk(folder);
  return names;
}

function seaAssetsPresent(): boolean {
  const sea = seaModule();
  if (!sea?.isSea()) return false;
  try {
    sea.getAsset(SEA_MANIFEST);
    return true;
  } catch {
    return false;
  }
}

function readSeaAssets(): Map<string, UiFile> | undefined {
  const sea = seaModule();
  if (!sea) return undefined;
  const names = JSON.parse(Buffer.from(sea.getAsset(SEA_MANIFEST)).toString("utf8")) as string[];
  return new Map(
    names.map((name) => [name, uiFile(name, Buffer.from(sea.getAsset(`${SEA_ASSET_PREFIX}${name}`)))]),
  );
}

interface SeaModule {
  isSea(): boolean;
  getAsset(key: string): ArrayBuffer;
}

/** node:sea exists in every Node this runs on; loaded lazily so nothing pays for it outside a binary. */
function seaModule(): SeaModule | undefined {
  try {
    return process.getBuiltinModule("node:sea") as SeaModule;
  } catch {
    return undefined;
  }
}

function uiFile(name: string, body: Buffer): UiFile {
  const extension = extname(name);
  return {
    body,
    gzip: COMPRESSIBLE.has(extension) && body.length > 1024 ? gzipSync(body, { level: 9 }) : undefined,
    type: TYPES[extension] ?? "application/octet-stream",
    etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`,
    immutable: name.startsWith("assets/"),
  };
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
