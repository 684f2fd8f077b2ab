#!/usr/bin/env bash
# Installs the MLflow tracking server used by the tracking tests (and by anyone who wants a local server)
# into a git-ignored virtual environment, .venv-mlflow at the repo root, from the fully pinned
# tools/mlflow/requirements.txt (mlflow 3.1.4, Python 3.11). Idempotent: a venv installed from the same
# requirements file is left alone.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
venv="${MLFLOW_VENV:-$repo_root/.venv-mlflow}"
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
requirements="$here/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"

if [ -x "$venv/bin/mlflow" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "install.sh: MLflow already installed in $venv" >&2
  exit 0
fi

echo "install.sh: installing MLflow ($(grep -m1 '^mlflow==' "$requirements")) into $venv; the first time takes a few minutes" >&2
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
# Several people share this machine's pip: serialise pip runs. Progress: one line per package, on stderr.
flock /tmp/pip.lock "$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off -r "$requirements" |
  { grep --line-buffered -E '^(Collecting|Installing collected|Successfully installed)' | cut -c1-120 >&2 || true; }
"$venv/bin/mlflow" --version >&2
echo "$want" > "$stamp"
