/**
 * Why a `.js` pipeline file's `import` or `export` is a syntax error, when its folder's package.json is the
 * cause. Node loads a `.js` file as CommonJS when the nearest package.json says `"type": "commonjs"` (as
 * `npm init -y` writes it), and then does not look for module syntax at all. `.ts` files are loaded as modules
 * regardless (typescript-as-module.ts), but a `.js` pipeline file may really be CommonJS, so it is not
 * overruled: the user is told what to change instead.
 */
import { readFileSync } from "node:fs";
import { findPackageJSON } from "node:module";
import { basename, extname } from "node:path";
import { pathToFileURL } from "node:url";

const MODULE_SYNTAX_IN_COMMONJS =
  /Cannot use import statement outside a module|Unexpected token 'export'|Cannot use 'import\.meta' outside a module/;

/** The advice for a `.js` file whose module syntax failed because of a `"type": "commonjs"`; else undefined. */
export function commonJsFolderHint(source: string, report: string): string | undefined {
  if (extname(source) !== ".js" || !MODULE_SYNTAX_IN_COMMONJS.test(report)) return undefined;
  const packageJson = declaringPackageJson(source);
  if (packageJson === undefined) return undefined;
  const name = basename(source, ".js");
  return (
    `${packageJson} says "type": "commonjs", so Node loads ${basename(source)} as CommonJS, where import and ` +
    `export are syntax errors. Rename it to ${name}.mjs or ${name}.ts (a .ts pipeline file is always loaded ` +
    `as a module), or remove "type": "commonjs" from ${packageJson}.`
  );
}

function declaringPackageJson(source: string): string | undefined {
  try {
    const path = findPackageJSON(pathToFileURL(source));
    if (path === undefined) return undefined;
    const manifest: unknown = JSON.parse(readFileSync(path, "utf8"));
    const type = typeof manifest === "object" && manifest !== null && "type" in manifest ? manifest.type : "";
    return type === "commonjs" ? path : undefined;
  } catch {
    // An unreadable or broken package.json fails the import with its own message.
    return undefined;
  }
}
