import * as tf from '@tensorflow/tfjs-core';

/** Row-wise x / max(‖x‖, 1e-12), as torch.nn.functional.normalize. */
function l2NormalizeRows(x: tf.Tensor2D): tf.Tensor2D {
  return tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12));
}

/**
 * NT-Xent as the official SimCLRLoss (losses/losses.py, after SupContrast). z1 and z2 are the two
 * views' projections [B, D]; they are L2-normalised here (the official model normalises them in its
 * forward pass, so normalising twice changes nothing). Only the FIRST view's rows are anchors: anchor i
 * is compared with all 2B projections except itself, its positive is z2[i], and the loss is the mean
 * over the B anchors of −log softmax. The official code is one-directional; so is this.
 */
export function ntXentLoss(z1: tf.Tensor2D, z2: tf.Tensor2D, temperature: number): tf.Scalar {
  if (z1.rank !== 2 || z2.rank !== 2 || z1.shape[0] !== z2.shape[0] || z1.shape[1] !== z2.shape[1]) {
    throw new Error(`ntXentLoss: z1 [${z1.shape}] and z2 [${z2.shape}] must both be [batch, dim] with the same shape`);
  }
  if (!(temperature > 0)) throw new Error(`ntXentLoss: temperature = ${temperature}, expected > 0`);
  const b = z1.shape[0];
  if (b < 1) throw new Error('ntXentLoss: empty batch');
  return tf.tidy(() => {
    const anchor = l2NormalizeRows(z1);
    const contrast = tf.concat([anchor, l2NormalizeRows(z2)], 0); // [2B, D]
    const dot = tf.div(tf.matMul(anchor, contrast, false, true), temperature); // [B, 2B]
    // Subtracting the row max only stabilises exp. The official code detaches it; tfjs-core has no
    // stop-gradient op, but the max cancels exactly in (logit − log Σ exp logit), so the gradient through
    // it sums to zero and the result is the same.
    const logits = tf.sub(dot, tf.max(dot, 1, true));
    const selfMask = tf.sub(1, tf.concat([tf.eye(b), tf.zeros([b, b])], 1)); // 0 at [i, i]
    const logDenominator = tf.log(tf.sum(tf.mul(tf.exp(logits), selfMask), 1));
    const positiveMask = tf.concat([tf.zeros([b, b]), tf.eye(b)], 1); // 1 at [i, B + i]
    const positiveLogit = tf.sum(tf.mul(logits, positiveMask), 1);
    return tf.neg(tf.mean(tf.sub(positiveLogit, logDenominator))) as tf.Scalar;
  });
}

/**
 * RotNet's 4-way rotation classification loss: mean softmax cross-entropy of logits [N, 4] against the
 * rotation index (0, 90, 180, 270 degrees → 0..3).
 */
export function rotnetLoss(logits: tf.Tensor2D, rotations: Int32Array | number[]): tf.Scalar {
  if (logits.rank !== 2 || logits.shape[1] !== 4)
    throw new Error(`rotnetLoss: logits has shape [${logits.shape}], expected [N, 4]`);
  if (rotations.length !== logits.shape[0]) {
    throw new Error(
      `rotnetLoss: ${rotations.length} rotation labels for ${logits.shape[0]} logit rows; expected one per row`,
    );
  }
  for (let i = 0; i < rotations.length; i++) {
    const r = rotations[i];
    if (!Number.isInteger(r) || r < 0 || r > 3)
      throw new Error(`rotnetLoss: rotations[${i}] = ${r}, expected 0, 1, 2 or 3`);
  }
  return tf.tidy(() => {
    const onehot = tf.oneHot(tf.tensor1d(Int32Array.from(rotations), 'int32'), 4);
    return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  });
}
