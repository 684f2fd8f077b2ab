#!/usr/bin/env bash
# Starts a throw-away MLflow tracking server for tests and local use (on the port its last start used, if free):
#   eval "$(bash tools/mlflow/start.sh)"     # sets MLFLOW_TRACKING_URI and SCAN_MLFLOW_STATE_DIR
#   ...                                      # use it
#   bash tools/mlflow/stop.sh                # stops it (reads SCAN_MLFLOW_STATE_DIR, or pass the dir)
# The server keeps its sqlite database and artifacts in a fresh temporary folder (or MLFLOW_STATE_DIR) and
# proxies artifacts (`mlflow-artifacts:/` URIs), so clients only ever talk HTTP to it.
# Only `export ...` lines go to stdout; progress and errors go to stderr.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${MLFLOW_VENV:-$repo_root/.venv-mlflow}"
if [ ! -x "$venv/bin/mlflow" ]; then
  echo "start.sh: no MLflow in $venv; run: bash tools/mlflow/install.sh" >&2
  exit 1
fi

state="${MLFLOW_STATE_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/scan-mlflow.XXXXXX")}"
mkdir -p "$state/artifacts"
# The port: MLFLOW_PORT if given; else the one this checkout's last server used (.mlflow-port), so URIs
# written earlier (run sidecars, a browser tab) stay valid across restarts; else (or when that one is taken)
# a free port chosen by the kernel, remembered for next time. MLFLOW_PORT=auto: a free port, not remembered
# (the test setup, which must not take a developer's port). The tiny race until mlflow binds is acceptable.
# SO_REUSEADDR: a port the stopped server left in TIME_WAIT is free for the next (which binds the same way).
port_file="$repo_root/.mlflow-port"
port_free() { "$venv/bin/python" -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null; }
free_port() { "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
case "${MLFLOW_PORT:-}" in
  auto) port="$(free_port)" ;;
  "")
    port="$(cat "$port_file" 2>/dev/null || true)"
    if ! [[ "$port" =~ ^[0-9]+$ ]] || ! port_free "$port"; then port="$(free_port)"; fi
    echo "$port" > "$port_file" ;;
  *) port="$MLFLOW_PORT" ;;
esac
uri="http://127.0.0.1:$port"

# setsid: the server (and its gunicorn workers) get their own process group, so stop.sh can end exactly them.
# One worker: the machine has 2 shared cores and sqlite serialises writes anyway.
setsid "$venv/bin/mlflow" server \
  --backend-store-uri "sqlite:///$state/mlflow.db" \
  --artifacts-destination "$state/artifacts" \
  --host 127.0.0.1 --port "$port" --workers 1 \
  >"$state/server.log" 2>&1 < /dev/null &
pid=$!
echo "$pid" > "$state/server.pid"
echo "$uri" > "$state/uri"

# Bounded wait for /health (first start migrates the sqlite schema: several seconds on a busy machine).
deadline=$((SECONDS + ${MLFLOW_START_TIMEOUT:-120}))
until curl -fsS "$uri/health" >/dev/null 2>&1; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "start.sh: mlflow server exited during start-up; its log ($state/server.log):" >&2
    tail -n 40 "$state/server.log" >&2
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "start.sh: mlflow server did not answer $uri/health within ${MLFLOW_START_TIMEOUT:-120}s; log: $state/server.log" >&2
    tail -n 40 "$state/server.log" >&2
    kill -- "-$pid" 2>/dev/null || true
    exit 1
  fi
  sleep 0.5
done
echo "start.sh: mlflow server up at $uri (state in $state)" >&2
echo "export MLFLOW_TRACKING_URI=$uri"
echo "export SCAN_MLFLOW_STATE_DIR=$state"
