// One self-labeling step (official selflabel.py selflabel_train): pseudo-labels from the weakly augmented view
// (val transform) computed without gradient but with the model in TRAIN mode (BN uses batch statistics and
// updates its running statistics, as the official code does), then the confidence-masked, optionally
// class-balanced cross-entropy on the strongly augmented view.
import * as tf from '@tensorflow/tfjs-core';
import type { ClusteringModel } from '@scan-repro/models';
import { microBatches, trainStep, type Optimizer } from '@scan-repro/train';
import { confidenceBasedCE } from './selflabel-loss';

export interface SelflabelStepOptions {
  threshold: number;
  classBalance: boolean;
  /**
   * Chunk size for gradient accumulation (0 = whole batch). Pseudo-labels are always taken per sample, but
   * the class weights are then computed per chunk and chunks are weighted by their confident count: exact
   * without class balancing, an approximation with it (as BN statistics per chunk are).
   */
  microBatch: number;
  lr?: number;
}

export interface SelflabelStepResult {
  /** Confident samples in the batch (weak-view max softmax > threshold). */
  numConfident: number;
  batchSize: number;
  /** True when no sample was confident: no update was made (the official code raises an error there). */
  skipped: boolean;
  /** Mean masked cross-entropy (NaN when skipped). */
  loss: number;
}

/** Weak-view logits of head 0 in train mode, outside any gradient tape, chunked like the step. */
function weakLogits(model: ClusteringModel, weak: tf.Tensor4D, ranges: { start: number; size: number }[]): tf.Tensor2D[] {
  return ranges.map(({ start, size }) =>
    tf.tidy(() => {
      const x = ranges.length === 1 ? weak : tf.slice(weak, [start, 0, 0, 0], [size, -1, -1, -1]);
      return model.apply(x, true)[0];
    }),
  );
}

export function selflabelStep(
  model: ClusteringModel,
  optimizer: Optimizer,
  weak: tf.Tensor4D,
  strong: tf.Tensor4D,
  opts: SelflabelStepOptions,
): SelflabelStepResult {
  if (weak.shape[0] !== strong.shape[0]) throw new Error(`selflabelStep: ${weak.shape[0]} weak but ${strong.shape[0]} strong views; expected one of each per image`);
  const ranges = microBatches(weak.shape[0], opts.microBatch);
  const targets = weakLogits(model, weak, ranges);
  try {
    // Confident count per chunk, from the loss itself (the logits stand in for both views: only the mask is read).
    // (tidy: confidenceBasedCE leaves its softmax tensor undisposed when called outside a tidy scope)
    const counts = targets.map((t) => tf.tidy(() => confidenceBasedCE(t, t, opts.threshold, opts.classBalance).numConfident));
    const numConfident = counts.reduce((a, b) => a + b, 0);
    if (numConfident === 0) return { numConfident, batchSize: weak.shape[0], skipped: true, loss: NaN };
    const used = ranges.map((r, i) => ({ ...r, i })).filter(({ i }) => counts[i] > 0);
    const loss = trainStep({
      params: model.parameters(),
      optimizer,
      microBatches: used,
      weightOf: ({ i }) => counts[i],
      loss: ({ start, size, i }) => {
        const x = used.length === 1 && size === strong.shape[0] ? strong : tf.slice(strong, [start, 0, 0, 0], [size, -1, -1, -1]);
        return confidenceBasedCE(targets[i], model.apply(x, true)[0], opts.threshold, opts.classBalance).loss;
      },
      lr: opts.lr,
    });
    return { numConfident, batchSize: weak.shape[0], skipped: false, loss };
  } finally {
    tf.dispose(targets);
  }
}
