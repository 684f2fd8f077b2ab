// Label-free head selection (official scan.py: scan_evaluate after every epoch, keep the head and epoch with
// the lowest validation SCAN loss) plus the Hungarian accuracy of every head, logged for monitoring only.
import * as tf from '@tensorflow/tfjs-core';
import { argmaxRows, mappedAccuracy } from '@scan-repro/metrics';
import type { ClusteringModel } from '@scan-repro/models';
import { scanValidationLoss } from './scan-loss';

export interface HeadEvaluation {
  /** Per head: validation SCAN loss (entropy weight 1), its consistency and entropy terms. */
  loss: number[];
  consistency: number[];
  entropy: number[];
  /** Per head: accuracy against the labels, Hungarian or majority vote (mappedAccuracy); NaN without labels. Monitoring only. */
  accuracy: number[];
}

/** Splits [N, H·C] concatenated head probabilities into H row-major [N, C] arrays. */
export function splitHeads(concatenated: Float32Array, numSamples: number, numHeads: number): Float32Array[] {
  const width = concatenated.length / numSamples;
  const c = width / numHeads;
  if (!Number.isInteger(c))
    throw new Error(
      `splitHeads: ${concatenated.length} values are not N × H × C with N = ${numSamples}, H = ${numHeads}`,
    );
  return Array.from({ length: numHeads }, (_, h) => {
    const out = new Float32Array(numSamples * c);
    for (let i = 0; i < numSamples; i++)
      out.set(concatenated.subarray(i * width + h * c, i * width + (h + 1) * c), i * c);
    return out;
  });
}

/** Eval-mode softmax of every head, concatenated along the columns ([N, H·C]); for extractFeatures. */
export function headProbabilitiesForward(model: ClusteringModel): (x: tf.Tensor4D) => tf.Tensor2D {
  return (x) =>
    tf.tidy(
      () =>
        tf.concat(
          model.apply(x, false).map((l) => tf.softmax(l)),
          1,
        ) as tf.Tensor2D,
    );
}

/**
 * Validation SCAN loss of each head from its probabilities on the val split and that split's neighbour table
 * (N × (k_val+1), itself in column 0), and each head's Hungarian accuracy for monitoring.
 */
export function evaluateHeads(
  headProbs: Float32Array[],
  valNeighbors: Int32Array,
  labels: Int32Array,
  numClasses: number,
): HeadEvaluation {
  const n = labels.length;
  const out: HeadEvaluation = { loss: [], consistency: [], entropy: [], accuracy: [] };
  const labelled = n > 0 && labels.every((y) => y >= 0 && y < numClasses);
  for (const probs of headProbs) {
    const terms = scanValidationLoss(probs, valNeighbors, n);
    out.loss.push(terms.total);
    out.consistency.push(terms.consistency);
    out.entropy.push(terms.entropy);
    const c = probs.length / n;
    out.accuracy.push(labelled ? mappedAccuracy(argmaxRows(probs, n), labels, c, numClasses) : NaN);
  }
  return out;
}

export interface BestHead {
  head: number;
  epoch: number;
  loss: number;
}

/**
 * The official rule: the epoch's lowest-loss head replaces the best so far only when its loss is strictly
 * lower (ties keep the earlier epoch, and within an epoch the lower head index, as np.argmin).
 */
export function updateBestHead(
  best: BestHead | null,
  losses: number[],
  epoch: number,
): { best: BestHead; improved: boolean } {
  if (losses.length === 0) throw new Error('updateBestHead: no head losses given');
  let head = 0;
  for (let h = 1; h < losses.length; h++) if (losses[h] < losses[head]) head = h;
  if (!Number.isFinite(losses[head]))
    throw new Error(
      `updateBestHead: lowest validation loss of epoch ${epoch} is ${losses[head]}, expected a finite number`,
    );
  if (best && !(losses[head] < best.loss)) return { best, improved: false };
  return { best: { head, epoch, loss: losses[head] }, improved: true };
}
