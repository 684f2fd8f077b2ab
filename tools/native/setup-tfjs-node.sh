#!/usr/bin/env bash
# Makes @tensorflow/tfjs-node 4.22.0 work without its CDN download, from registry packages only:
#  - libtensorflow 2.9.1 (what tfjs-node 4.22.0 links against) comes from PyPI's tensorflow-cpu==2.9.1 wheel:
#    libtensorflow_framework.so.2 plus _pywrap_tensorflow_internal.so, which exports the TF/TFE C API that the
#    binding calls (and stands in for libtensorflow.so.2), and the C API headers;
#  - the addon is built from the sources in the npm package with npm's bundled node-gyp.
# _pywrap_tensorflow_internal.so has undefined CPython symbols (never called through the C API); the binding is
# linked against the machine's libpython3 so that they resolve when Node loads it.
#
# Usage: tools/native/setup-tfjs-node.sh [PROJECT_DIR]
#   PROJECT_DIR (default: repository root) gets node_modules/@tensorflow/tfjs-node (installed with
#   --ignore-scripts if absent: its install script would try the CDN). Needs python3 with pip, g++, make,
#   a shared libpython3 (libpython3.X.so), and network access to PyPI and npm. Cache: $SCAN_NATIVE_CACHE
#   (default ~/.cache/scan-repro/native).
# Then: SCAN_BACKEND=tensorflow npm run bench -- backend --backends tensorflow,wasm
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
project=$(cd "${1:-$root}" && pwd)
cache=${SCAN_NATIVE_CACHE:-$HOME/.cache/scan-repro/native}
python=${PYTHON:-python3}
tf_version=2.9.1
tfjs_node_version=4.22.0
mkdir -p "$cache"

pkg=$project/node_modules/@tensorflow/tfjs-node
if [ ! -f "$pkg/package.json" ]; then
  echo "installing @tensorflow/tfjs-node@$tfjs_node_version into $project (scripts skipped)"
  (cd "$project" && npm install --no-save --ignore-scripts "@tensorflow/tfjs-node@$tfjs_node_version")
fi
have=$(node -p "require('$pkg/package.json').version")
[ "$have" = "$tfjs_node_version" ] || { echo "expected @tensorflow/tfjs-node $tfjs_node_version in $pkg, found $have" >&2; exit 1; }

wheel=$(ls "$cache"/tensorflow_cpu-$tf_version-cp310-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ]; then
  "$python" -m pip download --no-deps --only-binary=:all: --python-version 3.10 \
    --platform manylinux2014_x86_64 "tensorflow-cpu==$tf_version" -d "$cache"
  wheel=$(ls "$cache"/tensorflow_cpu-$tf_version-cp310-*.whl | head -n 1)
fi

libpython=$("$python" -c 'import sysconfig, os; d = sysconfig.get_config_var("LIBDIR"); n = sysconfig.get_config_var("LDLIBRARY"); p = os.path.join(d, n); print(p if n.endswith(".so") or ".so." in n else "")')
[ -n "$libpython" ] && [ -f "$libpython" ] || libpython=$(ls /usr/lib/x86_64-linux-gnu/libpython3.*.so.1.0 /usr/lib64/libpython3.*.so.1.0 2>/dev/null | head -n 1 || true)
[ -n "$libpython" ] || { echo "no shared libpython3 found (needed to resolve _pywrap_tensorflow_internal.so's CPython symbols)" >&2; exit 1; }

echo "extracting libtensorflow $tf_version from $(basename "$wheel")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && "$python" -m zipfile -e "$wheel" . >/dev/null)
rm -rf "$pkg/deps" "$pkg/build" "$pkg/lib"
mkdir -p "$pkg/deps/lib" "$pkg/deps/include/tensorflow/core"
cp "$tmp/tensorflow/python/_pywrap_tensorflow_internal.so" "$tmp/tensorflow/libtensorflow_framework.so.2" "$pkg/deps/lib/"
ln -s _pywrap_tensorflow_internal.so "$pkg/deps/lib/libtensorflow.so"
ln -s libtensorflow_framework.so.2 "$pkg/deps/lib/libtensorflow_framework.so"
cp -r "$tmp/tensorflow/include/tensorflow/c" "$pkg/deps/include/tensorflow/"
cp -r "$tmp/tensorflow/include/tensorflow/core/platform" "$pkg/deps/include/tensorflow/core/"

echo "building the addon against $libpython"
# link the binding to libpython too (no-as-needed: the binding itself does not use it)
node -e "
const fs = require('fs'); const f = '$pkg/binding.gyp'; let s = fs.readFileSync(f, 'utf8');
if (!s.includes('libpython')) s = s.replace(\"'-ltensorflow_framework',\", \"'-ltensorflow_framework', '-Wl,--no-as-needed', '$libpython',\");
fs.writeFileSync(f, s);"
node_gyp=$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
nodedir=$(dirname "$(command -v node)")/..
napi=8  # highest N-API version tfjs-node 4.22.0 ships a binding path for (package.json binary.napi_versions)
(cd "$pkg" && node "$node_gyp" rebuild --nodedir="$nodedir" --module_name=tfjs_binding --module_path="lib/napi-v$napi" --napi_build_version=$napi)
mkdir -p "$pkg/lib/napi-v$napi"
cp "$pkg/build/Release/tfjs_binding.node" "$pkg/lib/napi-v$napi/"

echo "checking"
(cd "$project" && TF_CPP_MIN_LOG_LEVEL=2 node -e "
const tf = require('@tensorflow/tfjs-node');
const y = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[1, 2], [3, 4]])).arraySync();
if (JSON.stringify(y) !== '[[7,10],[15,22]]') throw new Error('tfjs-node computed ' + JSON.stringify(y));
console.log('tfjs-node', tf.version['tfjs-node'], 'backend', tf.getBackend(), 'works');")
