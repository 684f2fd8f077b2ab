// Step-level training parity with the official PyTorch loops: from the same initial weights, on the same (already
// augmented) batches, 20 optimizer steps of ours give the per-step losses, final weights and BN buffers of
// tools/golden/train/make_training_goldens.py (PyTorch in float64, so the goldens are the exact result). The
// tolerance is 4x PyTorch's own float32 error over the same steps, at least 1e-4: 20 steps amplify rounding.
import { existsSync, readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@scan-repro/backend';
import type { NamedArray } from '@scan-repro/core';
import { createClusteringModel, createContrastiveModel, loadStateDict, stateDict, type NamedModule } from '@scan-repro/models';
import { simclrStep } from '@scan-repro/pretext';
import { selflabelStep } from '@scan-repro/selflabel';
import { cosineLr, createOptimizer } from '@scan-repro/train';
import { beforeAll, describe, expect, it } from 'vitest';

type Encoded = { shape: number[]; data: string } | { shape: []; int: number };
interface StepGolden {
  config: Record<string, number & boolean & number[]>;
  init: Record<string, Encoded>;
  batches: { shape: number[]; data: string }[];
  losses: number[];
  final: Record<string, Encoded>;
  torch_f32_err: { loss: number; final: number };
}

function readGolden(name: string): StepGolden {
  return JSON.parse(readFileSync(new URL(`./goldens/${name}`, import.meta.url), 'utf8')) as StepGolden;
}

function floats(e: { data: string }): Float32Array {
  const bytes = Buffer.from(e.data, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function namedArrays(state: Record<string, Encoded>): Record<string, NamedArray> {
  return Object.fromEntries(Object.entries(state).map(([k, e]) => [k, 'int' in e
    ? { dtype: 'I32' as const, shape: [], data: Int32Array.of(e.int) }
    : { dtype: 'F32' as const, shape: e.shape, data: floats(e) }]));
}

/** [view 1, view 2] of batch `i` (NHWC, [2, B, h, w, 3] in the file). */
function views(g: StepGolden, i: number): [Float32Array, Float32Array] {
  const all = floats(g.batches[i]);
  return [all.subarray(0, all.length / 2), all.subarray(all.length / 2)];
}

function tolerance(err: number): number {
  return Math.max(1e-4, 4 * err);
}

/** Per-step losses and the final state dict (parameters and BN buffers) against the golden. */
function expectSameRun(name: string, g: StepGolden, losses: number[], model: NamedModule): void {
  const lossErr = Math.max(...losses.map((l, i) => Math.abs(l - g.losses[i])));
  expect(losses.length).toBe(g.losses.length);
  expect(lossErr, `max loss difference over ${losses.length} steps`).toBeLessThanOrEqual(tolerance(g.torch_f32_err.loss));
  const ours = stateDict(model);
  const want = namedArrays(g.final);
  expect(Object.keys(ours).sort()).toEqual(Object.keys(want).sort());
  let worst = 0;
  for (const [k, w] of Object.entries(want)) {
    if (w.dtype === 'I32') expect(Number(ours[k].data[0]), k).toBe(w.data[0]); // state dicts hold it as int64
    else for (let i = 0; i < w.data.length; i++) worst = Math.max(worst, Math.abs(Number(ours[k].data[i]) - Number(w.data[i])));
  }
  console.log(`${name}: max |loss - golden| ${lossErr.toExponential(2)}, max |weight - golden| ${worst.toExponential(2)}`);
  expect(worst, 'max abs difference of the final weights and BN buffers').toBeLessThanOrEqual(tolerance(g.torch_f32_err.final));
}

// tensorflow (native, with its fused batch-norm and ReLU-mask kernels) where tools/native/build.sh has installed it
const NATIVE = existsSync(new URL('../node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node', import.meta.url));

describe.each([...(['cpu', 'wasm'] as const), ...(NATIVE ? (['tensorflow'] as const) : [])])('training parity with PyTorch on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ name: backend, quiet: true });
  });

  it('SimCLR: SGD with momentum, weight decay and the per-epoch cosine schedule, train-mode BN', () => {
    const g = readGolden('simclr-steps.json');
    const c = g.config;
    const model = createContrastiveModel({ name: 'resnet18_cifar', width: c.width, blocks: c.blocks }, { hidden: c.hidden, out: c.out }, 0);
    loadStateDict(model, namedArrays(g.init), { source: 'simclr-steps.json' });
    const optimizer = createOptimizer({ optimizer: 'sgd', lr: c.lr, momentum: c.momentum, nesterov: false, weight_decay: c.weight_decay }, model.parameters());
    const losses: number[] = [];
    for (let step = 0; step < c.steps; step++) {
      const lr = cosineLr(Math.floor(step / c.steps_per_epoch), c.epochs, c.lr, c.lr_min);
      const [view1, view2] = views(g, step % g.batches.length);
      losses.push(simclrStep(model, optimizer, { view1, view2, shape: [c.batch, c.size, c.size, 3] }, { temperature: c.temperature, microBatch: 0, lr }));
    }
    expectSameRun(`${backend} simclr`, g, losses, model);
    model.dispose();
    optimizer.dispose();
  });

  it('self-labeling: Adam with weight decay, class-balanced confidence-masked CE, train-mode BN on both views', () => {
    const g = readGolden('selflabel-steps.json');
    const c = g.config;
    const model = createClusteringModel({ name: 'resnet18_cifar', width: c.width, blocks: c.blocks }, { numClusters: c.num_clusters, numHeads: 1 }, 0);
    loadStateDict(model, namedArrays(g.init), { source: 'selflabel-steps.json' });
    const optimizer = createOptimizer({ optimizer: 'adam', lr: c.lr, momentum: 0, nesterov: false, weight_decay: c.weight_decay }, model.parameters());
    const losses: number[] = [];
    const shape: [number, number, number, number] = [c.batch, c.size, c.size, 3];
    for (let step = 0; step < c.steps; step++) {
      const [weak, strong] = views(g, step % g.batches.length).map((v) => tf.tensor4d(v, shape));
      const r = selflabelStep(model, optimizer, weak, strong, { threshold: c.threshold, classBalance: c.class_balance, microBatch: 0 });
      expect(r.numConfident, `confident samples at step ${step}`).toBe((c.confident as unknown as number[])[step]);
      losses.push(r.loss);
      tf.dispose([weak, strong]);
    }
    expectSameRun(`${backend} selflabel`, g, losses, model);
    model.dispose();
    optimizer.dispose();
  });
});
