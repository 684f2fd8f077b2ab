import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { composeConfig, createRng, readSafetensors, RunFolder, type ScanConfig } from '@scan-repro/core';
import { initBackend } from '@scan-repro/backend';
import { registerDataset, type ImageSplit } from '@scan-repro/data';
import { createClusteringModel, saveModel } from '@scan-repro/models';
import { createOptimizer } from '@scan-repro/train';
import { confidenceBasedCE } from '../src/selflabel-loss';
import { runSelflabel, selflabelStep } from '../src';
import { testTempDir } from '@scan-repro/test-utils';

const SIDE = 8,
  CLASSES = 4;
const COLOURS = [
  [220, 30, 30],
  [30, 220, 30],
  [30, 30, 220],
  [220, 220, 30],
];

/** Class-coloured noisy images (noise 60: classes overlap a little, so a model is "mostly" right). */
function split(name: string, size: number): ImageSplit {
  const rng = createRng(name === 'train' ? 21 : 22);
  const labels = Int32Array.from({ length: size }, (_, i) => i % CLASSES);
  const data = Array.from(labels, (c) =>
    Uint8Array.from({ length: SIDE * SIDE * 3 }, (_, p) =>
      Math.max(0, Math.min(255, Math.round(COLOURS[c][p % 3] + rng.normal() * 60))),
    ),
  );
  return {
    dataset: 'synthself',
    split: name,
    size,
    source: 'synthetic',
    labels,
    imageShape: { height: SIDE, width: SIDE },
    image: (i) => ({ data: data[i], height: SIDE, width: SIDE }),
  };
}
const TRAIN = split('train', 96);
const VAL = split('test', 48);
registerDataset('synthself', () => ({
  name: 'synthself',
  numClasses: CLASSES,
  classNames: ['r', 'g', 'b', 'y'],
  splits: ['train', 'test'],
  imageSize: SIDE,
  mean: [0.5, 0.5, 0.5],
  std: [0.25, 0.25, 0.25],
  load: async (s) => (s === 'train' ? TRAIN : VAL),
}));

function config(extra: string[]): ScanConfig {
  return composeConfig(
    [
      'profile=ci',
      'dataset.name=synthself',
      `dataset.num_classes=${CLASSES}`,
      `dataset.image_size=${SIDE}`,
      `dataset.crop_size=${SIDE}`,
      'dataset.max_train=0',
      'dataset.max_val=0',
      'dataset.mean=[0.5,0.5,0.5]',
      'dataset.std=[0.25,0.25,0.25]',
      'augment.cutout=2',
      'backbone.width=4',
      'selflabel.batch_size=32',
      'selflabel.micro_batch=0',
      'backend.name=wasm',
      ...extra,
    ],
    { env: {} },
  );
}

function images(s: ImageSplit): tf.Tensor4D {
  const x = new Float32Array(s.size * SIDE * SIDE * 3);
  for (let i = 0; i < s.size; i++)
    s.image(i).data.forEach((v, p) => (x[i * SIDE * SIDE * 3 + p] = (v / 255 - 0.5) / 0.25));
  return tf.tensor4d(x, [s.size, SIDE, SIDE, 3]);
}

/**
 * A completed fake "scan" run (in the running test's temp folder): `supervisedSteps` steps on every image make a
 * mostly-right model that is not confident; `class0Steps` more on class 0 alone make it sure of that one cluster.
 */
async function scanRun(
  cfg: ScanConfig,
  supervisedSteps: number,
  class0Steps = 0,
): Promise<{ root: string; scan: string }> {
  const root = testTempDir('selflabel-test');
  const model = createClusteringModel(cfg.backbone, { numClusters: CLASSES, numHeads: 1 }, 5);
  const opt = createOptimizer(
    { optimizer: 'adam', lr: 0.01, momentum: 0.9, nesterov: false, weight_decay: 0 },
    model.parameters(),
  );
  const x = images(TRAIN);
  const target = tf.mul(tf.oneHot(tf.tensor1d(TRAIN.labels, 'int32'), CLASSES), 20) as tf.Tensor2D; // confident "weak" logits = labels
  const class0 = tf.tensor1d(
    Array.from(TRAIN.labels).flatMap((y, i) => (y === 0 ? [i] : [])),
    'int32',
  );
  const x0 = tf.gather(x, class0);
  const target0 = tf.gather(target, class0) as tf.Tensor2D;
  for (let s = 0; s < supervisedSteps + class0Steps; s++) {
    const [xs, ts] = s < supervisedSteps ? [x, target] : [x0, target0];
    const { value, grads } = tf.variableGrads(() => confidenceBasedCE(ts, model.apply(xs, true)[0], 0.99, false).loss);
    opt.step(grads);
    tf.dispose([value, ...Object.values(grads)]);
  }
  tf.dispose([x, target, class0, x0, target0]);
  const run = await RunFolder.create({ dir: join(root, 'scan'), stage: 'scan', config: cfg });
  await saveModel(run.path('model.safetensors'), model, { best_head: '0' });
  await run.complete({ metrics: {}, artifacts: ['model.safetensors'], backend: 'wasm' });
  opt.dispose();
  model.dispose();
  return { root, scan: run.dir };
}

