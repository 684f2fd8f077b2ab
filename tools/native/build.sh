#!/usr/bin/env bash
# Builds the native TensorFlow backend (@tensorflow/tfjs-node 4.22.0) from registry packages only: npm's
# tfjs-node install script downloads libtensorflow from a CDN that answers 403 (tensorflow/tfjs#8742), so this is
# the only way to get it.
#  - libtensorflow comes from a PyPI TensorFlow wheel: TF 2.18.1 (default) ships libtensorflow_cc.so.2 and
#    libtensorflow_framework.so.2, which export every TF_/TFE_ function the binding calls, plus the C headers,
#    and need no libpython. TF 2.9.1 (--tf 2.9.1, for the benchmark) ships the C API inside
#    _pywrap_tensorflow_internal.so, whose CPython symbols are resolved by linking the machine's libpython3.
#  - the addon is compiled from the npm package's sources with npm's bundled node-gyp (N-API 8: any Node >= 12).
#  - --gpu uses the CUDA build of the wheel (tensorflow==VERSION, not tensorflow-cpu) and the CUDA 12 runtime wheels
#    that `tensorflow[and-cuda]` pins, installed into .venv-native-gpu; the addon's rpath points at them. It is
#    installed as @tensorflow/tfjs-node-gpu, which backend.name=tensorflow-gpu (and auto, when nvidia-smi sees a GPU)
#    loads.
#
# Layout: every variant is a complete copy of the tfjs-node package under node_modules/.scan-native/<variant>/
# (deps/ holds symlinks into the download cache); node_modules/@tensorflow/tfjs-node (-gpu) is a symlink to the
# selected variant. The addon is compiled in a temporary folder and moved into place only after a child process
# has loaded it and checked a result, so a half-built or broken addon is never what the backend loads.
#
# Usage: tools/native/build.sh [--tf VERSION] [--gpu] [--no-select] [--required]
#   SCAN_NATIVE=0 skips the build (the stages then use wasm, or a native install made earlier).
#   Without --required a missing prerequisite or a failed build prints one line saying why and exits 0 (the
#   main job then goes on with wasm); the outcome is written to .cache/native/status.json either way.
# Cache: $SCAN_NATIVE_CACHE (default ~/.cache/scan-repro/native): wheels, extracted libraries, compiled addons.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${SCAN_NATIVE_CACHE:-$HOME/.cache/scan-repro/native}
python=${PYTHON:-python3}
tf_version=2.18.1
tfjs_node_version=4.22.0
napi=8 # highest N-API version tfjs-node 4.22.0 ships a binding path for (package.json binary.napi_versions)
gpu=0
select=1
required=0
while [ $# -gt 0 ]; do
  case "$1" in
    --tf) tf_version=$2; shift 2 ;;
    --gpu) gpu=1; shift ;;
    --no-select) select=0; shift ;;
    --required) required=1; shift ;;
    *) echo "tools/native/build.sh: unknown option '$1' (expected --tf VERSION, --gpu, --no-select, --required)" >&2; exit 2 ;;
  esac
done
case "$tf_version" in 2.9.1 | 2.18.1) ;; *) echo "tools/native/build.sh: --tf $tf_version is not supported (expected 2.18.1 or 2.9.1)" >&2; exit 2 ;; esac
variant="tf-$tf_version-$([ $gpu = 1 ] && echo gpu || echo cpu)"
package_name=$([ $gpu = 1 ] && echo tfjs-node-gpu || echo tfjs-node)
modules=$root/node_modules
status_file=$root/.cache/native/status.json
mkdir -p "$cache" "$(dirname "$status_file")"
log=$root/.cache/native/build-$variant.log
: >"$log"

write_status() { # ok reason; the status describes the selected install, which a --no-select build leaves alone
  [ $select = 1 ] || return 0
  node -e "
const fs = require('fs');
const s = { ok: $1, variant: '$variant', package: '@tensorflow/$package_name', tensorflow: '$tf_version', reason: process.argv[1], log: '$log', at: new Date().toISOString() };
fs.writeFileSync('$status_file.tmp', JSON.stringify(s, null, 2) + '\n'); fs.renameSync('$status_file.tmp', '$status_file');" "$2"
}
give_up() { # one line: why, and what to do
  echo "native backend: not built ($1); the stages use wasm" >&2
  write_status false "$1"
  [ $required = 1 ] && exit 1
  exit 0
}
run() { "$@" >>"$log" 2>&1; }

case "${SCAN_NATIVE:-1}" in
  0 | false | no) give_up "SCAN_NATIVE=${SCAN_NATIVE} turns it off" ;;
