/**
 * Loads a pipeline's `.ts` files as ES modules wherever they sit. Node decides a `.ts` file's module system from
 * the nearest package.json, and `npm init -y` writes `"type": "commonjs"` into it: in such a folder (or below
 * one) Node would parse a pipeline file's `import` as a syntax error. A pipeline file is ESM TypeScript (every
 * example and the SDK's documentation write it so), so its folder's package.json, which describes some other
 * project, does not get a say.
 *
 * Only what Node would load as CommonJS for that package.json alone changes: a `.cts` file stays CommonJS, a
 * folder without a `"type"` keeps Node's own detection (which finds `import` and `export`), and packages under
 * node_modules are loaded as their authors published them.
 */
import { registerHooks } from "node:module";
import { extname } from "node:path";

export function registerTypeScriptAsModule(): void {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context);
      if (resolved.format !== "commonjs-typescript" || !resolved.url.startsWith("file:")) return resolved;
      const path = new URL(resolved.url).pathname;
      if (extname(path) !== ".ts" || path.includes("/node_modules/")) return resolved;
      return { ...resolved, format: "module-typescript" };
    },
  });
}
