#!/usr/bin/env bash
# Stops a server started by start.sh: `bash tools/mlflow/stop.sh [--clean] [STATE_DIR]`
# (STATE_DIR defaults to $SCAN_MLFLOW_STATE_DIR). Ends only the server's own process group, recorded by
# start.sh. The state folder (database, artifacts, server.log) is kept for inspection unless --clean.
set -euo pipefail

clean=0
if [ "${1:-}" = "--clean" ]; then clean=1; shift; fi
state="${1:-${SCAN_MLFLOW_STATE_DIR:-}}"
if [ -z "$state" ] || [ ! -f "$state/server.pid" ]; then
  echo "stop.sh: no server state folder given (argument or SCAN_MLFLOW_STATE_DIR), or no server.pid in '$state'" >&2
  exit 1
fi
pid="$(cat "$state/server.pid")"
if kill -0 "$pid" 2>/dev/null; then
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL -- "-$pid" 2>/dev/null || true; fi
fi
rm -f "$state/server.pid"
echo "stop.sh: mlflow server (process group $pid) stopped" >&2
if [ "$clean" = 1 ]; then rm -rf "$state"; fi
