// Training-mode batch normalisation with its own (fused) gradient.
//
// tfjs-core composes batch-norm training from moments + batchNorm, and its batchNorm gradient tiles
// rsqrt(variance) to the full activation shape; on wasm that made batch-norm about a quarter of a ResNet
// training step. Here the gradient is the closed form (per channel, M = elements per channel):
//   dbeta = sum(dy), dgamma = sum(dy * xhat), dx = gamma * invStd * (dy - dbeta / M - xhat * dgamma / M)
// which already contains the dependence of the batch statistics on x, so no gradient flows through the
// returned mean/variance (they are for running-average updates only). Per-channel sums are a [1, M] x [M, C]
// matrix product, which XNNPACK runs far faster than wasm's reduction over the leading axes.
import * as tf from '@tensorflow/tfjs-core';

export interface BatchNormTrainResult<T extends tf.Tensor> {
  /** normalised, scaled and shifted activations, same shape as x */
  y: T;
  /** per-channel batch mean [C] */
  mean: tf.Tensor1D;
  /** per-channel biased batch variance [C] (PyTorch's running_var uses the unbiased one: * M / (M - 1)) */
  variance: tf.Tensor1D;
}

/** Sums a [M, C] matrix over its rows as [1, C] using a matrix product with a row of ones. */
function channelSum(x2: tf.Tensor2D, ones: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(ones, x2);
}

/**
 * Batch normalisation in training mode over all axes but the last (channels-last: NHWC or [N, C]), with
 * batch statistics, like PyTorch's BatchNorm in train(). Gradients flow to x, gamma and beta.
 * @param x activations, rank >= 2, channels last
 * @param gamma scale [C]; @param beta shift [C]; @param epsilon added to the variance (PyTorch: 1e-5)
 */
export function batchNormTrain<T extends tf.Tensor>(x: T, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon = 1e-5): BatchNormTrainResult<T> {
  const channels = x.shape[x.rank - 1]!;
  if (x.rank < 2) throw new Error(`batchNormTrain: x must have rank >= 2 (channels last), got shape [${x.shape}]`);
  if (gamma.size !== channels || beta.size !== channels) {
    throw new Error(`batchNormTrain: gamma [${gamma.shape}] and beta [${beta.shape}] must have ${channels} elements (x shape [${x.shape}])`);
  }
  const count = x.size / channels;
  if (count < 2) throw new Error(`batchNormTrain: need more than 1 value per channel, got x shape [${x.shape}]`);

  let stats: { mean: tf.Tensor; variance: tf.Tensor } | undefined;
  const forward = tf.customGrad((xIn: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const ones = tf.ones([1, count]) as tf.Tensor2D;
    const x2 = tf.reshape(xIn, [count, channels]) as tf.Tensor2D;
    const mean = tf.div(channelSum(x2, ones), count);
    const centered = tf.sub(x2, mean) as tf.Tensor2D;
    const variance = tf.div(channelSum(tf.square(centered), ones), count);
    const invStd = tf.rsqrt(tf.add(variance, epsilon));
    const xhat = tf.mul(centered, invStd) as tf.Tensor2D;
    const y = tf.reshape(tf.add(tf.mul(xhat, g), b), xIn.shape);
    save([xhat, invStd, g]);
    // customGrad's forward runs in its own tidy scope: keep the statistics past it (released just below).
    stats = { mean: tf.keep(tf.reshape(mean, [channels])), variance: tf.keep(tf.reshape(variance, [channels])) };
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sXhat, sInvStd, sGamma] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
        const onesB = tf.ones([1, count]) as tf.Tensor2D;
        const dy2 = tf.reshape(dy, [count, channels]) as tf.Tensor2D;
        const dBeta = channelSum(dy2, onesB);
        const dGamma = channelSum(tf.mul(dy2, sXhat) as tf.Tensor2D, onesB);
        const k = tf.mul(sGamma, sInvStd); // [1, C]
        const dx = tf.mul(tf.sub(tf.sub(dy2, tf.div(dBeta, count)), tf.mul(sXhat, tf.div(dGamma, count))), k);
        return [tf.reshape(dx, dy.shape), tf.reshape(dGamma, [channels]), tf.reshape(dBeta, [channels])];
      },
    };
  });
  const y = forward(x, gamma, beta) as T;
  // Re-own the kept statistics in the caller's scope (a clone shares the data; disposing the kept handle
  // then leaves exactly one owner), so tf.tidy around the caller cleans them up as usual.
  const kept = stats!;
  const mean = tf.clone(kept.mean) as tf.Tensor1D;
  const variance = tf.clone(kept.variance) as tf.Tensor1D;
  kept.mean.dispose();
  kept.variance.dispose();
  return { y, mean, variance };
}

/**
 * Batch normalisation with fixed statistics (eval mode, or a frozen backbone's running averages) whose
 * gradient broadcasts per-channel factors instead of tiling them. Gradients flow to x, gamma and beta;
 * mean and variance are treated as constants (they are running averages, not parameters).
 */
export function batchNormInfer<T extends tf.Tensor>(
  x: T, mean: tf.Tensor1D, variance: tf.Tensor1D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon = 1e-5,
): T {
  const channels = x.shape[x.rank - 1]!;
  for (const [name, t] of [['mean', mean], ['variance', variance], ['gamma', gamma], ['beta', beta]] as const) {
    if (t.size !== channels) throw new Error(`batchNormInfer: ${name} [${t.shape}] must have ${channels} elements (x shape [${x.shape}])`);
  }
  const count = x.size / channels;
  const forward = tf.customGrad((xIn: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const invStd = tf.rsqrt(tf.add(variance, epsilon));
    const scale = tf.mul(g, invStd);
    const shift = tf.sub(b, tf.mul(mean, scale));
    save([xIn, scale, invStd]);
    const x2 = tf.reshape(xIn, [count, channels]);
    return {
      value: tf.reshape(tf.add(tf.mul(x2, scale), shift), xIn.shape),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sX, sScale, sInvStd] = saved as [tf.Tensor, tf.Tensor1D, tf.Tensor1D];
        const ones = tf.ones([1, count]) as tf.Tensor2D;
        const dy2 = tf.reshape(dy, [count, channels]) as tf.Tensor2D;
        const xhat = tf.mul(tf.sub(tf.reshape(sX, [count, channels]), mean), sInvStd) as tf.Tensor2D;
        const dGamma = tf.reshape(channelSum(tf.mul(dy2, xhat) as tf.Tensor2D, ones), [channels]);
        const dBeta = tf.reshape(channelSum(dy2, ones), [channels]);
        return [tf.reshape(tf.mul(dy2, sScale), dy.shape), dGamma, dBeta];
      },
    };
  });
  return forward(x, gamma, beta) as T;
}
