#!/usr/bin/env bash
# From a fresh clone to a finished pipeline run in one command: installs what is missing, starts a Gofer server
# in the background (data in ./.gofer-data), makes a token, registers examples/dag, runs it while showing it
# live, and prints its logs. Running it again reuses the server and the token and starts another run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/install.sh
scripts/ensure-docker.sh
scripts/build-images.sh
scripts/build-web.sh

export PATH="$root/node_modules/.bin:$PATH"
data="${GOFER_WEB_SERVER__DATA_DIR:-$root/.gofer-data}"
port="${GOFER_QUICKSTART_PORT:-8080}"
url="http://127.0.0.1:$port"
mkdir -p "$data"
chmod 700 "$data"

server_up() {
  node -e 'fetch(process.argv[1], { headers: { "gofer-api-version": "v0" }, signal: AbortSignal.timeout(2000) })
    .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$url/api/system/metadata"
}

if server_up; then
  echo "quickstart: a Gofer server already answers at $url; using it"
else
  echo "quickstart: starting the Gofer server at $url (log: $data/server.log)"
  export GOFER_WEB_SERVER__DATA_DIR="$data"
  export GOFER_WEB_SERVER__BIND_ADDRESS="127.0.0.1:$port"
  export GOFER_WEB_EXTERNAL_EVENTS__BIND_ADDRESS="${GOFER_WEB_EXTERNAL_EVENTS__BIND_ADDRESS:-127.0.0.1:$((port + 1))}"
  # An engine started without its bridge network can only run containers on the host network.
  if [ -z "${GOFER_WEB_SCHEDULER__DOCKER__NETWORK_MODE:-}" ] && ! docker network inspect bridge >/dev/null 2>&1; then
    export GOFER_WEB_SCHEDULER__DOCKER__NETWORK_MODE=host
  fi
  nohup gofer service start >>"$data/server.log" 2>&1 &
  echo $! >"$data/server.pid"
  for _ in $(seq 1 100); do
    server_up && break
    if ! kill -0 "$(cat "$data/server.pid")" 2>/dev/null; then
      echo "quickstart: the server stopped while starting; its log ends with:" >&2
      tail -n 20 "$data/server.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  server_up || { echo "quickstart: the server did not answer within 20 s; see $data/server.log" >&2; exit 1; }
fi

# The CLI reads this file through GOFER_CONFIG; the token inside it is shown once by the server, so keep it.
cli_config="$data/cli.toml"
if [ ! -s "$cli_config" ]; then
  secret=$(gofer --api-base-url "$url" token bootstrap --json | node -e \
    'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).secret))') || {
    echo "quickstart: this server already gave out its bootstrap token, and $cli_config does not hold it." >&2
    echo "  Put a token in $cli_config as: token = \"...\"  (or start over: stop the server and remove $data)" >&2
    exit 1
  }
  umask 077
  printf 'api_base_url = "%s"\ntoken = "%s"\n' "$url" "$secret" >"$cli_config"
fi
export GOFER_CONFIG="$cli_config"

echo
gofer up examples/dag
echo
run_id=$(gofer run start dag --json | node -e \
  'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(String(JSON.parse(s).run_id)))')
status=0
gofer run watch dag "$run_id" || status=$?
echo
gofer run logs dag "$run_id"

cat <<NEXT

That was run $run_id of the "dag" pipeline. The server keeps running in the background (PID $(cat "$data/server.pid" 2>/dev/null || echo "?")).
See it in the browser at $url/ (Sign in with the token in $cli_config).
Try next, from this folder:
  export GOFER_CONFIG=$cli_config PATH=$root/node_modules/.bin:\$PATH
  gofer run start dag -v FAIL_TESTS=1 --watch   # the failure branch: notify-failure runs, publish is skipped
  gofer up examples/script && gofer run start script --watch
  gofer pipeline subscribe dag interval every-minute -s every=1m   # a run every minute, from the interval extension
  gofer extension list                           # interval and cron come installed
  gofer pipeline list
  gofer run list dag
  gofer event list --follow                      # everything that happens, live (Ctrl-C to stop)
Stop the server with: kill \$(cat $data/server.pid)
NEXT
exit "$status"
