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
# Installs Debian packages with apt while a policy-rc.d that refuses every start is in place, so no package's
# maintainer scripts start its service. A policy-rc.d that was there before is put back afterwards.
policy_rc_d=/usr/sbin/policy-rc.d
saved_policy_rc_d=""
restore_policy_rc_d() {
  if [ -n "$saved_policy_rc_d" ]; then mv -f "$saved_policy_rc_d" "$policy_rc_d"; else rm -f "$policy_rc_d"; fi
}
apt_install_without_services() {
  local status=0
  saved_policy_rc_d=""
  if [ -e "$policy_rc_d" ]; then
    saved_policy_rc_d=$(mktemp)
    cp -p "$policy_rc_d" "$saved_policy_rc_d"
  fi
  trap restore_policy_rc_d EXIT
  printf '#!/bin/sh\n# scripts/install.sh: no service starts while %s installs\nexit 101\n' "$*" >"$policy_rc_d"
  chmod 755 "$policy_rc_d"
  { apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null; } || status=$?
  restore_policy_rc_d
  trap - EXIT
  return "$status"
}
# The storage conformance suite and the PostgreSQL server test run a private PostgreSQL cluster per run
# (packages/gofer/test/support/private-postgres.ts) from Debian's server binaries. The package's own cluster must
# not run: a policy-rc.d that refuses every start is in place while apt installs it, and any cluster that is
# online afterwards but was not before is stopped again.
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "install: installing postgresql with apt (the storage tests run a private cluster; its service is not started)" >&2
    online_clusters() { command -v pg_lsclusters >/dev/null 2>&1 && pg_lsclusters -h 2>/dev/null | awk '$4 == "online" { print $1 " " $2 }' || true; }
    online_before=$(online_clusters)
    clusters_before=$(command -v pg_lsclusters >/dev/null 2>&1 && pg_lsclusters -h 2>/dev/null | awk '{ print $1 " " $2 }' || true)
    if ! apt_install_without_services postgresql; then
      echo "install: apt could not install postgresql; the PostgreSQL storage tests will fail" >&2
    fi
    while read -r version cluster; do
      [ -n "$version" ] || continue
      if ! grep -qx "$version $cluster" <<<"$online_before"; then
        echo "install: stopping PostgreSQL cluster $version/$cluster that the package started" >&2
        pg_ctlcluster "$version" "$cluster" stop || true
      fi
    done <<<"$(online_clusters)"
    # The cluster the package created must not come up at the next boot either: the tests run their own.
    while read -r version cluster; do
      [ -n "$version" ] || continue
      if ! grep -qx "$version $cluster" <<<"$clusters_before" && [ -f "/etc/postgresql/$version/$cluster/start.conf" ]; then
        echo "manual" >"/etc/postgresql/$version/$cluster/start.conf"
      fi
    done <<<"$(command -v pg_lsclusters >/dev/null 2>&1 && pg_lsclusters -h 2>/dev/null | awk '{ print $1 " " $2 }' || true)"
  else
    echo "install: postgresql missing (sudo apt-get install --no-install-recommends postgresql): the PostgreSQL storage tests need its server binaries" >&2
  fi
fi
# The load-balancer tests run a private haproxy (packages/gofer/test/support/haproxy.ts) in front of several
# server replicas. The package's own service must not run: it is installed with every start refused, and if it
# runs or is enabled at boot afterwards but did not before, it is stopped and disabled again. An haproxy service
# that already ran or was enabled before is left as it was.
if ! command -v haproxy >/dev/null 2>&1 && [ ! -x /usr/sbin/haproxy ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "install: installing haproxy with apt (the load-balancer tests run a private one; its service is not started)" >&2
    haproxy_pidfile=/run/haproxy.pid
    haproxy_running() {
      if [ -d /run/systemd/system ]; then
        systemctl is-active --quiet haproxy.service 2>/dev/null
      else
        local pid
        pid=$(cat "$haproxy_pidfile" 2>/dev/null || true)
        [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
      fi
    }
    haproxy_enabled_systemd() {
      command -v systemctl >/dev/null 2>&1 && systemctl is-enabled --quiet haproxy.service 2>/dev/null
    }
    haproxy_enabled_sysv() { compgen -G "/etc/rc[2345].d/S*haproxy" >/dev/null; }
    running_before=false enabled_systemd_before=false enabled_sysv_before=false
    haproxy_running && running_before=true
    haproxy_enabled_systemd && enabled_systemd_before=true
    haproxy_enabled_sysv && enabled_sysv_before=true
    if ! apt_install_without_services haproxy; then
      echo "install: apt could not install haproxy; the load-balancer tests will fail" >&2
    fi
    if [ "$running_before" = false ] && haproxy_running; then
      echo "install: stopping the haproxy service that the package started" >&2
      if [ -d /run/systemd/system ]; then
        systemctl stop haproxy.service || true
      else
        [ -x /etc/init.d/haproxy ] && /etc/init.d/haproxy stop >/dev/null 2>&1 || true
        if haproxy_running; then kill "$(cat "$haproxy_pidfile")" 2>/dev/null || true; fi
      fi
    fi
    # Nor may it come up at the next boot: the tests run their own.
    if [ "$enabled_systemd_before" = false ] && haproxy_enabled_systemd; then
      systemctl disable --quiet haproxy.service >/dev/null 2>&1 || true
    fi
    if [ "$enabled_sysv_before" = false ] && haproxy_enabled_sysv; then
      update-rc.d haproxy disable >/dev/null 2>&1 || true
    fi
  else
    echo "install: haproxy missing (sudo apt-get install --no-install-recommends haproxy): the load-balancer tests need it" >&2
  fi
fi
# The metrics test scrapes a test server with a private Prometheus (packages/gofer/test/support/private-prometheus.ts)
# and checks the exposition with promtool. The package's own service must not run: it is installed with every start
# refused, and not enabled at boot if it was not before.
if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "install: installing prometheus with apt (the metrics test runs a private one; its service is not started)" >&2
    prometheus_enabled() {
      { command -v systemctl >/dev/null 2>&1 && systemctl is-enabled --quiet prometheus.service 2>/dev/null; } ||
        compgen -G "/etc/rc[2345].d/S*prometheus" >/dev/null
    }
    prometheus_enabled_before=false
    prometheus_enabled && prometheus_enabled_before=true
    if ! apt_install_without_services prometheus; then
      echo "install: apt could not install prometheus; the metrics test will fail" >&2
    fi
    if [ "$prometheus_enabled_before" = false ] && prometheus_enabled; then
      if command -v systemctl >/dev/null 2>&1; then systemctl disable --quiet prometheus.service >/dev/null 2>&1 || true; fi
      update-rc.d prometheus disable >/dev/null 2>&1 || true
    fi
  else
    echo "install: prometheus missing (sudo apt-get install --no-install-recommends prometheus): the metrics test needs it and promtool" >&2
  fi
fi
# The CLI's first start strips types and compiles every module; doing it once here fills Node's compile cache so
# the user's first command is as quick as the ones after it.
node_modules/.bin/node packages/gofer/bin/gofer.js --version >/dev/null