/** runSelflabel on a fresh fake scan run (scanRun), into a selflabel folder beside it. */
async function selflabelAfterScan(cfg: ScanConfig, supervisedSteps: number, class0Steps = 0) {
  const up = await scanRun(cfg, supervisedSteps, class0Steps);
  const run = await RunFolder.create({
    dir: join(up.root, 'selflabel'),
    stage: 'selflabel',
    config: cfg,
    inputs: { scan: up.scan },
  });
  return { up, run, r: await runSelflabel(cfg, run, { scan: up.scan }) };
}

beforeAll(async () => {
  await initBackend({ name: 'wasm', quiet: true });
});

describe('runSelflabel', () => {
  it('on a mostly-right clustering model: the confident fraction rises and the accuracy does not collapse', async () => {
    const cfg = config(['selflabel.epochs=4', 'selflabel.threshold=0.9', 'selflabel.lr=0.001']);
    const { r } = await selflabelAfterScan(cfg, 12);
    console.log('selflabel metrics', r.metrics);
    expect(r.metrics.start_val_acc).toBeGreaterThan(0.5); // the premise: mostly right
    expect(r.metrics.start_val_confident_fraction).toBeLessThan(0.9);
    expect(r.metrics.final_val_confident_fraction).toBeGreaterThan(r.metrics.start_val_confident_fraction);
    expect(r.metrics.final_val_acc).toBeGreaterThanOrEqual(r.metrics.start_val_acc - 0.05);
    expect(r.metrics.epochs_done).toBe(4);
    // no cluster swallows others: pseudo-labels from every cluster, the largest cluster does not grow
    expect(r.metrics.concentrated_pseudo_label_epochs).toBe(0);
    expect(r.metrics.final_val_largest_cluster_fraction).toBeLessThanOrEqual(
      r.metrics.start_val_largest_cluster_fraction,
    );
    expect(r.metrics.final_val_largest_cluster_fraction).toBeLessThan(0.5); // 4 balanced classes: 0.25
  });

  it('a model sure of one cluster only: self-labeling enlarges that cluster, and the stage says so', async () => {
    // the regime of a weak SCAN model (the cpu profile's CIFAR-10 runs): its few confident images are one cluster's
    const cfg = config(['selflabel.epochs=4', 'selflabel.threshold=0.99', 'selflabel.lr=0.001']);
    const { r } = await selflabelAfterScan(cfg, 8, 4);
    expect(r.metrics.start_val_acc).toBeGreaterThan(0.4); // the premise: better than chance (0.25)
    expect(r.metrics.concentrated_pseudo_label_epochs).toBeGreaterThanOrEqual(3);
    expect(r.summary).toMatch(/pseudo-labels concentrated in few clusters in [34] of 4 epochs/);
    // what the warning predicts: the cluster grows and accuracy falls
    expect(r.metrics.final_val_largest_cluster_fraction).toBeGreaterThan(
      r.metrics.start_val_largest_cluster_fraction + 0.15,
    );
    expect(r.metrics.final_val_acc).toBeLessThan(r.metrics.start_val_acc);
  });

  it('steps whose mask is empty are skipped and counted; nothing trainable changes then', async () => {
    const cfg = config(['selflabel.epochs=1', 'selflabel.threshold=0.999999']);
    const { up, run, r } = await selflabelAfterScan(cfg, 0);
    expect(r.metrics.skipped_steps).toBe(3); // 96 images / batch 32, every step empty
    const read = async (f: string) => readSafetensors(new Uint8Array(await readFile(f)), f).tensors;
    const before = await read(join(up.scan, 'model.safetensors'));
    const after = await read(run.path('model.safetensors'));
    for (const k of Object.keys(before)) {
      // weights are untouched; BN running stats moved (the weak view runs in train mode, as the official code)
      if (/running_|num_batches/.test(k)) continue;
      expect(Array.from(after[k].data as Float32Array), k).toEqual(Array.from(before[k].data as Float32Array));
    }
  });
});

describe('selflabelStep', () => {
  it('no tensor leaks across steps; micro-batches with and without confident samples', () => {
    const cfg = config([]);
    const model = createClusteringModel(cfg.backbone, { numClusters: CLASSES, numHeads: 1 }, 9);
    const opt = createOptimizer(
      { optimizer: 'adam', lr: 0.01, momentum: 0.9, nesterov: false, weight_decay: 1e-4 },
      model.parameters(),
    );
    const all = images(TRAIN);
    const x = tf.slice(all, [0, 0, 0, 0], [16, -1, -1, -1]) as tf.Tensor4D;
    all.dispose();
    const counts: number[] = [];
    for (let s = 0; s < 6; s++) {
      const r = selflabelStep(model, opt, x, x, { threshold: 0.3, classBalance: true, microBatch: 8 });
      expect(r.skipped).toBe(false);
      counts.push(tf.memory().numTensors);
    }
    console.log('selflabel tensor counts', counts);
    expect(counts[5]).toBe(counts[2]);
    x.dispose();
    opt.dispose();
    model.dispose();
  });
});
