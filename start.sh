#!/usr/bin/env bash
# Starts a Gofer server on http://127.0.0.1:8080 with its data in ./.gofer-data, installing and starting what it
# needs first (npm packages, Docker engine, the task image and the extension images). Extra arguments go to `gofer service start`.
# Another address: GOFER_WEB_SERVER__BIND_ADDRESS=127.0.0.1:8090 ./start.sh (webhooks listen on
# GOFER_WEB_EXTERNAL_EVENTS__BIND_ADDRESS, 127.0.0.1:8081 by default); a taken one fails naming the setting.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install.sh
scripts/ensure-docker.sh
scripts/build-images.sh
scripts/build-web.sh

export GOFER_WEB_SERVER__DATA_DIR="${GOFER_WEB_SERVER__DATA_DIR:-$PWD/.gofer-data}"
# An engine started without its bridge network (as on machines that must not create networks) can only run
# containers on the host network.
if [ -z "${GOFER_WEB_SCHEDULER__DOCKER__NETWORK_MODE:-}" ] && ! docker network inspect bridge >/dev/null 2>&1; then
  export GOFER_WEB_SCHEDULER__DOCKER__NETWORK_MODE=host
fi
exec npx gofer service start "$@"
