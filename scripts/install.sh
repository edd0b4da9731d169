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
    policy=/usr/sbin/policy-rc.d
    saved_policy=""
    if [ -e "$policy" ]; then
      saved_policy=$(mktemp)
      cp -p "$policy" "$saved_policy"
    fi
    restore_policy() {
      if [ -n "$saved_policy" ]; then mv -f "$saved_policy" "$policy"; else rm -f "$policy"; fi
    }
    trap restore_policy EXIT
    printf '#!/bin/sh\n# scripts/install.sh: no service starts while postgresql installs\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    if ! { apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null; }; then
      echo "install: apt could not install postgresql; the PostgreSQL storage tests will fail" >&2
    fi
    restore_policy
    trap - EXIT
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
# The CLI's first start strips types and compiles every module; doing it once here fills Node's compile cache so
# the user's first command is as quick as the ones after it.
node_modules/.bin/node packages/gofer/bin/gofer.js --version >/dev/null
