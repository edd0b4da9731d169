#!/usr/bin/env bash
# Runs every check of the project: type-check, lint, unit tests and integration tests against a real Docker
# engine. Installs and starts what it needs first (npm packages, Docker engine, the task and extension images).
set -euo pipefail
cd "$(dirname "$0")"
scripts/install.sh
scripts/ensure-docker.sh
scripts/build-images.sh
npm test
