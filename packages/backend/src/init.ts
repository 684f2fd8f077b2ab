// Run-time choice of the TensorFlow.js backend: native TensorFlow (GPU, then CPU) when its optional package
// loads, else wasm with our gradient kernels, else the pure-JS cpu backend.
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import * as esbuild from 'esbuild';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendConfig } from '@scan-repro/core';
import { registerTensorflowKernels } from './tensorflow-kernels';
import { registerWasmKernels } from './wasm-kernels';
import { setWasmThreads, wasmThreads } from './wasm-threads';

export const BACKEND_NAMES = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type ConcreteBackendName = Exclude<BackendName, 'auto'>;

export interface InitBackendOptions {
  /** 'auto' (default) tries tensorflow-gpu, tensorflow, wasm, cpu in that order; env SCAN_BACKEND applies when this is unset or 'auto' */
  name?: BackendName;
  /**
   * threads for the wasm backend's heavy kernels (this thread plus kernel workers, see wasm-threads.ts); default:
   * env SCAN_WASM_THREADS, else all cores. tensorflow sizes its own thread pool and ignores this.
   */
  threads?: number;
  /** do not print the choice */
  quiet?: boolean;
}

export interface BackendChoice {
  /** our name of the backend in use: 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu' */
  name: ConcreteBackendName;
  /** why it was chosen, including why the ones before it were skipped */
  reason: string;
}

/** tfjs backend that each of our names registers. */
const TFJS_BACKEND: Record<ConcreteBackendName, string> = {
  'tensorflow-gpu': 'tensorflow',
  tensorflow: 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};
const PACKAGE: Record<ConcreteBackendName, string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};
const AUTO_ORDER: ConcreteBackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

let current: BackendChoice | undefined;
let tfjsExtrasLoaded = false;

/**
 * tfjs-core's Node entry (dist/tf-core.node.js) contains neither the gradient functions nor the chained tensor
 * methods (x.add(...)); the @tensorflow/tfjs umbrella package normally registers them from tfjs-core's ES-module
 * files, which Node cannot load directly (extensionless imports). esbuild bundles those files once into one
 * CommonJS file (node_modules/.cache/scan-repro/), which loads in a fraction of a second where compiling the
 * hundreds of modules in every process took seconds. The registries and the engine they use are process-global,
 * so they serve the tfjs-core instance everyone imports.
 */
function loadTfjsExtras(): void {
  if (tfjsExtrasLoaded) return;
  const require = createRequire(import.meta.url);
  const core = dirname(require.resolve('@tensorflow/tfjs-core/package.json'));
  const version = (require('@tensorflow/tfjs-core/package.json') as { version: string }).version;
  const bundle = join(core, '../../.cache/scan-repro', `tfjs-core-${version}-extras-esbuild-${esbuild.version}.cjs`);
  if (!existsSync(bundle)) {
    mkdirSync(dirname(bundle), { recursive: true });
    const tmp = `${bundle}.tmp-${process.pid}`;
    esbuild.buildSync({
      stdin: {
        contents: EXTRAS.map((m) => `require(${JSON.stringify(m)});`).join('\n'),
        resolveDir: core,
        loader: 'js',
      },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile: tmp,
      logLevel: 'error',
    });
    renameSync(tmp, bundle); // atomic: a concurrent process sees the whole bundle or none
  }
  require(bundle);
  tfjsExtrasLoaded = true;
}

const EXTRAS = ['./dist/register_all_gradients.js', './dist/public/chained_ops/register_all_chained_ops.js'];

/** SCAN_WASM_THREADS if set (a positive integer), else all cores. */
function wasmThreadsFromEnv(): number {
  const env = process.env.SCAN_WASM_THREADS;
  if (env == null || env === '') return availableParallelism();
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`environment variable SCAN_WASM_THREADS: '${env}' is not a positive integer`);
  return n;
}

