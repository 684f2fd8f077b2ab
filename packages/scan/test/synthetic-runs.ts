import { join } from 'node:path';
import { ARTIFACTS, composeConfig, createRng, RunFolder, writeNeighbors, type ScanConfig } from '@scan-repro/core';
import { registerDataset, type ImageSplit } from '@scan-repro/data';
import { createContrastiveModel, saveModel } from '@scan-repro/models';
import { testTempDir } from '@scan-repro/test-utils';

export const SYNTH = { name: 'synthscan', classes: 4, side: 8, train: 64, val: 32 };

/** Class c: a distinct base colour per class plus per-image noise. */
function synthSplit(split: string, size: number): ImageSplit {
  const rng = createRng(split === 'train' ? 1 : 2);
  const labels = Int32Array.from({ length: size }, (_, i) => i % SYNTH.classes);
  const px = SYNTH.side * SYNTH.side * 3;
  const data: Uint8Array[] = [];
  for (let i = 0; i < size; i++) {
    const c = labels[i];
    const img = new Uint8Array(px);
    for (let p = 0; p < px; p++) {
      const base = [
        [220, 30, 30],
        [30, 220, 30],
        [30, 30, 220],
        [220, 220, 30],
      ][c][p % 3];
      img[p] = Math.max(0, Math.min(255, Math.round(base + rng.normal() * 20)));
    }
    data.push(img);
  }
  return {
    dataset: SYNTH.name,
    split,
    size,
    source: 'synthetic',
    labels,
    imageShape: { height: SYNTH.side, width: SYNTH.side },
    image: (i) => ({ data: data[i], height: SYNTH.side, width: SYNTH.side }),
  };
}

registerDataset(SYNTH.name, () => ({
  name: SYNTH.name,
  numClasses: SYNTH.classes,
  classNames: ['red', 'green', 'blue', 'yellow'],
  splits: ['train', 'test'],
  imageSize: SYNTH.side,
  mean: [0.5, 0.5, 0.5],
  std: [0.25, 0.25, 0.25],
  load: async (split) => synthSplit(split, split === 'train' ? SYNTH.train : SYNTH.val),
}));

export function synthConfig(extra: string[] = []): ScanConfig {
  return composeConfig(
    [
      'profile=ci',
      `dataset.name=${SYNTH.name}`,
      `dataset.num_classes=${SYNTH.classes}`,
      `dataset.image_size=${SYNTH.side}`,
      `dataset.crop_size=${SYNTH.side}`,
      'dataset.max_train=0',
      'dataset.max_val=0',
      'dataset.mean=[0.5,0.5,0.5]',
      'dataset.std=[0.25,0.25,0.25]',
      'augment.cutout=2',
      'backbone.width=4',
      'model.contrastive_hidden=16',
      'model.contrastive_dim=8',
      'mine.k=5',
      'mine.k_val=3',
      'mine.batch_size=32',
      'scan.num_neighbors=5',
      'scan.batch_size=16',
      'scan.epochs=2',
      'backend.name=wasm',
      ...extra,
    ],
    { env: {} },
  );
}

/** Neighbours that share the anchor's class (column 0 = itself): "true" neighbours. */
export function trueNeighbors(labels: Int32Array, k: number, seed: number): Int32Array {
  const rng = createRng(seed);
  const n = labels.length;
  const out = new Int32Array(n * (k + 1));
  for (let i = 0; i < n; i++) {
    const same = [];
    for (let j = 0; j < n; j++) if (j !== i && labels[j] === labels[i]) same.push(j);
    rng.shuffle(same);
    out[i * (k + 1)] = i;
    for (let t = 0; t < k; t++) out[i * (k + 1) + 1 + t] = same[t % same.length];
  }
  return out;
}

/** Completed pretext (random weights) and mine (true neighbours) run folders for `config`, in the running test's temp folder. */
export async function synthUpstream(config: ScanConfig): Promise<{ root: string; pretext: string; mine: string }> {
  const root = testTempDir('scan-test');
  const pretext = await RunFolder.create({ dir: join(root, 'pretext'), stage: 'pretext', config });
  const model = createContrastiveModel(
    config.backbone,
    { hidden: config.model.contrastive_hidden, out: config.model.contrastive_dim },
    7,
  );
  await saveModel(pretext.path(ARTIFACTS.model), model);
  model.dispose();
  await pretext.complete({ metrics: {}, artifacts: [ARTIFACTS.model], backend: 'wasm' });

  const mine = await RunFolder.create({
    dir: join(root, 'mine'),
    stage: 'mine',
    config,
    inputs: { pretext: pretext.dir },
  });
  const train = synthSplit('train', SYNTH.train);
  const val = synthSplit('test', SYNTH.val);
  const k = config.mine.k;
  const kv = config.mine.k_val;
  const all = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
  await writeNeighbors(
    mine,
    {
      train: { table: trueNeighbors(train.labels, k, 3), rows: train.size, width: k + 1 },
      val: { table: trueNeighbors(val.labels, kv, 4), rows: val.size, width: kv + 1 },
      trainIndices: all(train.size),
      valIndices: all(val.size),
    },
    {},
  );
  await mine.complete({ metrics: {}, artifacts: [ARTIFACTS.neighbors], backend: 'wasm' });
  return { root, pretext: pretext.dir, mine: mine.dir };
}
