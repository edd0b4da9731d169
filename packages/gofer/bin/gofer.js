#!/usr/bin/env node
// Gofer runs from its TypeScript sources with Node's type stripping (Node >= 24 needed).
const [major] = process.versions.node.split(".").map(Number);
if (major < 24) {
  process.stderr.write(
    `gofer needs Node.js 24 or newer (this is ${process.version}). Run it through npx from the repository, which uses the pinned Node 24.\n`,
  );
  process.exit(1);
}
// Stripping types and compiling ~100 modules on every start costs more than the whole CLI budget; Node's
// on-disk compile cache (keyed by file content, so edits are picked up) brings a command back to ~100 ms.
const { enableCompileCache } = await import("node:module");
enableCompileCache?.();
await import("../src/main.ts");
