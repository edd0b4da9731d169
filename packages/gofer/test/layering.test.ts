/**
 * The dependency direction of DESIGN.md, checked on every import of the server's sources: `cli → sdk client →
 * HTTP → api → services → orchestrator / stores → storage, scheduler`, with `domain` imported by all and
 * importing none. Each top-level folder of `src/` is a layer; {@link LAYERS} says which layers it may import, and
 * a second test proves the table itself has no cycle, so no import can point "upwards". A folder missing from the
 * table fails the test: a new layer is placed on purpose. Type-only and dynamic imports count as much as any.
 *
 * The SDK is what pipeline and extension authors install: it never imports the server.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const PACKAGES = fileURLToPath(new URL("../../", import.meta.url));
const SERVER_SOURCES = join(PACKAGES, "gofer", "src");
const SDK = join(PACKAGES, "sdk");

type Layer =
  | "notifications"
  | "tracing"
  | "metrics"
  | "replicas"
  | "domain"
  | "support"
  | "config"
  | "version"
  | "storage"
  | "scheduler"
  | "events"
  | "secrets"
  | "objects"
  | "auth"
  | "logs"
  | "orchestrator"
  | "extensions"
  | "retention"
  | "services"
  | "api"
  | "service"
  | "cli"
  | "main";

/** What every layer but the leaves may import: pure types and logic, and helpers that know nothing of Gofer. */
const EVERYWHERE: Layer[] = ["domain", "support"];
const LEAF = new Set<Layer>(["domain", "support", "config", "version"]);
const STORES: Layer[] = ["storage", "events", "secrets", "objects", "auth", "logs"];
const RUNTIMES: Layer[] = ["orchestrator", "extensions", "notifications"];

/**
 * Which layers each layer may import, besides itself and {@link EVERYWHERE}. A folder of `src/` is a layer; a
 * file directly in `src/` is one too (`main.ts`, `version.ts`).
 */
const LAYERS: Record<Layer, Layer[]> = {
  // Leaves: they import nothing of the project (support/: generic helpers such as the serial queue).
  domain: [],
  support: [],
  config: [],
  version: [],
  // The only place with SQL, and the container engines. A scheduler backend never touches storage.
  storage: [],
  scheduler: ["config"],
  // Stores over storage. Logs store what schedulers hand over, in the scheduler's chunk and cursor types.
  events: ["storage"],
  secrets: ["storage"],
  objects: ["storage", "events"],
  auth: ["storage", "events"],
  logs: ["events", "scheduler"],
  // What runs: run lifecycle, extension containers, pruning.
  orchestrator: ["config", "scheduler", ...STORES],
  // Run notifications: deliveries made from the bus's events, sent to the targets' URLs, retried.
  notifications: ["storage", "events", "secrets"],
  extensions: ["config", "scheduler", ...STORES],
  retention: ["storage", "events", "logs", "objects"],
  // Which replica leads, and what passes between replicas (events); used by the API and the assembly.
  replicas: ["storage", "events"],
  // Prometheus metrics: fed by the bus and the engine wrapper, read from storage at scrape time.
  metrics: ["storage", "events", "scheduler"],
  // OpenTelemetry spans: of runs (from storage, on the bus's events), engine starts and API requests.
  tracing: ["config", "storage", "events", "scheduler"],
  // The rules and transaction boundaries of every operation.
  services: ["config", "scheduler", ...STORES, ...RUNTIMES, "replicas"],
  // HTTP: routes call services (and still reach some runtimes and stores directly).
  api: ["config", "scheduler", ...STORES, ...RUNTIMES, "services", "replicas", "metrics", "tracing"],
  // The assembly: builds every part and starts the listeners.
  service: [
    "config",
    "version",
    "scheduler",
    ...STORES,
    ...RUNTIMES,
    "retention",
    "replicas",
    "metrics",
    "tracing",
    "services",
    "api",
  ],
  // The CLI talks to a server through the SDK's HTTP client only. `gofer service start` is the one way in to
  // server code: it starts the server in this process (a dynamic import, so other commands never load it).
  cli: ["config", "version", "service"],
  main: ["cli"],
};

/** Imports the table forbids that are known, named and explained; each is a debt to pay, not a rule. */
const EXCEPTIONS: { from: string; to: string; why: string }[] = [];

