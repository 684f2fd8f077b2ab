// The mining stage (official simclr.py / moco.py tail): embed the train and val splits with the pretext model
// (val transform, eval mode, L2-normalised), and mine each split's top-K cosine neighbours among itself.
// Artifacts (core's artifacts.ts): the neighbour tables of both splits (row i: i itself, then its neighbours, as split
// indices, with each row's index in the full dataset split), and both kinds of L2-normalised pretext features with
// the labels (evaluation only).
import {
  ARTIFACTS,
  artifactPath,
  log,
  requireInputs,
  writeFeatures,
  writeNeighbors,
  type FeatureKind,
  type Stage,
} from '@scan-repro/core';
import type { ImageSplit } from '@scan-repro/data';
import { loadTrainVal } from '@scan-repro/train';
import { embed, loadPretextModel } from './embed';
import { mineSplit } from './mine-neighbors';

const originalIndices = (s: ImageSplit) => s.originalIndices ?? Int32Array.from({ length: s.size }, (_, i) => i);

export const runMine: Stage = async (config, run, inputs) => {
  const { pretext } = requireInputs('mine', inputs, ['pretext']);
  const { model, hasHead } = await loadPretextModel(config, artifactPath(pretext, 'model'));
  let mined: FeatureKind = config.mine.features;
  if (mined === 'head' && !hasHead) {
    log.warn(
      'mine: the pretext model has no contrastive head (RotNet?); mining on backbone features instead of mine.features = head',
    );
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

    const meta = {
      dataset: d.name,
      train_split: train.split,
      val_split: val.split,
      k: String(k),
      k_val: String(kVal),
      features: mined,
    };
    await writeNeighbors(
      run,
      {
        train: { table: t.table, rows: train.size, width: k + 1 },
        val: { table: v.table, rows: val.size, width: kVal + 1 },
        trainIndices: originalIndices(train),
        valIndices: originalIndices(val),
      },
      meta,
    );
    await writeFeatures(
      run,
      {
        train: { rows: train.size, labels: train.labels, ...trainFeatures },
        val: { rows: val.size, labels: val.labels, ...valFeatures },
        mined,
      },
      meta,
    );
    const metrics = { ...t.metrics, ...v.metrics };
    const acc = (x: number | undefined) => (x === undefined ? 'n/a' : `${(100 * x).toFixed(2)}%`);
    return {
      metrics,
      artifacts: [ARTIFACTS.neighbors, ARTIFACTS.features],
      summary: `mined top-${k} train / top-${kVal} val neighbours on ${mined} features; neighbour accuracy train ${acc(metrics.train_neighbor_accuracy)}, val ${acc(metrics.val_neighbor_accuracy)}`,
    };
  } finally {
    model.dispose();
  }
};
