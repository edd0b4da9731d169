#!/usr/bin/env bash
# Runs every check of the project: type-check, lint, unit tests, integration tests against a real Docker engine
# and browser tests in Chromium. Installs and starts what it needs first (npm packages, Docker engine, the task
# and extension images, Debian's chromium).
set -euo pipefail
cd "$(dirname "$0")"
scripts/install.sh
scripts/ensure-docker.sh
scripts/build-images.sh
scripts/ensure-chromium.sh
npm test
