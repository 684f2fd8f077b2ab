#!/usr/bin/env bash
# Creates the Python virtual environment that the benchmarks' PyTorch reference runs in (CPU-only torch).
# Usage: tools/bench/setup-venv.sh [VENV_DIR]   (default: .venv-tools at the repository root)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=${1:-$root/.venv-tools}
python=${PYTHON:-python3}
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --upgrade pip >/dev/null
# The CPU wheel index keeps the download small (no CUDA libraries); fall back to PyPI where it is unreachable.
"$venv/bin/python" -m pip install torch --index-url https://download.pytorch.org/whl/cpu \
  || "$venv/bin/python" -m pip install torch
"$venv/bin/python" -c 'import torch; print("torch", torch.__version__, "threads", torch.get_num_threads())'
echo "PyTorch reference ready: $venv/bin/python (npm run bench finds it there, or set SCAN_BENCH_PYTHON)"
