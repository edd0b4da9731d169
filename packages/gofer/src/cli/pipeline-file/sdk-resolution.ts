/**
 * Lets a pipeline file anywhere on disk import `@gofer/sdk` without installing anything: when the file's own
 * resolution finds no SDK, the import is resolved from here instead, to the copy the CLI itself runs on.
 *
 * `module.registerHooks` runs the hook synchronously on the loading thread and applies to `import`,
 * `require()` and `import.meta.resolve` alike, so a CommonJS pipeline file is served too; the older
 * `module.register` runs hooks on a separate loader thread and is deprecated in Node 24.
 */
import { registerHooks } from "node:module";

const SDK_PACKAGE = "@gofer/sdk";

// ESM resolution and `require()` report a missing package with different codes.
const NOT_FOUND_CODES = new Set(["ERR_MODULE_NOT_FOUND", "MODULE_NOT_FOUND"]);

/** Whether `specifier` names the SDK package or one of its subpath exports (`@gofer/sdk/client`). */
function isSdkSpecifier(specifier: string): boolean {
  return specifier === SDK_PACKAGE || specifier.startsWith(`${SDK_PACKAGE}/`);
}

/**
 * Installs the fallback for the rest of the process's life. The file's own resolution is always tried first,
 * so an SDK installed next to the pipeline file (a pinned version, say) wins over the CLI's copy; only a
 * package that cannot be found at all falls back.
 */
export function registerSdkFallback(): void {
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

function isNotFound(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    "code" in error &&
    typeof error.code === "string" &&
    NOT_FOUND_CODES.has(error.code)
  );
}
