// Training-step throughput of the SCAN ResNet-18 (CIFAR variant) on each available TF.js backend, against the same
// network and step in PyTorch on the CPU, measured in the same run (interleaved) so that the ratio holds even
// when other work shares the machine.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type ConcreteBackendName } from '@scan-repro/backend';
import { createBackbone } from '@scan-repro/models';

export const describe =
  'ResNet-18 CIFAR training steps/s per TF.js backend vs PyTorch CPU (options: --widths 16,64 --batch 64 --warmup 2 --steps 3 --repeats 2 --threads 1,2 --backends wasm,tensorflow,cpu --python PATH)';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');

interface Options {
  widths: number[];
  batch: number;
  warmup: number;
  steps: number;
  repeats: number;
  threads: number[];
  backends?: ConcreteBackendName[];
  python: string | null;
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      widths: { type: 'string', default: '16,64' },
      batch: { type: 'string', default: '64' },
      warmup: { type: 'string', default: '2' },
      steps: { type: 'string', default: '3' },
      repeats: { type: 'string', default: '2' },
      threads: { type: 'string', default: '1,2' },
      backends: { type: 'string' },
      python: { type: 'string' },
      'no-pytorch': { type: 'boolean', default: false },
    },
  });
  const ints = (key: string, s: string) =>
    s.split(',').map((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1)
        throw new Error(`--${key}: expected positive integers separated by commas, got '${s}'`);
      return n;
    });
  const backends = values.backends?.split(',').map((b) => {
    if (!['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'].includes(b))
      throw new Error(`--backends: unknown backend '${b}', expected tensorflow-gpu, tensorflow, wasm or cpu`);
    return b as ConcreteBackendName;
  });
  const python = values['no-pytorch']
    ? null
    : (values.python ?? process.env.SCAN_BENCH_PYTHON ?? join(repoRoot, '.venv-tools/bin/python'));
  return {
    widths: ints('widths', values.widths!),
    batch: ints('batch', values.batch!)[0]!,
    warmup: ints('warmup', values.warmup!)[0]!,
    steps: ints('steps', values.steps!)[0]!,
    repeats: ints('repeats', values.repeats!)[0]!,
    threads: ints('threads', values.threads!),
    backends,
    python,
  };
}

/** Median seconds per training step (forward in training mode, loss = mean(features^2), backward, SGD). */
async function timeTfjs(
  backend: ConcreteBackendName,
  width: number,
  batch: number,
  warmup: number,
  steps: number,
  threads: number,
): Promise<number> {
  await initBackend({ name: backend, threads, quiet: true });
  const model = createBackbone({ name: 'resnet18_cifar', width }, 0);
  const params = [...model.parameters().values()];
  const x = tf.randomNormal([batch, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const optimizer = tf.train.sgd(0.01);
  const step = () => {
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(model.apply(x, true))) as tf.Scalar, params);
    optimizer.applyGradients(grads);
    value.dataSync(); // wait for the step (async backends)
    tf.dispose([value, ...Object.values(grads)]);
  };
  try {
    for (let i = 0; i < warmup; i++) step(); // warm-up: kernel setup, allocations, JIT tiers of the JS loops
    const times: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      step();
      times.push((performance.now() - t0) / 1000);
    }
    return median(times);
  } finally {
    optimizer.dispose();
    x.dispose();
    model.dispose();
  }
}

