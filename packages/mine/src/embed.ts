// The pretext model's features of a split, as the mine stage mines and stores them (val transform, eval mode).
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors, type ScanConfig } from '@scan-repro/core';
import type { ImageSplit } from '@scan-repro/data';
import { contrastiveModelFromConfig, loadModel, type ContrastiveModel } from '@scan-repro/models';
import { extractFeatures, splitColumns, transformSpecFor } from '@scan-repro/train';

/** Loads the pretext model; tells whether it has a contrastive head (RotNet models have rotnet_head.* instead). */
export async function loadPretextModel(
  config: ScanConfig,
  path: string,
): Promise<{ model: ContrastiveModel; hasHead: boolean }> {
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
export async function embed(
  model: ContrastiveModel,
  hasHead: boolean,
  split: ImageSplit,
  config: ScanConfig,
): Promise<{ head?: Float32Array; backbone: Float32Array }> {
  const featureDim = model.backbone.featureDim;
  const headDim = model.contrastiveHead.outDim;
  const normalize = (x: tf.Tensor2D) => tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12)) as tf.Tensor2D;
  const forward = (x: tf.Tensor4D): tf.Tensor2D => {
    const f = model.backbone.apply(x, false);
    return hasHead ? tf.concat([model.contrastiveHead.apply(f), normalize(f)], 1) : normalize(f);
  };
  const both = await extractFeatures(forward, split, {
    transform: transformSpecFor(config, 'val'),
    batchSize: config.mine.batch_size,
    label: `embed ${split.split}`,
  });
  if (!hasHead) return { backbone: both };
  const [head, backbone] = splitColumns(both, split.size, [headDim, featureDim]) as [Float32Array, Float32Array];
  return { head, backbone };
}
