// One SCAN optimisation step (official scan.py scan_train): anchors and their sampled neighbours go through
// the model separately (as the official code does, so batch-norm sees two batches), the SCAN loss of every head
// is summed, and the optimizer steps once.
import * as tf from '@tensorflow/tfjs-core';
import type { ClusterHead, ClusteringModel } from '@scan-repro/models';
import { microBatches, trainStep, type Optimizer } from '@scan-repro/train';
import { scanLoss } from './scan-loss';

export interface ScanStepOptions {
  /** λ of the entropy term (5 in every released config). */
  entropyWeight: number;
  /**
   * Split the batch into chunks of this size and accumulate gradients (0 = whole batch). With a trainable
   * backbone this only approximates the full-batch loss: the entropy of the batch-mean prediction and the
   * batch-norm statistics are then per chunk. With a frozen backbone the chunks only bound the backbone's
   * memory (no gradient, eval-mode BN) and the head loss is always computed on the whole batch, exactly.
   */
  microBatch: number;
  lr?: number;
}

export interface ScanStepResult {
  /** Sum over heads of the SCAN loss (the minimised value). */
  total: number;
  /** Per head: the total, consistency and entropy terms (size-weighted mean over micro-batches). */
  headTotal: number[];
  consistency: number[];
  entropy: number[];
}

/** Per-head loss terms of the current step, read back while the loss is computed. */
class TermRecorder {
  readonly total: number[];
  readonly consistency: number[];
  readonly entropy: number[];
  private weight = 0;

  constructor(numHeads: number) {
    this.total = new Array(numHeads).fill(0);
    this.consistency = new Array(numHeads).fill(0);
    this.entropy = new Array(numHeads).fill(0);
  }

  add(head: number, terms: { total: tf.Scalar; consistency: tf.Scalar; entropy: tf.Scalar }, weight: number): void {
    this.total[head] += weight * terms.total.dataSync()[0];
    this.consistency[head] += weight * terms.consistency.dataSync()[0];
    this.entropy[head] += weight * terms.entropy.dataSync()[0];
  }

  endMicroBatch(weight: number): void {
    this.weight += weight;
  }

  result(): ScanStepResult {
    const w = this.weight || 1;
    const headTotal = this.total.map((v) => v / w);
    return {
      total: headTotal.reduce((a, b) => a + b, 0),
      headTotal,
      consistency: this.consistency.map((v) => v / w),
      entropy: this.entropy.map((v) => v / w),
    };
  }
}

/** Σ_heads scanLoss(anchor logits, neighbour logits).total, recording each head's terms. */
function summedHeadLoss(
  anchorLogits: tf.Tensor2D[],
  neighborLogits: tf.Tensor2D[],
  entropyWeight: number,
  recorder: TermRecorder,
  weight: number,
): tf.Scalar {
  let sum: tf.Scalar | null = null;
  anchorLogits.forEach((a, h) => {
    const terms = scanLoss(a, neighborLogits[h], entropyWeight);
    recorder.add(h, terms, weight);
    sum = sum ? (tf.add(sum, terms.total) as tf.Scalar) : terms.total;
  });
  return sum!;
}

function headParameters(heads: ClusterHead[]): Map<string, tf.Variable> {
  return new Map(
    heads.flatMap((h, i) =>
      [...h.parameters()].map(([k, v]) => [`cluster_head.${i}.${k}`, v] as [string, tf.Variable]),
    ),
  );
}

/**
 * SCAN step on fixed features: only the cluster heads learn. This is the update_cluster_head_only path
 * (features from the frozen backbone) and what the learning test drives with synthetic features.
 */
export function scanHeadsStep(
  heads: ClusterHead[],
  optimizer: Optimizer,
  anchorFeatures: tf.Tensor2D,
  neighborFeatures: tf.Tensor2D,
  opts: Pick<ScanStepOptions, 'entropyWeight' | 'lr'>,
): ScanStepResult {
  if (anchorFeatures.shape[0] !== neighborFeatures.shape[0]) {
    throw new Error(
      `scanHeadsStep: ${anchorFeatures.shape[0]} anchor rows but ${neighborFeatures.shape[0]} neighbour rows; expected one neighbour per anchor`,
    );
  }
  const recorder = new TermRecorder(heads.length);
  trainStep({
    params: headParameters(heads),
    optimizer,
    microBatches: [0],
    loss: () => {
      const out = summedHeadLoss(
        heads.map((h) => h.apply(anchorFeatures)),
        heads.map((h) => h.apply(neighborFeatures)),
        opts.entropyWeight,
        recorder,
        1,
      );
      recorder.endMicroBatch(1);
      return out;
    },
    lr: opts.lr,
  });
  return recorder.result();
}

/** Frozen-backbone features (eval-mode BN, no tape), computed in chunks to bound memory. */
export function frozenBackboneFeatures(model: ClusteringModel, images: tf.Tensor4D, chunk: number): tf.Tensor2D {
  const ranges = microBatches(images.shape[0], chunk);
  if (ranges.length === 1) return model.frozenFeatures(images);
  const parts = ranges.map(({ start, size }) => {
    const x = tf.slice(images, [start, 0, 0, 0], [size, -1, -1, -1]);
    try {
      return model.frozenFeatures(x);
    } finally {
      x.dispose();
    }
  });
  const out = tf.concat(parts, 0) as tf.Tensor2D;
  tf.dispose(parts);
  return out;
}

/**
 * One SCAN step on images. With `updateClusterHeadOnly` the backbone runs in eval mode outside the gradient
 * tape (its weights and BN running statistics are untouched, as the official code's no_grad + model.eval()
 * backbone) and only the heads are updated; otherwise the whole network trains with BN in train mode.
 * The optimizer must have been created over the parameters that are meant to change.
 */
export function scanStep(
  model: ClusteringModel,
  optimizer: Optimizer,
  anchors: tf.Tensor4D,
  neighbors: tf.Tensor4D,
  opts: ScanStepOptions & { updateClusterHeadOnly: boolean },
): ScanStepResult {
  if (anchors.shape[0] !== neighbors.shape[0]) {
    throw new Error(
      `scanStep: ${anchors.shape[0]} anchors but ${neighbors.shape[0]} neighbours; expected one neighbour per anchor`,
    );
  }
  if (opts.updateClusterHeadOnly) {
    const a = frozenBackboneFeatures(model, anchors, opts.microBatch);
    const n = frozenBackboneFeatures(model, neighbors, opts.microBatch);
    try {
      return scanHeadsStep(model.clusterHeads, optimizer, a, n, opts);
    } finally {
      tf.dispose([a, n]);
    }
  }
  const recorder = new TermRecorder(model.clusterHeads.length);
  const ranges = microBatches(anchors.shape[0], opts.microBatch);
  trainStep({
    params: model.parameters(),
    optimizer,
    microBatches: ranges,
    weightOf: (r) => r.size,
    loss: ({ start, size }) => {
      const a = ranges.length === 1 ? anchors : tf.slice(anchors, [start, 0, 0, 0], [size, -1, -1, -1]);
      const n = ranges.length === 1 ? neighbors : tf.slice(neighbors, [start, 0, 0, 0], [size, -1, -1, -1]);
      const out = summedHeadLoss(model.apply(a, true), model.apply(n, true), opts.entropyWeight, recorder, size);
      recorder.endMicroBatch(size);
      return out;
    },
    lr: opts.lr,
  });
  return recorder.result();
}
