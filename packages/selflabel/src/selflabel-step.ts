// One self-labeling step (official selflabel.py selflabel_train): pseudo-labels from the weakly augmented view
// (val transform) computed without gradient but with the model in TRAIN mode (BN uses batch statistics and
// updates its running statistics, as the official code does), then the confidence-masked, optionally
// class-balanced cross-entropy on the strongly augmented view.
import * as tf from '@tensorflow/tfjs-core';
import type { ClusteringModel } from '@scan-repro/models';
import { microBatches, trainStep, type Optimizer } from '@scan-repro/train';
import { balancingWeights, confidenceBasedCE, confidentTargets } from './selflabel-loss';

export interface SelflabelStepOptions {
  threshold: number;
  classBalance: boolean;
  /**
   * Chunk size for gradient accumulation (0 = whole batch). Pseudo-labels and the class-balancing weights
   * come from the whole batch and each chunk enters with the sum of its rows' weights, so the step is the
   * whole-batch one except for BN, whose statistics are per chunk.
   */
  microBatch: number;
  lr?: number;
}

export interface SelflabelStepResult {
  /** Confident samples in the batch (weak-view max softmax > threshold). */
  numConfident: number;
  /** Confident samples per pseudo-label (cluster), length numClusters. */
  pseudoLabelCounts: Int32Array;
  batchSize: number;
  /** True when no sample was confident: no update was made (the official code raises an error there). */
  skipped: boolean;
  /** Mean masked cross-entropy (NaN when skipped). */
  loss: number;
}

/** Weak-view logits of head 0 in train mode, outside any gradient tape, chunked like the step. */
function weakLogits(
  model: ClusteringModel,
  weak: tf.Tensor4D,
  ranges: { start: number; size: number }[],
): tf.Tensor2D[] {
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
  if (weak.shape[0] !== strong.shape[0])
    throw new Error(
      `selflabelStep: ${weak.shape[0]} weak but ${strong.shape[0]} strong views; expected one of each per image`,
    );
  const ranges = microBatches(weak.shape[0], opts.microBatch);
  const targets = weakLogits(model, weak, ranges);
  try {
    const confident = targets.map((t) => confidentTargets(t, opts.threshold).targets);
    const numConfident = confident.reduce((a, t) => a + t.length, 0);
    const numClasses = targets[0].shape[1];
    const pseudoLabelCounts = new Int32Array(numClasses);
    for (const t of confident) for (const k of t) pseudoLabelCounts[k]++;
    const batchSize = weak.shape[0];
    if (numConfident === 0) return { numConfident, pseudoLabelCounts, batchSize, skipped: true, loss: NaN };
    const classWeights = opts.classBalance
      ? balancingWeights(confident.flat(), numClasses)
      : new Float32Array(numClasses).fill(1);
    // A chunk's weighted mean times its weight sum, summed and divided by the total, is the batch's weighted mean.
    const weightSums = confident.map((t) => t.reduce((a, k) => a + classWeights[k], 0));
    const used = ranges.map((r, i) => ({ ...r, i })).filter(({ i }) => confident[i].length > 0);
    const loss = trainStep({
      params: model.parameters(),
      optimizer,
      microBatches: used,
      weightOf: ({ i }) => weightSums[i],
      loss: ({ start, size, i }) => {
        const x =
          used.length === 1 && size === strong.shape[0]
            ? strong
            : tf.slice(strong, [start, 0, 0, 0], [size, -1, -1, -1]);
        return confidenceBasedCE(targets[i], model.apply(x, true)[0], opts.threshold, opts.classBalance, classWeights)
          .loss;
      },
      lr: opts.lr,
    });
    return { numConfident, pseudoLabelCounts, batchSize, skipped: false, loss };
  } finally {
    tf.dispose(targets);
  }
}
