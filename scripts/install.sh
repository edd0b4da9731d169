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
# The CLI's first start strips types and compiles every module; doing it once here fills Node's compile cache so
# the user's first command is as quick as the ones after it.
node_modules/.bin/node packages/gofer/bin/gofer.js --version >/dev/null