function timePytorch(
  python: string,
  width: number,
  batch: number,
  threads: number,
  warmup: number,
  steps: number,
): number {
  const script = join(here, '..', 'pytorch_resnet_bench.py');
  const r = spawnSync(
    python,
    [
      script,
      '--width',
      String(width),
      '--batch',
      String(batch),
      '--threads',
      String(threads),
      '--warmup',
      String(warmup),
      '--steps',
      String(steps),
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0)
    throw new Error(
      `${python} ${script} failed (exit ${r.status}): ${(r.stderr || String(r.error)).trim().split('\n').slice(-3).join(' | ')}`,
    );
  const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as { images_per_second: number };
  return batch / result.images_per_second;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Native TensorFlow builds side by side (tools/native/build.sh): label -> folder, e.g. 'tensorflow 2.18.1'. */
function tensorflowVariants(): Map<string, string> {
  const dir = join(repoRoot, 'node_modules/.scan-native');
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  for (const v of readdirSync(dir).sort()) {
    const m = /^tf-([\d.]+)-cpu$/.exec(v);
    if (m && existsSync(join(dir, v, 'lib/napi-v8/tfjs_binding.node'))) out.set(`tensorflow ${m[1]}`, join(dir, v));
  }
  return out;
}

/** Median seconds per step of one TensorFlow build, timed in a child process (two builds cannot share one). */
function timeTensorflowVariant(dir: string, width: number, batch: number, warmup: number, steps: number): number {
  const args = [
    join(here, 'main.ts'),
    'backend',
    '--backends',
    'tensorflow',
    '--widths',
    String(width),
    '--batch',
    String(batch),
    '--warmup',
    String(warmup),
    '--steps',
    String(steps),
    '--repeats',
    '1',
    '--threads',
    '1',
    '--no-pytorch',
  ];
  const r = spawnSync(join(repoRoot, 'node_modules/.bin/tsx'), args, {
    encoding: 'utf8',
    env: { ...process.env, SCAN_TFJS_NODE_DIR: dir, TF_CPP_MIN_LOG_LEVEL: '2' },
  });
  const m = / tensorflow ([\d.]+) img\/s/.exec(r.stdout ?? '');
  if (r.status !== 0 || !m)
    throw new Error(
      `timing ${dir} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' | ')}`,
    );
  return batch / Number(m[1]);
}

async function availableBackends(requested?: ConcreteBackendName[]): Promise<ConcreteBackendName[]> {
  const out: ConcreteBackendName[] = [];
  for (const name of requested ?? (['tensorflow-gpu', 'tensorflow', 'wasm'] as ConcreteBackendName[])) {
    try {
      await initBackend({ name, quiet: true });
      out.push(name);
    } catch (err) {
      console.log(`(${name} not available: ${(err as Error).message.split('\n')[0]})`);
    }
  }
  if (!requested) console.log('(cpu skipped: pure JS, about 0.3 img/s at width 16; add --backends cpu to include it)');
  return out;
}

export async function run(args: string[]): Promise<void> {
  const opts = parseOptions(args);
  if (opts.python && !existsSync(opts.python)) {
    throw new Error(
      `PyTorch reference: ${opts.python} not found; run tools/bench/setup-venv.sh, pass --python PATH, or --no-pytorch`,
    );
  }
  let backends: string[] = await availableBackends(opts.backends);
  // Each TensorFlow build is its own column (timed in a child process) when there are builds to compare.
  const variants = process.env.SCAN_TFJS_NODE_DIR ? new Map<string, string>() : tensorflowVariants();
  if (backends.includes('tensorflow') && variants.size)
    backends = backends.flatMap((b) => (b === 'tensorflow' ? [...variants.keys()] : [b]));
  const time = (b: string, width: number, t: number) =>
    variants.has(b)
      ? Promise.resolve(timeTensorflowVariant(variants.get(b)!, width, opts.batch, opts.warmup, opts.steps))
      : timeTfjs(b as ConcreteBackendName, width, opts.batch, opts.warmup, opts.steps, t);
  console.log(
    `ResNet-18 CIFAR training step, batch ${opts.batch}, ${opts.warmup} warm-up + ${opts.steps} timed steps x ${opts.repeats} interleaved repeats (medians); load average at start ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  // --threads sets PyTorch's threads and ours for wasm (this thread plus kernel workers, see wasm-threads.ts);
  // native TensorFlow sizes its own thread pool.
  for (const width of opts.widths) {
    // wasm runs with each thread count (this thread plus kernel workers); tensorflow sizes its own pool, once
    const key = (b: string, t: number) => `${b}/${b === 'wasm' || b === 'cpu' ? t : 0}`;
    const tfjs = new Map<string, number[]>();
    const torch = new Map<number, number[]>(opts.threads.map((t) => [t, []]));
    for (let r = 0; r < opts.repeats; r++) {
      for (const t of opts.threads) {
        if (opts.python) torch.get(t)!.push(timePytorch(opts.python, width, opts.batch, t, opts.warmup, opts.steps));
        for (const b of backends) {
          if (!tfjs.has(key(b, t))) tfjs.set(key(b, t), []);
          if (tfjs.get(key(b, t))!.length <= r) tfjs.get(key(b, t))!.push(await time(b, width, t));
        }
      }
    }
    const ips = (secs: number[]) => opts.batch / median(secs);
    for (const t of opts.threads) {
      const parts = backends.map((b) => `${b} ${ips(tfjs.get(key(b, t))!).toFixed(1)} img/s`);
      if (opts.python) {
        const ref = ips(torch.get(t)!);
        parts.push(`PyTorch ${ref.toFixed(1)} img/s`);
        for (const b of backends) parts.push(`${b} ratio ${(ips(tfjs.get(key(b, t))!) / ref).toFixed(2)}`);
      }
      const notes = [];
      if (backends.includes('cpu') && t > 1) notes.push('cpu uses 1 thread');
      if (backends.some((b) => b.startsWith('tensorflow'))) notes.push('tensorflow uses its own thread pool');
      const note = notes.length ? ` (${notes.join('; ')})` : '';
      console.log(`width ${width} batch ${opts.batch} threads ${t}: ${parts.join(', ')}${note}`);
    }
  }
  console.log(
    `load average at end ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
}