esac
# Prerequisites: say exactly what is missing.
command -v "$python" >/dev/null 2>&1 || give_up "no $python: install Python 3 with pip (apt-get install python3 python3-pip)"
"$python" -m pip --version >/dev/null 2>&1 || give_up "no pip for $python: apt-get install python3-pip"
command -v c++ >/dev/null 2>&1 || give_up "no C++ compiler: apt-get install g++"
command -v make >/dev/null 2>&1 || give_up "no make: apt-get install make"
node_gyp=$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
[ -f "$node_gyp" ] || give_up "npm's bundled node-gyp not found at $node_gyp"
[ -f "$modules/@tensorflow/tfjs-core/package.json" ] || give_up "node_modules is not installed: run npm ci first"

# 1. tfjs-node's JavaScript and its dependencies (install script skipped: it is the CDN download).
npm_pkg=$cache/npm/tfjs-node-$tfjs_node_version
if [ ! -f "$modules/@tensorflow/tfjs/package.json" ] || [ ! -f "$npm_pkg/package.json" ]; then
  echo "native backend: fetching @tensorflow/tfjs-node@$tfjs_node_version from npm (scripts skipped)" >&2
  if [ ! -f "$modules/@tensorflow/tfjs/package.json" ]; then
    # removes a previous selection symlink first: npm would otherwise write through it
    rm -f "$modules/@tensorflow/tfjs-node"
    (cd "$root" && run npm install --no-save --ignore-scripts --no-audit --no-fund "@tensorflow/tfjs-node@$tfjs_node_version") ||
      give_up "npm install @tensorflow/tfjs-node@$tfjs_node_version failed (see $log)"
  fi
  if [ ! -f "$npm_pkg/package.json" ]; then
    tmp_pkg=$(mktemp -d "$cache/npm/.tmp-XXXXXX" 2>/dev/null || { mkdir -p "$cache/npm" && mktemp -d "$cache/npm/.tmp-XXXXXX"; })
    (cd "$tmp_pkg" && run npm pack "@tensorflow/tfjs-node@$tfjs_node_version" && run tar xzf ./*.tgz) ||
      give_up "npm pack @tensorflow/tfjs-node@$tfjs_node_version failed (see $log)"
    rm -rf "$npm_pkg" && mv "$tmp_pkg/package" "$npm_pkg" && rm -rf "$tmp_pkg"
  fi
fi

# 2. libtensorflow from the wheel, extracted once into the cache.
libdir=$cache/$variant
if [ ! -f "$libdir/.complete" ]; then
  if [ $gpu = 1 ]; then
    venv=$root/.venv-native-gpu
    [ -x "$venv/bin/python" ] || run "$python" -m venv "$venv" || give_up "cannot create $venv"
    echo "native backend: installing tensorflow[and-cuda]==$tf_version into $venv (several GB)" >&2
    run "$venv/bin/python" -m pip install --disable-pip-version-check "tensorflow[and-cuda]==$tf_version" ||
      give_up "pip install tensorflow[and-cuda]==$tf_version failed (see $log)"
    site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    wheel_root=$site
  else
    wheel_name=tensorflow_cpu-$tf_version
    wheel=$(ls "$cache"/$wheel_name-*.whl 2>/dev/null | head -n 1)
    if [ -z "$wheel" ]; then
      echo "native backend: downloading the tensorflow-cpu==$tf_version wheel from PyPI (about 230 MB)" >&2
      pyver=$([ "$tf_version" = 2.9.1 ] && echo 3.10 || echo 3.11)
      run "$python" -m pip download --disable-pip-version-check --no-deps --only-binary=:all: --python-version "$pyver" \
        --platform manylinux2014_x86_64 "tensorflow-cpu==$tf_version" -d "$cache" ||
        give_up "pip download tensorflow-cpu==$tf_version failed (see $log)"
      wheel=$(ls "$cache"/$wheel_name-*.whl | head -n 1)
    fi
    wheel_root=$(mktemp -d "$cache/.wheel-XXXXXX")
    trap 'rm -rf "$wheel_root"' EXIT
    echo "native backend: extracting libtensorflow $tf_version from $(basename "$wheel")" >&2
    run "$python" - "$wheel" "$wheel_root" <<'EOF' || give_up "cannot extract $wheel (see $log)"
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
keep = ('tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2', 'tensorflow/python/_pywrap_tensorflow_internal.so')
for n in z.namelist():
    if n in keep or n.startswith('tensorflow/include/'):
        z.extract(n, sys.argv[2])
EOF
  fi
  tmp_lib=$(mktemp -d "$cache/.lib-XXXXXX")
  mkdir -p "$tmp_lib/lib" "$tmp_lib/include"
  tf=$wheel_root/tensorflow
  if [ "$tf_version" = 2.9.1 ]; then
    cp "$tf/python/_pywrap_tensorflow_internal.so" "$tf/libtensorflow_framework.so.2" "$tmp_lib/lib/" &&
      ln -s _pywrap_tensorflow_internal.so "$tmp_lib/lib/libtensorflow.so"
  else
    cp "$tf/libtensorflow_cc.so.2" "$tf/libtensorflow_framework.so.2" "$tmp_lib/lib/" &&
      ln -s libtensorflow_cc.so.2 "$tmp_lib/lib/libtensorflow.so"
  fi || give_up "the wheel lacks the TensorFlow C libraries (see $log)"
  ln -s libtensorflow_framework.so.2 "$tmp_lib/lib/libtensorflow_framework.so"
  # The C API headers and what they include (xla/tsl since 2.16).
  for d in tensorflow/c tensorflow/core/platform tsl xla; do
    [ -d "$tf/include/$d" ] && mkdir -p "$tmp_lib/include/$(dirname "$d")" && cp -r "$tf/include/$d" "$tmp_lib/include/$d"
  done
  touch "$tmp_lib/.complete"
  rm -rf "$libdir" && mv "$tmp_lib" "$libdir"
  [ $gpu = 1 ] || rm -rf "$wheel_root"
fi

# 3. The addon, compiled once per variant in a temporary copy of the package.
addon=$libdir/tfjs_binding-napi$napi.node
if [ ! -f "$addon" ]; then
  echo "native backend: compiling the tfjs-node addon against libtensorflow $tf_version (about a minute)" >&2
  build=$(mktemp -d "$cache/.build-XXXXXX")
  cp -r "$npm_pkg/." "$build/"
  mkdir -p "$build/deps" && ln -s "$libdir/lib" "$build/deps/lib" && ln -s "$libdir/include" "$build/deps/include"
  extra=""
  if [ "$tf_version" = 2.9.1 ]; then
    libpython=$("$python" -c 'import sysconfig, os; d = sysconfig.get_config_var("LIBDIR"); n = sysconfig.get_config_var("LDLIBRARY"); p = os.path.join(d, n); print(p if n.endswith(".so") or ".so." in n else "")')
    [ -n "$libpython" ] && [ -f "$libpython" ] || libpython=$(ls /usr/lib/x86_64-linux-gnu/libpython3.*.so.1.0 2>/dev/null | head -n 1)
    [ -n "$libpython" ] || give_up "TF 2.9.1 needs a shared libpython3 (apt-get install libpython3-dev)"
    extra="'-Wl,--no-as-needed', '$libpython',"
  fi
  if [ $gpu = 1 ]; then
    # the CUDA runtime wheels' lib folders, for TensorFlow's dlopen of libcudart, libcudnn, ...
    for d in "$wheel_root"/nvidia/*/lib; do extra="$extra '-Wl,-rpath,$d',"; done
  fi
  if [ -n "$extra" ]; then
    node -e "const fs = require('fs'); const f = '$build/binding.gyp'; fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace(\"'-ltensorflow_framework',\", \"'-ltensorflow_framework', $extra\"));"
  fi
  nodedir=$(dirname "$(command -v node)")/..
  (cd "$build" && run node "$node_gyp" rebuild --nodedir="$nodedir" --module_name=tfjs_binding \
    --module_path="lib/napi-v$napi" --napi_build_version=$napi) || { rm -rf "$build"; give_up "the addon failed to compile (see $log)"; }
  cp "$build/build/Release/tfjs_binding.node" "$addon.tmp" && mv "$addon.tmp" "$addon"
  rm -rf "$build"
fi

# 4. The variant's package folder, assembled beside its final place and renamed into it.
target=$modules/.scan-native/$variant
stage=$modules/.scan-native/.tmp-$variant-$$
rm -rf "$stage" && mkdir -p "$stage"
cp -r "$npm_pkg/." "$stage/" && mkdir -p "$stage/deps" "$stage/lib/napi-v$napi" &&
  ln -s "$libdir/lib" "$stage/deps/lib" && cp "$addon" "$stage/lib/napi-v$napi/tfjs_binding.node" ||
  { rm -rf "$stage"; give_up "cannot assemble $target"; }
check=$(cd "$root" && TF_CPP_MIN_LOG_LEVEL=2 node -e "
const tf = require('$stage');
const y = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[1, 2], [3, 4]])).arraySync();
if (JSON.stringify(y) !== '[[7,10],[15,22]]') throw new Error('matMul gave ' + JSON.stringify(y));
console.log(tf.version['tfjs-node'] + ' on TensorFlow ' + tf.backend().binding.TF_Version);" 2>>"$log") ||
  { rm -rf "$stage"; give_up "the built addon does not load or computes wrong results (see $log)"; }
rm -rf "$target" && mv "$stage" "$target"

if [ $select = 1 ]; then
  link=$modules/@tensorflow/$package_name
  [ -L "$link" ] || [ ! -e "$link" ] || rm -rf "$link" # npm's own copy (without an addon)
  ln -sfn "../.scan-native/$variant" "$link.tmp-$$" && mv -T "$link.tmp-$$" "$link"
fi
echo "native backend: @tensorflow/$package_name $check ($variant$([ $select = 1 ] && echo ', selected'))" >&2
write_status true "built $variant: tfjs-node $check"
