/**
 * The files every new project has, whatever it holds: the vendored SDK, the TypeScript settings the SDK itself
 * is checked with, and what git should not track.
 */
import type { ProjectFile } from "./project-files.ts";
import type { SdkSources } from "./sdk-sources.ts";

/** Where the SDK's copy goes in a project, and what its package.json depends on. */
export const VENDORED_SDK_DIR = "vendor/gofer-sdk";
export const VENDORED_SDK_DEPENDENCY = `file:${VENDORED_SDK_DIR}`;

export function vendoredSdkFiles(sdk: SdkSources): ProjectFile[] {
  return Object.entries(sdk.files).map(([path, text]) => ({ path: `${VENDORED_SDK_DIR}/${path}`, text }));
}

/**
 * The SDK is TypeScript imported with `.ts` extensions, and `tsc` checks it with the project's settings, so they
 * are the ones the SDK is written for. Nothing is emitted: esbuild bundles, Node strips types.
 */
export function tsconfigFile(include: string[]): ProjectFile {
  const config = {
    compilerOptions: {
      target: "es2024",
      lib: ["es2024"],
      module: "nodenext",
      moduleResolution: "nodenext",
      types: ["node"],
      strict: true,
      noEmit: true,
      allowImportingTsExtensions: true,
      erasableSyntaxOnly: true,
      verbatimModuleSyntax: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: true,
      isolatedModules: true,
    },
    include,
  };
  return jsonFile("tsconfig.json", config);
}

export function gitignoreFile(lines: string[]): ProjectFile {
  return { path: ".gitignore", text: `${lines.join("\n")}\n` };
}

export function jsonFile(path: string, value: unknown): ProjectFile {
  return { path, text: `${JSON.stringify(value, null, 2)}\n` };
}