function describeLoadError(pkg: string, err: unknown): string {
  const e = err as { code?: string; message?: string };
  const first = String(e?.message ?? err).split('\n')[0];
  const missing = (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && first.includes(pkg);
  return `${pkg} ${missing ? 'not installed' : 'failed to load'}: ${first}`;
}

/**
 * What to import for a backend. SCAN_TFJS_NODE_DIR points 'tensorflow' at another build of tfjs-node (a folder under
 * node_modules/.scan-native/, see tools/native/build.sh), so the benchmark can time each TensorFlow version.
 */
function moduleFor(name: ConcreteBackendName): string {
  const dir = process.env.SCAN_TFJS_NODE_DIR;
  return name === 'tensorflow' && dir ? pathToFileURL(join(dir, 'dist/index.js')).href : PACKAGE[name];
}

async function tryBackend(name: ConcreteBackendName, threads: number | undefined): Promise<string | null> {
  const pkg = PACKAGE[name];
  // Without a GPU there is nothing to gain from loading the GPU build (and its import alone takes seconds).
  if (name === 'tensorflow-gpu' && !(await hasGpu())) return `${pkg} skipped: no NVIDIA GPU (nvidia-smi -L lists none)`;
  try {
    await import(moduleFor(name));
    if (name === 'wasm') {
      // after the import: importing the wasm package registers its own (naive / missing) kernels
      registerWasmKernels();
      await setWasmThreads(threads ?? wasmThreadsFromEnv());
    }
    if (name === 'tensorflow' || name === 'tensorflow-gpu') registerTensorflowKernels();
  } catch (err) {
    return describeLoadError(pkg, err);
  }
  try {
    if (!(await tf.setBackend(TFJS_BACKEND[name]))) return `${pkg} loaded but its backend failed to initialise`;
    await tf.ready();
  } catch (err) {
    return `${pkg} backend failed to initialise: ${String((err as Error)?.message ?? err).split('\n')[0]}`;
  }
  return null;
}

/** tfjs-node-gpu also runs (on the CPU) without a usable GPU; only pick it when TensorFlow sees one. */
async function hasGpu(): Promise<boolean> {
  try {
    const { execFileSync } = await import('node:child_process');
    execFileSync('nvidia-smi', ['-L'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

function resolveRequestedName(opts: InitBackendOptions): { name: BackendName; source: string } {
  const check = (value: string, source: string): BackendName => {
    if (!(BACKEND_NAMES as readonly string[]).includes(value)) {
      throw new Error(`${source}: unknown backend '${value}', expected one of ${BACKEND_NAMES.join(', ')}`);
    }
    return value as BackendName;
  };
  if (opts.name != null && opts.name !== 'auto')
    return { name: check(opts.name, 'initBackend option name'), source: 'requested' };
  const env = process.env.SCAN_BACKEND;
  if (env) return { name: check(env, 'environment variable SCAN_BACKEND'), source: 'SCAN_BACKEND' };
  return { name: 'auto', source: 'auto' };
}

/**
 * Selects and initialises the TensorFlow.js backend (see InitBackendOptions), registers the tfjs gradients and
 * our fast wasm conv2d gradient kernels, and prints the choice and why. Safe to call repeatedly; an explicit
 * name that fails to load is an error, 'auto' falls through to the next candidate.
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendChoice> {
  const { name: requested, source } = resolveRequestedName(opts);
  if (opts.threads != null && (!Number.isInteger(opts.threads) || opts.threads < 1)) {
    throw new Error(`initBackend: threads ${opts.threads} must be a positive integer`);
  }
  // Keep the backend in use unless another one is asked for by name (a test that picked 'cpu' stays on cpu
  // when the code under test calls initBackend() again).
  if (
    current &&
    (requested === 'auto' || requested === current.name) &&
    tf.getBackend() === TFJS_BACKEND[current.name]
  ) {
    if (current.name === 'wasm' && opts.threads != null && opts.threads !== wasmThreads())
      await setWasmThreads(opts.threads);
    return current;
  }
  loadTfjsExtras();

  const candidates = requested === 'auto' ? AUTO_ORDER : [requested];
  const skipped: string[] = [];
  for (const name of candidates) {
    const failure = await tryBackend(name, opts.threads);
    if (failure == null) {
      const why =
        requested === 'auto'
          ? 'first available in auto order'
          : source === 'SCAN_BACKEND'
            ? 'set by SCAN_BACKEND'
            : 'requested';
      const notes = [why, ...skipped];
      if (name === 'wasm') notes.push(`${wasmThreads()} thread${wasmThreads() > 1 ? 's' : ''}`);
      const reason = notes.join('; ');
      current = { name, reason };
      if (!opts.quiet) console.log(`backend: ${name} (${reason})`);
      return current;
    }
    skipped.push(failure);
  }
  throw new Error(`initBackend: no usable backend for '${requested}' (${source}): ${skipped.join('; ')}`);
}

/**
 * The backend a run's config asks for: backend.name, and backend.threads when it is > 0 (0 leaves the count to
 * SCAN_WASM_THREADS, else all cores). What the shells (CLI, tests that drive stages) call once before a stage.
 */
export function initBackendFromConfig(backend: BackendConfig, opts: { quiet?: boolean } = {}): Promise<BackendChoice> {
  return initBackend({
    name: backend.name,
    threads: backend.threads > 0 ? backend.threads : undefined,
    quiet: opts.quiet,
  });
}
