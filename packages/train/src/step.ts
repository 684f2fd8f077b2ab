// One optimisation step over a batch split into micro-batches (gradient accumulation), so that the paper's
// batch sizes (512, 1000) fit in a 4 GiB wasm heap.
import * as tf from '@tensorflow/tfjs-core';
import { accumulateGradients, microBatchRanges } from '@scan-repro/backend';
import type { Optimizer } from './optimizer';

export interface TrainStepOptions<B> {
  /** The parameters to update, by name (those with trainable = false get no gradient and are not updated). */
  params: Map<string, tf.Variable>;
  optimizer: Optimizer;
  /** The micro-batches of one batch (use microBatchRanges to cut a batch). */
  microBatches: Iterable<B>;
  /** Scalar loss of one micro-batch; runs under the gradient tape. */
  loss: (batch: B, index: number) => tf.Scalar;
  /** Weight of a micro-batch in the mean (default: equal). Pass the micro-batch size for per-sample means. */
  weightOf?: (batch: B, index: number) => number;
  lr?: number;
}

/** Accumulates the gradients over the micro-batches, applies one optimizer step, returns the (mean) loss. */
export function trainStep<B>(opts: TrainStepOptions<B>): number {
  const vars = [...opts.params.values()].filter((v) => v.trainable);
  if (vars.length === 0) throw new Error('trainStep: no trainable parameters');
  const { value, grads } = accumulateGradients(opts.microBatches, opts.loss, vars, { weightOf: opts.weightOf });
  try {
    opts.optimizer.step(grads, opts.lr);
    return value.dataSync()[0];
  } finally {
    tf.dispose([value, ...Object.values(grads)]);
  }
}

/** Splits `count` rows into micro-batch ranges; microBatch 0 (or >= count) means one piece. */
export function microBatches(count: number, microBatch: number): { start: number; size: number }[] {
  return microBatchRanges(count, microBatch > 0 ? microBatch : count);
}
