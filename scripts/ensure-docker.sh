#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine, installing and starting Debian's docker.io when needed.
# The daemon is started with host networking only (no bridge, no iptables): these machines must never create
# networks or use private address ranges.
set -euo pipefail

log() { printf 'ensure-docker: %s\n' "$*" >&2; }

if docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    log "no Docker engine answers and dockerd is not installed; install docker.io (or run as root) and retry"
    exit 1
  fi
  log "installing docker.io and busybox-static with apt"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io busybox-static >/dev/null
fi

if [ "$(id -u)" -ne 0 ]; then
  log "dockerd is installed but not running; start it (or run as root) and retry"
  exit 1
fi

log "starting dockerd --bridge=none --iptables=false"
mkdir -p /var/log
# In a session of its own: the engine must outlive the shell, terminal or job group that happened to start it.
setsid nohup dockerd --bridge=none --iptables=false >>/var/log/gofer-dockerd.log 2>&1 </dev/null &
for _ in $(seq 1 60); do
  if docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
    log "Docker engine $(docker version --format '{{.Server.Version}}') is up"
    exit 0
  fi
  sleep 0.5
done
log "dockerd did not answer within 30s; see /var/log/gofer-dockerd.log"
exit 1
