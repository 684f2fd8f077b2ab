import * as tf from '@tensorflow/tfjs-core';

export interface ConfidenceBasedCEResult {
  /** Scalar loss, differentiable with respect to strongLogits. Zero (with zero gradients) when `empty`. */
  loss: tf.Scalar;
  /** Samples whose weak-view confidence exceeded the threshold (the pseudo-labelled ones). */
  numConfident: number;
  /**
   * True when no sample passed the threshold. The official MaskedCrossEntropyLoss raises
   * ValueError('Mask in MaskedCrossEntropyLoss is all zeros.') there; we return a zero loss instead so a
   * training loop can skip the step (e.g. early batches of a weak SCAN model) without crashing.
   */
  empty: boolean;
  /** Per-class weights used (length C): 1 / frequency among the confident pseudo-labels, 1 for absent classes; all 1 without balancing. */
  classWeights: Float32Array;
  /** Σ of the confident rows' class weights: the loss's denominator (0 when `empty`). */
  weightSum: number;
}

/** Pseudo-labels of the rows whose max softmax(weakLogits) is > threshold (strictly; first maximum on ties). */
export function confidentTargets(weakLogits: tf.Tensor2D, threshold: number): { rows: number[]; targets: number[] } {
  const [b, c] = weakLogits.shape;
  const prob = tf.softmax(weakLogits);
  const weakProb = prob.dataSync() as Float32Array;
  prob.dispose();
  const rows: number[] = [];
  const targets: number[] = [];
  for (let i = 0; i < b; i++) {
    let best = 0;
    for (let k = 1; k < c; k++) if (weakProb[i * c + k] > weakProb[i * c + best]) best = k;
    if (weakProb[i * c + best] > threshold) {
      rows.push(i);
      targets.push(best);
    }
  }
  return { rows, targets };
}

/** The official class-balancing weights: n / count among the n pseudo-labels, 1 for absent classes. */
export function balancingWeights(targets: ArrayLike<number>, numClasses: number): Float32Array {
  const weights = new Float32Array(numClasses).fill(1);
  const n = targets.length;
  const counts = new Int32Array(numClasses);
  for (let i = 0; i < n; i++) counts[targets[i]]++;
  // freq = 1 / (count / n), computed in float32 like the official tensor ops
  for (let k = 0; k < numClasses; k++) if (counts[k] > 0) weights[k] = 1 / Math.fround(counts[k] / n);
  return weights;
}

/**
 * Self-labeling loss, the official ConfidenceBasedCE + MaskedCrossEntropyLoss (losses/losses.py):
 * pseudo-labels are argmax softmax(weakLogits) for the rows whose max probability is > threshold
 * (strictly); the loss is the cross-entropy of the strongly augmented view's logits against them.
 * With class balancing each class weight is n / count among the n confident pseudo-labels (classes
 * absent from the batch keep weight 1), and the mean is weighted, i.e. Σ w_y·CE / Σ w_y, as
 * F.cross_entropy(weight=..., reduction='mean'). weakLogits get no gradient (the official code computes
 * them under no_grad). `classWeights` replaces the weights this batch would give: a micro-batched step passes
 * the whole batch's, so that balancing counts every confident sample as the official code does.
 */
export function confidenceBasedCE(
  weakLogits: tf.Tensor2D,
  strongLogits: tf.Tensor2D,
  threshold: number,
  applyClassBalancing: boolean,
  classWeights?: Float32Array,
): ConfidenceBasedCEResult {
  if (
    weakLogits.rank !== 2 ||
    strongLogits.rank !== 2 ||
    weakLogits.shape[0] !== strongLogits.shape[0] ||
    weakLogits.shape[1] !== strongLogits.shape[1]
  ) {
    throw new Error(
      `confidenceBasedCE: weakLogits [${weakLogits.shape}] and strongLogits [${strongLogits.shape}] must both be [batch, numClasses]`,
    );
  }
  if (!(threshold >= 0 && threshold < 1))
    throw new Error(`confidenceBasedCE: threshold = ${threshold}, expected a probability in [0, 1)`);
  const [b, c] = weakLogits.shape;
  if (classWeights !== undefined && classWeights.length !== c)
    throw new Error(`confidenceBasedCE: ${classWeights.length} class weights for ${c} classes`);
  const { rows, targets } = confidentTargets(weakLogits, threshold);
  const n = rows.length;
  const weights =
    classWeights ?? (applyClassBalancing && n > 0 ? balancingWeights(targets, c) : new Float32Array(c).fill(1));
  if (n === 0) {
    return {
      loss: tf.tidy(() => tf.add(tf.mul(tf.sum(strongLogits), 0), 0) as tf.Scalar) /* + 0 turns −0 into 0 */,
      numConfident: 0,
      empty: true,
      classWeights: weights,
      weightSum: 0,
    };
  }
  // Every row enters with weight w_i = classWeight[target_i] when confident and 0 otherwise, which is the
  // official masked_select + weighted mean without a gather on the logits (gather's gradient needs
  // UnsortedSegmentSum, which the wasm backend lacks).
  const rowWeight = new Float32Array(b);
  const rowTarget = new Int32Array(b);
  let weightSum = 0;
  rows.forEach((row, t) => {
    rowWeight[row] = weights[targets[t]];
    rowTarget[row] = targets[t];
    weightSum += rowWeight[row];
  });
  const loss = tf.tidy(() => {
    const nll = tf.neg(tf.sum(tf.mul(tf.oneHot(tf.tensor1d(rowTarget, 'int32'), c), tf.logSoftmax(strongLogits)), 1));
    const w = tf.tensor1d(rowWeight);
    return tf.div(tf.sum(tf.mul(w, nll)), tf.sum(w)) as tf.Scalar;
  });
  return { loss, numConfident: n, empty: false, classWeights: weights, weightSum };
}