/** Static `import`/`export … from` at the start of a line, and `import("…")` in code (dynamic or in a type). */
const STATIC_IMPORT = /^(?:import|export)\s(?:[^;"'`]*?\sfrom\s*)?["']([^"']+)["']/gm;
const DYNAMIC_IMPORT = /\bimport\s*\(\s*["'`]([^"'`]+)["'`]\s*\)/g;
const COMMENT_LINE = /^\s*(?:\/\/|\/\*|\*)/;

function specifiers(text: string): string[] {
  const found = [...text.matchAll(STATIC_IMPORT)].map((match) => match[1] as string);
  for (const line of text.split("\n")) {
    if (COMMENT_LINE.test(line)) continue;
    for (const match of line.matchAll(DYNAMIC_IMPORT)) found.push(match[1] as string);
  }
  return found;
}

function sourceFiles(dir: string, skip: Set<string> = new Set()): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((file) => /\.[cm]?tsx?$/.test(file) && !file.split(sep).some((part) => skip.has(part)))
    .map((file) => join(dir, file));
}

interface Import {
  /** Both relative to the root they were found under. */
  from: string;
  to: string;
  specifier: string;
}

/** Every import of the files under `root`; `to` is the resolved path for a relative specifier, else the specifier. */
function importsUnder(root: string, skip?: Set<string>): Import[] {
  return sourceFiles(root, skip).flatMap((file) =>
    specifiers(readFileSync(file, "utf8")).map((specifier) => ({
      from: relative(root, file).split(sep).join("/"),
      to: specifier.startsWith(".")
        ? relative(root, resolve(dirname(file), specifier))
            .split(sep)
            .join("/")
        : specifier,
      specifier,
    })),
  );
}

const layerOf = (path: string): string =>
  path.includes("/") ? (path.split("/")[0] as string) : path.replace(/\.ts$/, "");
const isLayer = (name: string): name is Layer => Object.hasOwn(LAYERS, name);

describe("layering", () => {
  const serverImports = importsUnder(SERVER_SOURCES);

  it("finds every form of import, and none in comments", () => {
    const text = [
      'import assert from "node:assert";',
      'import {\n  a,\n  type B,\n} from "../storage/multi-line.ts";',
      'import type { C } from "./type-only.ts";',
      'export { d } from "../domain/re-export.ts";',
      'export * from "./star.ts";',
      'import "./side-effect.ts";',
      'const { e } = await import("../service/dynamic.ts");',
      'type F = typeof import("../api/in-a-type.ts");',
      'export const g = "from here";',
      ' * {@link import("../api/in-a-doc-comment.ts")}',
      '// import("../api/in-a-line-comment.ts")',
    ].join("\n");
    assert.deepEqual(specifiers(text), [
      "node:assert",
      "../storage/multi-line.ts",
      "./type-only.ts",
      "../domain/re-export.ts",
      "./star.ts",
      "./side-effect.ts",
      "../service/dynamic.ts",
      "../api/in-a-type.ts",
    ]);
    // A broken pattern would find nothing and pass everything.
    assert.ok(serverImports.length > 500, `only ${serverImports.length} imports found`);
  });

  it("places every file of src/ in a layer of the table", () => {
    const unplaced = new Set(
      sourceFiles(SERVER_SOURCES)
        .map((file) => layerOf(relative(SERVER_SOURCES, file).split(sep).join("/")))
        .filter((layer) => !isLayer(layer)),
    );
    assert.deepEqual([...unplaced], [], "add these folders to LAYERS in test/layering.test.ts");
  });

  it("has no cycle in the table, so an allowed import never points upwards", () => {
    const state = new Map<Layer, "visiting" | "done">();
    const visit = (layer: Layer, path: Layer[]): void => {
      if (state.get(layer) === "done") return;
      assert.notEqual(state.get(layer), "visiting", `cycle: ${[...path, layer].join(" → ")}`);
      state.set(layer, "visiting");
      const below = LEAF.has(layer) ? LAYERS[layer] : [...EVERYWHERE, ...LAYERS[layer]];
      for (const next of below) visit(next, [...path, layer]);
      state.set(layer, "done");
    };
    for (const layer of Object.keys(LAYERS) as Layer[]) visit(layer, []);
  });

  it("keeps every import of the server inside src/ and in the direction of the table", () => {
    const upward: string[] = [];
    const used = new Set<(typeof EXCEPTIONS)[number]>();
    for (const { from, to, specifier } of serverImports) {
      if (!specifier.startsWith(".")) continue;
      if (to.startsWith("..")) {
        upward.push(`${from} imports ${specifier}, outside src/ (the SDK only by its package name)`);
        continue;
      }
      const source = layerOf(from);
      const target = layerOf(to);
      if (!isLayer(source) || !isLayer(target) || source === target) continue;
      const allowed = LEAF.has(source) ? LAYERS[source] : [...EVERYWHERE, ...LAYERS[source]];
      if (allowed.includes(target)) continue;
      const exception = EXCEPTIONS.find((e) => e.from === from && e.to === to);
      if (exception) used.add(exception);
      else upward.push(`${from} → ${to} (${source} may not import ${target})`);
    }
    assert.deepEqual(upward, []);
    assert.deepEqual(
      EXCEPTIONS.filter((e) => !used.has(e)).map((e) => `${e.from} → ${e.to}`),
      [],
      "an exception no import needs any more: remove it",
    );
  });

  it("keeps the SDK free of server code", () => {
    const imports = importsUnder(SDK, new Set(["node_modules", "dist", "reference"]));
    assert.ok(imports.length > 50, `only ${imports.length} SDK imports found`);
    const server = imports.filter(
      ({ to, specifier }) =>
        (specifier.startsWith(".") && to.startsWith("..")) || /^@gofer\/gofer(\/|$)/.test(specifier),
    );
    assert.deepEqual(
      server.map(({ from, specifier }) => `${from} imports ${specifier}`),
      [],
    );
  });
});
