#!/usr/bin/env node
// Gofer runs from its TypeScript sources with Node's type stripping (Node >= 24 needed).
const [major] = process.versions.node.split(".").map(Number);
if (major < 24) {
  process.stderr.write(
    `gofer needs Node.js 24 or newer (this is ${process.version}). Run it through npx from the repository, which uses the pinned Node 24.\n`,
  );
  process.exit(1);
}
await import("../src/main.ts");
