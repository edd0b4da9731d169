/**
 * Serves the built web UI at `/`: Vite's output (index.html plus content-hashed files under assets/), held in
 * memory with its gzip form and ETag computed once at start. Hashed files are cached for a year; index.html is
 * revalidated on every load, so a new release reaches browsers at once. Any other path that is not under /api/
 * answers index.html, so a reload of a page the UI routed to client-side works.
 *
 * The UI comes from `web.path` when set, else from inside the single binary (embedded as SEA assets by
 * scripts/build-binary.sh), else from the checkout's web/dist.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
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
  const files = source ? readFolder(source) : readSeaAssets();
  const index = files?.get("index.html");
  if (!files || !index) {
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
        "checkout, run <code>npm run build:web</code> and restart the server, or point <code>web.path</code> at " +
        "a built UI. The API at <code>/api/</code> works without it.</p>",
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

function readFolder(folder: string): Map<string, UiFile> | undefined {
  if (!existsSync(join(folder, "index.html"))) return undefined;
  const files = new Map<string, UiFile>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const full = join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else {
        const name = relative(folder, full).split(sep).join("/");
        files.set(name, uiFile(name, readFileSync(full)));
      }
    }
  };
  walk(folder);
  return files;
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
