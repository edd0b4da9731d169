#!/usr/bin/env bash
# Builds the web UI into web/dist when it is missing or older than its sources, so the server has a UI to serve
# at /. Quiet when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -f web/dist/index.html ] && [ -z "$(find web/src web/index.html web/vite.config.ts web/package.json -newer web/dist/index.html -print -quit)" ]; then
  exit 0
fi
echo "build-web: building the web UI (web/dist)" >&2
PATH="$PWD/node_modules/.bin:$PATH" npm run build:web --silent >/dev/null
