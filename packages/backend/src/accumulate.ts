// Micro-batch gradient accumulation: the paper's batches (512 for SimCLR/SCAN, 1000 for self-labelling) do not
// fit the 4 GiB wasm heap at full width, so a step runs the loss on micro-batches and combines their gradients.
import * as tf from '@tensorflow/tfjs-core';

export interface AccumulatedGradients {
  /** weighted mean of the micro-batch losses */
  value: tf.Scalar;
  /** weighted mean of the micro-batch gradients, keyed by variable name (like tf.variableGrads) */
  grads: tf.NamedTensorMap;
}

export interface AccumulateOptions<B> {
  /**
   * Weight of a micro-batch in the mean (default 1 each). For a loss that is a mean over samples, pass the
   * micro-batch size (e.g. `(b) => b.size`): the result is then exactly the full-batch gradient, whatever the
   * split. Losses that couple samples across the batch (SCAN's entropy of the mean prediction, NT-Xent
   * negatives, batch-norm statistics) are only approximated by accumulation.
   */
  weightOf?: (batch: B, index: number) => number;
}

/**
 * Runs `lossFn` on each micro-batch, takes the gradients of its scalar loss with respect to `vars` (default:
 * all trainable variables) and returns their weighted mean. Only one micro-batch's activations are alive at a
 * time. Variables that no micro-batch's loss depends on are absent from `grads` (as with tf.variableGrads).
 */
export function accumulateGradients<B>(
  microBatches: Iterable<B>,
  lossFn: (batch: B, index: number) => tf.Scalar,
  vars?: tf.Variable[],
  opts: AccumulateOptions<B> = {},
): AccumulatedGradients {
  const weightOf = opts.weightOf ?? (() => 1);
  let sums: Record<string, tf.Tensor> = {};
  let lossSum: tf.Scalar = tf.scalar(0);
  let totalWeight = 0;
  let index = 0;
  for (const batch of microBatches) {
    const weight = weightOf(batch, index);
    if (!Number.isFinite(weight) || weight <= 0) {
      throw new Error(
        `accumulateGradients: weight of micro-batch ${index} is ${weight}, expected a positive finite number`,
      );
    }
    const { value, grads } = tf.variableGrads(() => lossFn(batch, index), vars);
    const next = tf.tidy(() => {
      const out: Record<string, tf.Tensor> = { ...sums };
      for (const [name, grad] of Object.entries(grads)) {
        const scaled = tf.mul(grad, weight);
        out[name] = sums[name] ? tf.add(sums[name]!, scaled) : scaled;
      }
      return out;
    });
    const nextLoss = tf.tidy(() => tf.add(lossSum, tf.mul(value, weight)) as tf.Scalar);
    for (const [name, old] of Object.entries(sums)) if (next[name] !== old) old.dispose();
    tf.dispose([lossSum, value, ...Object.values(grads)]);
    sums = next;
    lossSum = nextLoss;
    totalWeight += weight;
    index++;
  }
  if (index === 0) {
    lossSum.dispose();
    throw new Error('accumulateGradients: got no micro-batches, expected at least one');
  }
  const result = tf.tidy(() => {
    const grads: tf.NamedTensorMap = {};
    for (const [name, sum] of Object.entries(sums)) grads[name] = tf.div(sum, totalWeight);
    return { value: tf.div(lossSum, totalWeight) as tf.Scalar, grads };
  });
  tf.dispose([lossSum, ...Object.values(sums)]);
  return result;
}

/** Consecutive [start, start + size) ranges covering `batchSize` items in pieces of at most `microBatchSize`. */
export function microBatchRanges(batchSize: number, microBatchSize: number): { start: number; size: number }[] {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`microBatchRanges: batchSize ${batchSize} must be a positive integer`);
  if (!Number.isInteger(microBatchSize) || microBatchSize < 1) {
    throw new Error(`microBatchRanges: microBatchSize ${microBatchSize} must be a positive integer`);
  }
  const ranges = [];
  for (let start = 0; start < batchSize; start += microBatchSize)
    ranges.push({ start, size: Math.min(microBatchSize, batchSize - start) });
  return ranges;
}
