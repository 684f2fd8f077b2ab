// The mining stage on a toy dataset whose neighbours are known: 4 groups of 6 exact copies of one random image
// (train) and 4 groups of 3 (val). Any network maps copies to identical features (cosine 1), so every image's
// top-5 train (top-2 val) neighbours are exactly its group mates, whatever the weights.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@scan-repro/backend';
import { composeConfig, createRng, readSafetensors, RunFolder } from '@scan-repro/core';
import { registerDataset, type ImageSplit } from '@scan-repro/data';
import { contrastiveModelFromConfig, saveModel } from '@scan-repro/models';
import { beforeAll, describe, expect, it } from 'vitest';
import { runMine } from '../src/index';
import { tempDir } from '@scan-repro/test-utils';

const GROUPS = 4;
const SIDE = 8;
const bases = Array.from({ length: GROUPS }, (_, g) => {
  const rng = createRng(100 + g);
  return Uint8Array.from({ length: SIDE * SIDE * 3 }, () => rng.int(256));
});
function toySplit(split: string, perGroup: number): ImageSplit {
  const size = GROUPS * perGroup;
  // interleaved order (0,1,2,3,0,1,...) so that group mates are not adjacent indices
  const group = (i: number) => i % GROUPS;
  return {
    dataset: 'toy',
    split,
    size,
    source: 'generated',
    imageShape: { height: SIDE, width: SIDE },
    labels: Int32Array.from({ length: size }, (_, i) => group(i)),
    image: (i) => ({ data: bases[group(i)], height: SIDE, width: SIDE }),
  };
}
registerDataset('toy', () => ({
  name: 'toy',
  numClasses: GROUPS,
  imageSize: SIDE,
  classNames: ['a', 'b', 'c', 'd'],
  splits: ['train', 'test'],
  mean: [0.5, 0.5, 0.5],
  std: [0.25, 0.25, 0.25],
  load: async (split: string) => toySplit(split, split === 'train' ? 6 : 3),
}));

/** The ci profile on the toy dataset with a tiny backbone, changed by `overrides`. */
function toyConfig(overrides: string[]) {
  return composeConfig([
    'profile=ci',
    'backbone.width=4',
    'dataset.name=toy',
    'dataset.image_size=8',
    'dataset.crop_size=8',
    'dataset.max_train=0',
    'dataset.max_val=0',
    'mine.k_val=2',
    'scan.num_neighbors=5',
    ...overrides,
  ]);
}

describe('runMine', () => {
  const root = tempDir('mine-stage');
  beforeAll(async () => {
    await initBackend({ name: 'wasm', quiet: true });
  });

  it('writes the known neighbours, normalised features of both kinds, and neighbour accuracy 1', async () => {
    const config = toyConfig(['mine.k=5', 'mine.batch_size=7']);
    // a pretext run folder with a (random) model
    const pretextDir = join(root, 'pretext');
    const pretextRun = await RunFolder.create({ dir: pretextDir, stage: 'pretext', config });
    const model = contrastiveModelFromConfig(config, 3);
    await saveModel(join(pretextDir, 'model.safetensors'), model);
    await pretextRun.complete({ metrics: {}, artifacts: ['model.safetensors'], backend: 'wasm' });

    const run = await RunFolder.create({
      dir: join(root, 'mine'),
      stage: 'mine',
      config,
      inputs: { pretext: pretextDir },
    });
    const result = await runMine(config, run, { pretext: pretextDir });
    await run.complete({ ...result, backend: 'wasm' });
    expect(result.metrics).toEqual({
      train_neighbor_accuracy: 1,
      train_neighbor_accuracy_at_1: 1,
      train_neighbor_accuracy_at_5: 1,
      val_neighbor_accuracy: 1,
      val_neighbor_accuracy_at_1: 1,
    });

    const nb = readSafetensors(
      new Uint8Array(await readFile(join(run.dir, 'neighbors.safetensors'))),
      'neighbors',
    ).tensors;
    expect(nb.train.shape).toEqual([24, 6]);
    expect(nb.val.shape).toEqual([12, 3]);
    expect(Array.from(nb.train_indices.data as Int32Array)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    const train = nb.train.data as Int32Array;
    for (let i = 0; i < 24; i++) {
      const row = Array.from(train.subarray(i * 6, i * 6 + 6));
      expect(row[0]).toBe(i);
      expect(row.slice(1).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 6 }, (_, j) => j * GROUPS + (i % GROUPS)).filter((j) => j !== i),
      );
    }

    const feats = readSafetensors(new Uint8Array(await readFile(join(run.dir, 'features.safetensors'))), 'features');
    expect(feats.metadata.mined).toBe('head');
    expect(feats.tensors['train.head'].shape).toEqual([24, config.model.contrastive_dim]);
    expect(feats.tensors['train.backbone'].shape).toEqual([24, 8 * 4]);
    expect(Array.from(feats.tensors['val.labels'].data as Int32Array)).toEqual(
      Array.from({ length: 12 }, (_, i) => i % GROUPS),
    );
    // features are the model's own eval-mode outputs on the val-transformed image: recompute image 0 by hand
    const head = feats.tensors['train.head'].data as Float32Array;
    // the val transform normalises with the config's dataset.mean / std (CIFAR-10's here)
    const x = Float32Array.from(bases[0], (v, j) => (v / 255 - config.dataset.mean[j % 3]) / config.dataset.std[j % 3]);
    const expected = tf.tidy(() => model.apply(tf.tensor4d(x, [1, SIDE, SIDE, 3]), false).dataSync());
    for (let j = 0; j < expected.length; j++) expect(head[j]).toBeCloseTo(expected[j], 4);
    let norm = 0;
    for (let j = 0; j < 32; j++) norm += (feats.tensors['train.backbone'].data as Float32Array)[j] ** 2;
    expect(Math.sqrt(norm)).toBeCloseTo(1, 5);
    model.dispose();
  });

  it('names the problem when k is larger than the split allows', async () => {
    const config = toyConfig(['mine.k=30']);
    const run = await RunFolder.create({ dir: join(root, 'mine-bad'), stage: 'mine', config });
    await expect(runMine(config, run, { pretext: join(root, 'pretext') })).rejects.toThrow(
      /train k = 30 neighbours needs more than 24 images/,
    );
  });
});
