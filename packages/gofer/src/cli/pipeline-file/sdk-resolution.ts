/**
 * Lets a pipeline file anywhere on disk import `@gofer/sdk` without installing anything: when the file's own
 * resolution finds no SDK, the import is resolved from here instead, to the copy the CLI itself runs on.
 *
 * `module.registerHooks` runs the hooks synchronously on the loading thread and applies to `import`,
 * `require()` and `import.meta.resolve` alike, so a CommonJS pipeline file is served too; the older
 * `module.register` runs hooks on a separate loader thread and is deprecated in Node 24.
 *
 * The single binary has no SDK on disk to resolve to: its copy exists only inside the bundle. There the import
 * resolves to a module that the load hook makes up, which re-exports the bundle's SDK, so the pipeline file
 * builds its pipeline with the very classes the CLI was built with.
 */
import { registerHooks } from "node:module";
import { isSea } from "node:sea";

const SDK_PACKAGE = "@gofer/sdk";

// ESM resolution and `require()` report a missing package with different codes.
const NOT_FOUND_CODES = new Set(["ERR_MODULE_NOT_FOUND", "MODULE_NOT_FOUND"]);

// Where the made-up modules of the single binary find the bundle's modules: the made-up module's source is
// evaluated on its own, so a global is its only way in.
const BUNDLED_MODULES = Symbol.for("gofer.bundled-sdk");
const BUNDLED_URL_PREFIX = "gofer-bundled:";

type BundledModules = Record<string, Record<string, unknown>>;

/** Whether `specifier` names the SDK package or one of its subpath exports (`@gofer/sdk/client`). */
function isSdkSpecifier(specifier: string): boolean {
  return specifier === SDK_PACKAGE || specifier.startsWith(`${SDK_PACKAGE}/`);
}

/**
 * Installs the fallback for the rest of the process's life. The file's own resolution is always tried first,
 * so an SDK installed next to the pipeline file (a pinned version, say) wins over the CLI's copy; only a
 * package that cannot be found at all falls back.
 */
export async function registerSdkFallback(): Promise<void> {
  if (isSea()) {
    // esbuild bundles these imports, so in the binary they cost no file access; from sources this branch never
    // runs, and the child does not load the SDK unless the pipeline file imports it.
    const bundled: BundledModules = {
      [SDK_PACKAGE]: await import("@gofer/sdk"),
      [`${SDK_PACKAGE}/client`]: await import("@gofer/sdk/client"),
    };
    (globalThis as Record<symbol, unknown>)[BUNDLED_MODULES] = bundled;
    registerBundledFallback(bundled);
    return;
  }

  let resolvingFromCli = false;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      try {
        return nextResolve(specifier, context);
      } catch (error) {
        if (resolvingFromCli || !isSdkSpecifier(specifier) || !isNotFound(error)) throw error;
        // `import.meta.resolve` runs this hook again, for the CLI's module this time; the flag keeps a CLI
        // that cannot find its own SDK from recursing. Passing the CLI's URL as `parentURL` to `nextResolve`
        // would look simpler, but `require()` resolution ignores it.
        resolvingFromCli = true;
        try {
          return { url: import.meta.resolve(specifier), shortCircuit: true };
        } finally {
          resolvingFromCli = false;
        }
      }
    },
  });
}

function registerBundledFallback(bundled: BundledModules): void {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      try {
        return nextResolve(specifier, context);
      } catch (error) {
        if (!Object.hasOwn(bundled, specifier) || !isNotFound(error)) throw error;
        return { url: `${BUNDLED_URL_PREFIX}${specifier}`, format: "module", shortCircuit: true };
      }
    },
    load(url, context, nextLoad) {
      const specifier = url.slice(BUNDLED_URL_PREFIX.length);
      const exports =
        url.startsWith(BUNDLED_URL_PREFIX) && Object.hasOwn(bundled, specifier)
          ? bundled[specifier]
          : undefined;
      if (exports === undefined) return nextLoad(url, context);
      return { format: "module", source: reexportSource(specifier, exports), shortCircuit: true };
    },
  });
}

/** ESM source exporting each of `exports`'s names, read from {@link BUNDLED_MODULES}. */
function reexportSource(specifier: string, exports: Record<string, unknown>): string {
  const module = `globalThis[Symbol.for(${JSON.stringify(BUNDLED_MODULES.description)})][${JSON.stringify(specifier)}]`;
  return Object.keys(exports)
    .filter((name) => /^[A-Za-z_$][\w$]*$/.test(name) && name !== "default")
    .map((name) => `export const ${name} = ${module}.${name};\n`)
    .join("");
}

function isNotFound(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    "code" in error &&
    typeof error.code === "string" &&
    NOT_FOUND_CODES.has(error.code)
  );
}
