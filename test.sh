#!/usr/bin/env bash
# Runs every check of the project: type-check, lint, unit tests and integration tests against a real Docker
# engine. Installs and starts what it needs first (npm packages, Docker engine, the busybox task image).
set -euo pipefail
cd "$(dirname "$0")"
scripts/install.sh
scripts/ensure-docker.sh
images/build-busybox.sh
npm test
