// Step-level training parity with the official PyTorch loops: from the same initial weights, on the same (already
// augmented) batches, 20 optimizer steps of ours give the per-step losses, final weights and BN buffers of
// tools/golden/train/make_training_goldens.py (PyTorch in float64, so the goldens are the exact result). The
// tolerance is 4x PyTorch's own float32 error over the same steps, at least 1e-4: 20 steps amplify rounding.
// Loops: SimCLR, self-labeling, SCAN (whole network, two heads) and MoCo (key encoder, queue, shuffle-BN over two
// groups with the golden's permutation of every step fed through the rng that mocoStep draws it from).
// Checked by breaking the code on purpose: weight decay skipped on BN parameters fails SimCLR (loss off by 2.7e-3),
// MoCo (weights off by 8e-4) and SCAN (weights off by 2.4e-4, Adam); MoCo without the shuffle fails (loss off by 0.33).
import { existsSync, readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@scan-repro/backend';
import type { NamedArray, Rng } from '@scan-repro/core';
import { createRng } from '@scan-repro/core';
import {
  createClusteringModel,
  createContrastiveModel,
  loadStateDict,
  stateDict,
  type ClusteringModel,
} from '@scan-repro/models';
import { createMocoState, mocoStep, simclrStep } from '@scan-repro/pretext';
import { scanStep } from '@scan-repro/scan';
import { selflabelStep } from '@scan-repro/selflabel';
import { cosineLr, createOptimizer, type Optimizer } from '@scan-repro/train';
import { beforeAll, describe, expect, it } from 'vitest';

type Encoded = { shape: number[]; data: string } | { shape: []; int: number };
interface StepGolden {
  config: Record<string, number & boolean & number[]>;
  init: Record<string, Encoded>;
  batches: { shape: number[]; data: string }[];
  losses: number[];
  final: Record<string, Encoded>;
  torch_f32_err: { loss: number; final: number };
  /** SCAN: per step, per head. */
  consistency?: number[][];
  entropy?: number[][];
  /** MoCo: the initial queue ([dim, length]) and the shuffle-BN permutation of every step. */
  queue0?: { shape: number[]; data: string };
  perms?: number[][];
}

function readGolden(name: string): StepGolden {
  return JSON.parse(readFileSync(new URL(`./goldens/${name}`, import.meta.url), 'utf8')) as StepGolden;
}

function floats(e: { data: string }): Float32Array {
  const bytes = Buffer.from(e.data, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function namedArrays(state: Record<string, Encoded>): Record<string, NamedArray> {
  return Object.fromEntries(
    Object.entries(state).map(([k, e]) => [
      k,
      'int' in e
        ? { dtype: 'I32' as const, shape: [], data: Int32Array.of(e.int) }
        : { dtype: 'F32' as const, shape: e.shape, data: floats(e) },
    ]),
  );
}

/** [view 1, view 2] of batch `i` (NHWC, [2, B, h, w, 3] in the file). */
function views(g: StepGolden, i: number): [Float32Array, Float32Array] {
  const all = floats(g.batches[i]);
  return [all.subarray(0, all.length / 2), all.subarray(all.length / 2)];
}

/** [view 1, view 2] of batch `i` as [B, h, w, 3] tensors (the caller disposes them). */
function viewTensors(g: StepGolden, i: number): tf.Tensor4D[] {
  const c = g.config;
  return views(g, i % g.batches.length).map((v) => tf.tensor4d(v, [c.batch, c.size, c.size, 3]));
}

function backbone(c: StepGolden['config']) {
  return { name: 'resnet18_cifar' as const, width: c.width, blocks: c.blocks };
}

/**
 * The golden's clustering model at its initial weights, Adam over it, `step` (which returns the loss) on each
 * step's two views, then the losses and final state against the golden.
 */
function clusteringParity(
  label: string,
  g: StepGolden,
  numHeads: number,
  step: (model: ClusteringModel, optimizer: Optimizer, views: tf.Tensor4D[], i: number) => number,
): void {
  const c = g.config;
  const model = createClusteringModel(backbone(c), { numClusters: c.num_clusters, numHeads }, 0);
  loadStateDict(model, namedArrays(g.init), { source: label });
  const optimizer = createOptimizer(
    { optimizer: 'adam', lr: c.lr, momentum: 0, nesterov: false, weight_decay: c.weight_decay },
    model.parameters(),
  );
  const losses: number[] = [];
  for (let i = 0; i < c.steps; i++) {
    const x = viewTensors(g, i);
    losses.push(step(model, optimizer, x, i));
    tf.dispose(x);
  }
  expectSameRun(label, g, losses, stateDict(model));
  model.dispose();
  optimizer.dispose();
}

/** The golden's contrastive model at its initial weights and an SGD optimizer (momentum, weight decay) over it. */
function contrastiveRun(name: string, g: StepGolden) {
  const c = g.config;
  const model = createContrastiveModel(backbone(c), { hidden: c.hidden, out: c.out }, 0);
  loadStateDict(model, namedArrays(g.init), { source: name });
  const optimizer = createOptimizer(
    { optimizer: 'sgd', lr: c.lr, momentum: c.momentum, nesterov: false, weight_decay: c.weight_decay },
    model.parameters(),
  );
  return { model, optimizer };
}

function tolerance(err: number): number {
  return Math.max(1e-4, 4 * err);
}

/** Per-step losses and the final state (parameters and BN buffers, named as in the golden) against the golden. */
function expectSameRun(name: string, g: StepGolden, losses: number[], ours: Record<string, NamedArray>): void {
  const lossErr = Math.max(...losses.map((l, i) => Math.abs(l - g.losses[i])));
  expect(losses.length).toBe(g.losses.length);
  expect(lossErr, `max loss difference over ${losses.length} steps`).toBeLessThanOrEqual(
    tolerance(g.torch_f32_err.loss),
  );
  const want = namedArrays(g.final);
  expect(Object.keys(ours).sort()).toEqual(Object.keys(want).sort());
  let worst = 0;
  for (const [k, w] of Object.entries(want)) {
    if (w.dtype === 'I32')
      expect(Number(ours[k].data[0]), k).toBe(w.data[0]); // state dicts hold it as int64
    else
      for (let i = 0; i < w.data.length; i++)
        worst = Math.max(worst, Math.abs(Number(ours[k].data[i]) - Number(w.data[i])));
  }
  console.log(
    `${name}: max |loss - golden| ${lossErr.toExponential(2)}, max |weight - golden| ${worst.toExponential(2)}`,
  );
  expect(worst, 'max abs difference of the final weights and BN buffers').toBeLessThanOrEqual(
    tolerance(g.torch_f32_err.final),
  );
}

// tensorflow (native, with its fused batch-norm and ReLU-mask kernels) where tools/native/build.sh has installed it
const NATIVE = existsSync(
  new URL('../node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node', import.meta.url),
);

describe.each([...(['cpu', 'wasm'] as const), ...(NATIVE ? (['tensorflow'] as const) : [])])(
  'training parity with PyTorch on %s',
  (backend) => {
    beforeAll(async () => {
      await initBackend({ name: backend, quiet: true });
    });

    it('SimCLR: SGD with momentum, weight decay and the per-epoch cosine schedule, train-mode BN', () => {
      const g = readGolden('simclr-steps.json');
      const c = g.config;
      const { model, optimizer } = contrastiveRun('simclr-steps.json', g);
      const losses: number[] = [];
      for (let step = 0; step < c.steps; step++) {
        const lr = cosineLr(Math.floor(step / c.steps_per_epoch), c.epochs, c.lr, c.lr_min);
        const [view1, view2] = views(g, step % g.batches.length);
        losses.push(
          simclrStep(
            model,
            optimizer,
            { view1, view2, shape: [c.batch, c.size, c.size, 3] },
            { temperature: c.temperature, microBatch: 0, lr },
          ),
        );
      }
      expectSameRun(`${backend} simclr`, g, losses, stateDict(model));
      model.dispose();
      optimizer.dispose();
    });

    it('self-labeling: Adam with weight decay, class-balanced confidence-masked CE, train-mode BN on both views', () => {
      const g = readGolden('selflabel-steps.json');
      const c = g.config;
      clusteringParity(`${backend} selflabel`, g, 1, (model, optimizer, [weak, strong], step) => {
        const r = selflabelStep(model, optimizer, weak, strong, {
          threshold: c.threshold,
          classBalance: c.class_balance,
          microBatch: 0,
        });
        expect(r.numConfident, `confident samples at step ${step}`).toBe((c.confident as unknown as number[])[step]);
        return r.loss;
      });
    });

    it('SCAN: anchors and neighbours through the whole network in train mode, two heads summed, Adam with weight decay', () => {
      const g = readGolden('scan-steps.json');
      const c = g.config;
      let termErr = 0;
      clusteringParity(`${backend} scan`, g, c.num_heads, (model, optimizer, [anchors, neighbors], step) => {
        const r = scanStep(model, optimizer, anchors, neighbors, {
          entropyWeight: c.entropy_weight,
          microBatch: 0,
          updateClusterHeadOnly: false,
        });
        r.consistency.forEach((v, h) => (termErr = Math.max(termErr, Math.abs(v - g.consistency![step][h]))));
        r.entropy.forEach((v, h) => (termErr = Math.max(termErr, Math.abs(v - g.entropy![step][h]))));
        return r.total;
      });
      expect(termErr, "max difference of a head's consistency or entropy term").toBeLessThanOrEqual(
        tolerance(g.torch_f32_err.loss),
      );
    });

    it('MoCo: momentum key encoder, queue and shuffle-BN (permutation from the golden), SGD with weight decay', () => {
      const g = readGolden('moco-steps.json');
      const c = g.config;
      const { model, optimizer } = contrastiveRun('moco-steps.json', g);
      const key = createContrastiveModel(backbone(c), { hidden: c.hidden, out: c.out }, 1); // createMocoState copies the query in
      const moco = createMocoState(model, key, c.queue, c.out, createRng(0));
      moco.queue.assign(tf.tensor2d(floats(g.queue0!), [c.out, c.queue]));
      const losses: number[] = [];
      for (let step = 0; step < c.steps; step++) {
        const perm = g.perms![step];
        // mocoStep shuffles the identity 0..B-1 with rng.shuffle: this one lays down the golden's permutation
        const rng = { shuffle: (a: Int32Array) => (a.set(perm), a) } as unknown as Rng;
        const [view1, view2] = views(g, step % g.batches.length);
        losses.push(
          mocoStep(
            model,
            moco,
            optimizer,
            { view1, view2, shape: [c.batch, c.size, c.size, 3] },
            { temperature: c.temperature, momentum: c.moco_momentum, shuffleBnGroups: 2, microBatch: 0, lr: c.lr, rng },
          ),
        );
      }
      const keyState = Object.fromEntries(Object.entries(stateDict(key)).map(([k, v]) => [`key.${k}`, v]));
      const queue: NamedArray = { dtype: 'F32', shape: [c.out, c.queue], data: moco.queue.dataSync() as Float32Array };
      expectSameRun(`${backend} moco`, g, losses, { ...stateDict(model), ...keyState, queue });
      [model, key, moco.queue, optimizer].forEach((d) => d.dispose());
    });
  },
);
