// The mining stage (official simclr.py / moco.py tail): embed the train and val splits with the pretext model
// (val transform, eval mode, L2-normalised), and mine each split's top-K cosine neighbours among itself.
// Artifacts:
//   neighbors.safetensors  train [N, K+1] int32 and val [M, k_val+1] int32 (row i: i itself, then its neighbours,
//                          as split indices), train_indices / val_indices: each row's index in the full dataset split
//   features.safetensors   {train,val}.head [., 128] and {train,val}.backbone [., featureDim] (L2-normalised),
//                          {train,val}.labels (evaluation only), metadata mined = which features were mined on
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { log, readSafetensors, writeSafetensors, type NamedArray, type RunFolder, type ScanConfig, type StageResult } from '@scan-repro/core';
import type { ImageSplit } from '@scan-repro/data';
import { neighborAccuracy } from '@scan-repro/metrics';
import { contrastiveModelFromConfig, loadModel, type ContrastiveModel } from '@scan-repro/models';
import { extractFeatures, loadTrainVal, splitColumns, transformSpecFor } from '@scan-repro/train';
import { mineNeighbors } from './mine-neighbors';

export const NEIGHBORS_FILE = 'neighbors.safetensors';
export const FEATURES_FILE = 'features.safetensors';
export const PRETEXT_MODEL_FILE = 'model.safetensors';
/** Neighbour counts reported for the Fig. 2 curve (those <= K). */
export const NEIGHBOR_CURVE_KS = [1, 5, 20, 50, 100];

export type FeatureKind = 'head' | 'backbone';

/** Loads the pretext model; tells whether it has a contrastive head (RotNet models have rotnet_head.* instead). */
export async function loadPretextModel(config: ScanConfig, path: string): Promise<{ model: ContrastiveModel; hasHead: boolean }> {
  let keys: string[];
  try {
    keys = Object.keys(readSafetensors(new Uint8Array(await readFile(path)), path).tensors);
  } catch (e) {
    throw new Error(`mine: cannot read the pretext model ${path}: ${(e as Error).message}`);
  }
  const hasHead = keys.some((k) => k.startsWith('contrastive_head.'));
  const model = contrastiveModelFromConfig(config, 0);
  await loadModel(path, model, {
    allowUnexpected: (k) => k.startsWith('rotnet_head.'),
    allowMissing: (k) => !hasHead && k.startsWith('contrastive_head.'),
  });
  return { model, hasHead };
}

/** Both kinds of features of a split in one pass: the L2-normalised head output and the normalised pooled backbone. */
async function embed(model: ContrastiveModel, hasHead: boolean, split: ImageSplit, config: ScanConfig): Promise<Record<FeatureKind, Float32Array | null>> {
  const featureDim = model.backbone.featureDim;
  const headDim = model.contrastiveHead.outDim;
  const normalize = (x: tf.Tensor2D) => tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12)) as tf.Tensor2D;
  const forward = (x: tf.Tensor4D): tf.Tensor2D => {
    const f = model.backbone.apply(x, false);
    return hasHead ? tf.concat([model.contrastiveHead.apply(f), normalize(f)], 1) : normalize(f);
  };
  const both = await extractFeatures(forward, split, {
    transform: transformSpecFor(config, 'val'), batchSize: config.mine.batch_size, label: `embed ${split.split}`,
  });
  if (!hasHead) return { head: null, backbone: both };
  const [head, backbone] = splitColumns(both, split.size, [headDim, featureDim]) as [Float32Array, Float32Array];
  return { head, backbone };
}

function hasLabels(split: ImageSplit): boolean {
  return split.labels.every((l) => l >= 0);
}

/** Mines a split's neighbours among itself and reports the share with the anchor's label at k and the curve's ks. */
export function mineSplit(features: Float32Array, split: ImageSplit, k: number, batchSize: number, prefix: string): { table: Int32Array; metrics: Record<string, number> } {
  const n = split.size;
  const dim = features.length / n;
  if (k > n - 1) throw new Error(`mine: ${prefix} k = ${k} neighbours needs more than ${n} images in ${split.dataset}/${split.split}`);
  const table = mineNeighbors(features, n, dim, k, { batchSize });
  const metrics: Record<string, number> = {};
  if (hasLabels(split)) {
    metrics[`${prefix}_neighbor_accuracy`] = neighborAccuracy(table, split.labels);
    for (const kk of NEIGHBOR_CURVE_KS) if (kk <= k) metrics[`${prefix}_neighbor_accuracy_at_${kk}`] = neighborAccuracy(table, split.labels, { k: kk });
  }
  return { table, metrics };
}

const i32 = (data: Int32Array, shape: number[]): NamedArray => ({ dtype: 'I32', shape, data });
const f32 = (data: Float32Array, shape: number[]): NamedArray => ({ dtype: 'F32', shape, data });
const originalIndices = (s: ImageSplit) => s.originalIndices ?? Int32Array.from({ length: s.size }, (_, i) => i);

export async function runMine(config: ScanConfig, run: RunFolder, inputs: Record<string, string>): Promise<StageResult> {
  const pretextDir = inputs.pretext;
  if (!pretextDir) throw new Error("mine: needs the pretext run folder as input 'pretext'");
  const { model, hasHead } = await loadPretextModel(config, join(pretextDir, PRETEXT_MODEL_FILE));
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
}
