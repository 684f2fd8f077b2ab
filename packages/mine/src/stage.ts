// The mining stage (official simclr.py / moco.py tail): embed the train and val splits with the pretext model
// (val transform, eval mode, L2-normalised), and mine each split's top-K cosine neighbours among itself.
// Artifacts:
//   neighbors.safetensors  train [N, K+1] int32 and val [M, k_val+1] int32 (row i: i itself, then its neighbours,
//                          as split indices), train_indices / val_indices: each row's index in the full dataset split
//   features.safetensors   {train,val}.head [., 128] and {train,val}.backbone [., featureDim] (L2-normalised),
//                          {train,val}.labels (evaluation only), metadata mined = which features were mined on
import { join } from 'node:path';
import { log, requireInputs, writeSafetensors, type NamedArray, type Stage } from '@scan-repro/core';
import type { ImageSplit } from '@scan-repro/data';
import { loadTrainVal } from '@scan-repro/train';
import { embed, loadPretextModel, type FeatureKind } from './embed';
import { mineSplit } from './mine-neighbors';

const NEIGHBORS_FILE = 'neighbors.safetensors';
const FEATURES_FILE = 'features.safetensors';
const PRETEXT_MODEL_FILE = 'model.safetensors';

const i32 = (data: Int32Array, shape: number[]): NamedArray => ({ dtype: 'I32', shape, data });
const f32 = (data: Float32Array, shape: number[]): NamedArray => ({ dtype: 'F32', shape, data });
const originalIndices = (s: ImageSplit) => s.originalIndices ?? Int32Array.from({ length: s.size }, (_, i) => i);

export const runMine: Stage = async (config, run, inputs) => {
  const { pretext } = requireInputs('mine', inputs, ['pretext']);
  const { model, hasHead } = await loadPretextModel(config, join(pretext, PRETEXT_MODEL_FILE));
  let mined: FeatureKind = config.mine.features;
  if (mined === 'head' && !hasHead) {
    log.warn('mine: the pretext model has no contrastive head (RotNet?); mining on backbone features instead of mine.features = head');
    mined = 'backbone';
  }
  try {
    const d = config.dataset;
    const { train, val } = await loadTrainVal(config);
    const trainFeatures = await embed(model, hasHead, train, config);
    const valFeatures = await embed(model, hasHead, val, config);
    const { k, k_val: kVal, batch_size: batchSize } = config.mine;
    const t = mineSplit(trainFeatures[mined]!, train, k, batchSize, 'train');
    const v = mineSplit(valFeatures[mined]!, val, kVal, batchSize, 'val');

    const meta = { dataset: d.name, train_split: train.split, val_split: val.split, k: String(k), k_val: String(kVal), features: mined };
    await run.writeArtifact(NEIGHBORS_FILE, writeSafetensors({
      train: i32(t.table, [train.size, k + 1]), val: i32(v.table, [val.size, kVal + 1]),
      train_indices: i32(originalIndices(train), [train.size]), val_indices: i32(originalIndices(val), [val.size]),
    }, meta));
    const features: Record<string, NamedArray> = {
      'train.labels': i32(train.labels, [train.size]), 'val.labels': i32(val.labels, [val.size]),
    };
    for (const kind of ['head', 'backbone'] as const) {
      const a = trainFeatures[kind];
      const b = valFeatures[kind];
      if (a && b) {
        features[`train.${kind}`] = f32(a, [train.size, a.length / train.size]);
        features[`val.${kind}`] = f32(b, [val.size, b.length / val.size]);
      }
    }
    await run.writeArtifact(FEATURES_FILE, writeSafetensors(features, { ...meta, mined }));
    const metrics = { ...t.metrics, ...v.metrics };
    const acc = (x: number | undefined) => (x === undefined ? 'n/a' : `${(100 * x).toFixed(2)}%`);
    return {
      metrics, artifacts: [NEIGHBORS_FILE, FEATURES_FILE],
      summary: `mined top-${k} train / top-${kVal} val neighbours on ${mined} features; neighbour accuracy train ${acc(metrics.train_neighbor_accuracy)}, val ${acc(metrics.val_neighbor_accuracy)}`,
    };
  } finally {
    model.dispose();
  }
};
