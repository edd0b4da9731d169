/**
 * The copy of `@gofer/sdk` a new project is given. The SDK is not published to the npm registry, so
 * `gofer extension init` and `gofer pipeline init` write its sources into the project (`vendor/gofer-sdk/`), and
 * the project depends on that folder with `file:`.
 *
 * A folder rather than a packed tarball: npm links a `file:` folder instead of copying it into node_modules, and
 * Node resolves the link to its real path. The SDK is TypeScript, and Node strips types from files outside
 * node_modules only, so the linked copy is what lets `gofer up` load a pipeline file importing an installed SDK.
 *
 * From sources the copy is read from the SDK package the CLI itself runs on. The single binary has no SDK on
 * disk: scripts/build-binary.sh stores the same copy, made by {@link readSdkSourcesFromDisk}, as the SEA asset
 * {@link SDK_SOURCES_ASSET}.
 */
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { getAsset, isSea } from "node:sea";
import { fileURLToPath } from "node:url";

/** The SEA asset holding {@link SdkSources} as JSON. */
export const SDK_SOURCES_ASSET = "project-init/gofer-sdk.json";

/** The SDK's package, as the files to write into a project's vendor folder. */
export interface SdkSources {
  name: string;
  version: string;
  /** Path relative to the package's root, `/`-separated → the file's text. */
  files: Record<string, string>;
}

// What a project needs: the modules and the extension interface's description. The SDK's own tests and build
// settings stay behind.
const SHIPPED_FOLDERS = ["src", "reference"];

// The fields of the SDK's package.json that using it needs. Its devDependencies are left out: npm installs a
// linked folder's devDependencies too, and they are only for the SDK's own tests.
const KEPT_FIELDS = ["name", "version", "description", "type", "exports", "engines"];

export async function sdkSources(): Promise<SdkSources> {
  if (isSea()) return JSON.parse(getAsset(SDK_SOURCES_ASSET, "utf8")) as SdkSources;
  return readSdkSourcesFromDisk();
}

/** Reads the SDK package that `@gofer/sdk` resolves to from this module. */
export async function readSdkSourcesFromDisk(): Promise<SdkSources> {
  // The package's main entry is src/index.ts; the package exports no package.json to resolve directly.
  const root = dirname(dirname(fileURLToPath(import.meta.resolve("@gofer/sdk"))));
  const manifest = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as Record<string, unknown>;
  const kept = Object.fromEntries(
    KEPT_FIELDS.filter((key) => key in manifest).map((key) => [key, manifest[key]]),
  );
  const files: Record<string, string> = { "package.json": `${JSON.stringify(kept, null, 2)}\n` };
  for (const folder of SHIPPED_FOLDERS) {
    const entries = await readdir(join(root, folder), { recursive: true, withFileTypes: true });
    const paths = entries
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name))
      .sort();
    for (const path of paths) {
      files[relative(root, path).split(sep).join("/")] = await readFile(path, "utf8");
    }
  }
  return { name: String(manifest.name), version: String(manifest.version), files };
}
