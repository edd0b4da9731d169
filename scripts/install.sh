#!/usr/bin/env bash
# Installs the project's npm dependencies, including the pinned Node 24 that every npm script runs on.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null 2>&1; then
  echo "install: npm is missing; install Node.js 20 or newer (Debian: apt-get install nodejs npm) and retry" >&2
  exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "install: Node.js $(node --version) is too old; Node.js 20 or newer is needed to install (Gofer itself runs on the pinned Node 24)" >&2
  exit 1
fi
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
# `gofer up` builds pipelines written in Go or Rust with the toolchain on the PATH, and the tests build tiny ones
# for real. Without them only those tests are skipped, so a failed apt run is reported, not fatal.
toolchains=()
command -v go >/dev/null 2>&1 || toolchains+=(golang-go)
command -v cargo >/dev/null 2>&1 || toolchains+=(cargo)
# The TLS tests make their certificates at test time.
command -v openssl >/dev/null 2>&1 || toolchains+=(openssl)
if [ "${#toolchains[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "install: installing ${toolchains[*]} with apt (Go and Rust pipelines, TLS test certificates)" >&2
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${toolchains[@]}" >/dev/null; }; then
      echo "install: apt could not install ${toolchains[*]}; the tests that need them will fail or be skipped" >&2
    fi
  else
    echo "install: ${toolchains[*]} missing (sudo apt-get install ${toolchains[*]}): \`gofer up\` of Go and Rust pipelines and the TLS tests need them" >&2
  fi
fi
# The CLI's first start strips types and compiles every module; doing it once here fills Node's compile cache so
# the user's first command is as quick as the ones after it.
node_modules/.bin/node packages/gofer/bin/gofer.js --version >/dev/null
