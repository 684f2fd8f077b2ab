import * as tf from '@tensorflow/tfjs-core';

/** Official losses.py EPS: probabilities are clamped to it before the entropy's log. */
export const SCAN_ENTROPY_EPS = 1e-8;
/** torch.nn.BCELoss clamps its logs at -100 so that a zero similarity gives a finite loss. */
const BCE_LOG_CLAMP = -100;

export interface ScanLossTerms<T> {
  /** consistency − entropyWeight · entropy: the value to minimise. */
  total: T;
  /** Mean over anchors of −log⟨softmax(anchor), softmax(neighbour)⟩. */
  consistency: T;
  /** Entropy (nats) of the batch-mean anchor distribution; maximised, at most log C. */
  entropy: T;
}

function checkLogits(name: string, t: tf.Tensor): void {
  if (t.rank !== 2) throw new Error(`scanLoss: ${name} has shape [${t.shape}], expected [batch, numClusters]`);
}

/**
 * The SCAN loss for one head and one mini-batch, as the official SCANLoss (losses/losses.py): the
 * consistency term is torch's BCE between the anchor–neighbour dot product of softmax vectors and 1,
 * the entropy term uses the mean of the anchors' softmax (clamped at 1e-8), and
 * total = consistency − entropyWeight · entropy (λ = 5 in every released config).
 * Differentiable with respect to both logit tensors.
 */
export function scanLoss(
  anchorLogits: tf.Tensor2D,
  neighborLogits: tf.Tensor2D,
  entropyWeight: number,
): ScanLossTerms<tf.Scalar> {
  checkLogits('anchorLogits', anchorLogits);
  checkLogits('neighborLogits', neighborLogits);
  if (anchorLogits.shape[0] !== neighborLogits.shape[0] || anchorLogits.shape[1] !== neighborLogits.shape[1]) {
    throw new Error(
      `scanLoss: anchorLogits [${anchorLogits.shape}] and neighborLogits [${neighborLogits.shape}] must have the same shape`,
    );
  }
  if (!Number.isFinite(entropyWeight))
    throw new Error(`scanLoss: entropyWeight = ${entropyWeight}, expected a finite number`);
  return tf.tidy(() => {
    // log⟨softmax(a), softmax(n)⟩ taken in log space (logsumexp of summed log-softmaxes): the same value
    // as the official log of the dot product, but it cannot underflow to log 0, so the gradient stays
    // finite where the float32 dot product would be 0 (torch's BCE then also clamps the log at −100).
    const logSimilarity = tf.logSumExp(tf.add(tf.logSoftmax(anchorLogits), tf.logSoftmax(neighborLogits)), 1);
    const consistency = tf.neg(tf.mean(tf.maximum(logSimilarity, BCE_LOG_CLAMP))) as tf.Scalar;
    const anchorsProb = tf.softmax(anchorLogits);
    const meanProb = tf.maximum(tf.mean(anchorsProb, 0), SCAN_ENTROPY_EPS);
    const entropy = tf.neg(tf.sum(tf.mul(meanProb, tf.log(meanProb)))) as tf.Scalar;
    const total = tf.sub(consistency, tf.mul(entropyWeight, entropy)) as tf.Scalar;
    return { total, consistency, entropy };
  });
}

/**
 * The label-free validation loss the official scan_evaluate uses to pick the best head and epoch:
 * every (anchor, neighbour) pair of the val split's neighbour table (N × (K+1), the sample itself in
 * column 0, which the official code keeps) enters the BCE consistency term, the entropy is that of
 * the mean of all probabilities, and total = consistency − entropy (entropy weight 1, as in the
 * official code). probs is N × C softmax output, row-major. Computed in float64.
 */
export function scanValidationLoss(
  probs: ArrayLike<number>,
  neighbors: ArrayLike<number>,
  numSamples: number,
): ScanLossTerms<number> {
  const n = numSamples;
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`scanValidationLoss: numSamples = ${n}, expected a positive integer`);
  const c = probs.length / n;
  const width = neighbors.length / n;
  if (!Number.isInteger(c) || c < 1)
    throw new Error(`scanValidationLoss: probs has ${probs.length} entries, expected N × C with N = ${n}`);
  if (!Number.isInteger(width) || width < 1)
    throw new Error(`scanValidationLoss: neighbors has ${neighbors.length} entries, expected N × (K+1) with N = ${n}`);
  let consistency = 0;
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < width; t++) {
      const j = neighbors[i * width + t];
      if (!Number.isInteger(j) || j < 0 || j >= n)
        throw new Error(`scanValidationLoss: neighbors[${i * width + t}] = ${j}, expected an index in [0, ${n})`);
      let dot = 0;
      for (let k = 0; k < c; k++) dot += probs[i * c + k] * probs[j * c + k];
      consistency -= Math.max(Math.log(dot), BCE_LOG_CLAMP);
    }
  }
  consistency /= n * width;
  let entropy = 0;
  for (let k = 0; k < c; k++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += probs[i * c + k];
    const p = Math.max(mean / n, SCAN_ENTROPY_EPS);
    entropy -= p * Math.log(p);
  }
  return { total: consistency - entropy, consistency, entropy };
}
