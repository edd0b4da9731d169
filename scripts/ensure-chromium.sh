#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed for the browser tests (web/test), installing it with apt when missing.
# playwright-core drives this browser; it never downloads one of its own.
set -euo pipefail

log() { printf 'ensure-chromium: %s\n' "$*" >&2; }
browser="${GOFER_TEST_CHROMIUM:-/usr/bin/chromium}"

if [ -x "$browser" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  log "$browser is missing; install Debian's chromium (sudo apt-get install chromium) or set GOFER_TEST_CHROMIUM, then retry"
  exit 1
fi
log "installing chromium with apt (for the browser tests)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
if [ ! -x "$browser" ]; then
  log "apt installed chromium, but $browser is still missing"
  exit 1
fi
log "$("$browser" --version 2>/dev/null || echo chromium) installed"
