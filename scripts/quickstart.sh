#!/usr/bin/env bash
# From a fresh clone to a finished pipeline run in one command: installs what is missing, starts a Gofer server
# in the background (data in ./.gofer-data), makes a token, registers examples/dag, runs it while showing it
# live, and prints its logs. Running it again reuses the server and the token and starts another run.
#
# GOFER_QUICKSTART_PORT (default 8080) is the server's port; the webhook listener takes the next one (unless
# GOFER_WEB_EXTERNAL_EVENTS__BIND_ADDRESS says otherwise). When something else holds either, the quickstart
# stops and says so: run it as GOFER_QUICKSTART_PORT=8090 npm run quickstart.
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
if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65534 ]; then
  echo "quickstart: GOFER_QUICKSTART_PORT must be a port number (1-65534), not \"$port\"" >&2
  exit 1
fi
url="http://127.0.0.1:$port"
cli_config="$data/cli.toml"
mkdir -p "$data"
chmod 700 "$data"

# What answers at $url: "none" (nothing, or nothing that speaks HTTP in time), "gofer", or "other: <what>".
probe() {
  node -e '
    const url = `${process.argv[1]}/api/system/metadata`;
    fetch(url, { headers: { "gofer-api-version": "v0" }, signal: AbortSignal.timeout(2000) }).then(
      async (response) => {
        let body;
        try { body = JSON.parse(await response.text()); } catch {}
        const gofer = response.ok && typeof body?.semver === "string" && typeof body?.commit === "string";
        const type = response.headers.get("content-type") ?? "no content type";
        console.log(gofer ? "gofer" : `other: it answers GET /api/system/metadata with HTTP ${response.status} (${type})`);
      },
      () => console.log("none"),
    );' "$url"
}

# Whether a server at $url is the one this quickstart started on this data folder: the one it recorded, or
# one that accepts the token it kept.
own_server() {
  if [ -f "$data/server.pid" ] && [ "$(cat "$data/server.url" 2>/dev/null)" = "$url" ] &&
    kill -0 "$(cat "$data/server.pid")" 2>/dev/null; then
    return 0
  fi
  [ -s "$cli_config" ] && GOFER_CONFIG="$cli_config" gofer --api-base-url "$url" token whoami >/dev/null 2>&1
}

port_free() {
  node -e '
    const server = require("node:net").createServer();
    server.once("error", () => process.exit(1));
    server.listen(Number(process.argv[1]), "127.0.0.1", () => server.close(() => process.exit(0)));' "$1"
}

taken() {
  echo "quickstart: $1" >&2
  echo "  Run it on other ports (the webhook listener takes the next one): GOFER_QUICKSTART_PORT=$((port + 10)) npm run quickstart" >&2
  exit 1
}

# One field of the JSON document on stdin; fails quietly (the command before it has said why) when there is none.
json_field() {
  node -e '
    let text = "";
    process.stdin.on("data", (chunk) => (text += chunk)).on("end", () => {
      try {
        const value = JSON.parse(text)[process.argv[1]];
        if (value === undefined) process.exit(1);
        process.stdout.write(String(value));
      } catch {
        process.exit(1);
      }
    });' "$1"
}

answer=$(probe)
if [ "$answer" = gofer ] && own_server; then
  echo "quickstart: its Gofer server already answers at $url; using it"
elif [ "$answer" = gofer ]; then
  taken "a Gofer server that this quickstart did not start answers at $url (it is not the one recorded in $data, and it refuses the token in $cli_config)."
elif [ "$answer" != none ]; then
  taken "something other than Gofer listens at $url (${answer#other: })."
else
  events_address="${GOFER_WEB_EXTERNAL_EVENTS__BIND_ADDRESS:-127.0.0.1:$((port + 1))}"
  port_free "$port" || taken "port $port is taken by a process that does not answer HTTP."
  if [ -z "${GOFER_WEB_EXTERNAL_EVENTS__BIND_ADDRESS:-}" ]; then
    port_free "$((port + 1))" || taken "port $((port + 1)), for the webhook listener, is taken by another process."
  fi
  echo "quickstart: starting the Gofer server at $url (log: $data/server.log)"
  export GOFER_WEB_SERVER__DATA_DIR="$data"
  export GOFER_WEB_SERVER__BIND_ADDRESS="127.0.0.1:$port"
  export GOFER_WEB_EXTERNAL_EVENTS__BIND_ADDRESS="$events_address"
  # An engine started without its bridge network can only run containers on the host network.
  if [ -z "${GOFER_WEB_SCHEDULER__DOCKER__NETWORK_MODE:-}" ] && ! docker network inspect bridge >/dev/null 2>&1; then
    export GOFER_WEB_SCHEDULER__DOCKER__NETWORK_MODE=host
  fi
  nohup gofer service start >>"$data/server.log" 2>&1 &
  echo $! >"$data/server.pid"
  echo "$url" >"$data/server.url"
  for _ in $(seq 1 100); do
    [ "$(probe)" = gofer ] && break
    if ! kill -0 "$(cat "$data/server.pid")" 2>/dev/null; then
      echo "quickstart: the server stopped while starting; its log ends with:" >&2
      tail -n 20 "$data/server.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  [ "$(probe)" = gofer ] || { echo "quickstart: the server did not answer within 30 s; see $data/server.log" >&2; exit 1; }
fi

# The CLI reads this file through GOFER_CONFIG; the token inside it is shown once by the server, so keep it.
if [ ! -s "$cli_config" ]; then
  secret=$(gofer --api-base-url "$url" token bootstrap --json | json_field secret) || {
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
run_id=$(gofer run start dag --json | json_field run_id)
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
