import * as tf from '@tensorflow/tfjs-core';
import { checkLabelRange, type Labels } from './labels';

export interface WeightedKnnOptions {
  /** Neighbours that vote (official MemoryBank.K = 100). */
  k?: number;
  /** Votes are exp(cosine / temperature) (the SimCLR configs use 0.1). */
  temperature: number;
  numClasses: number;
  /** Test rows per similarity block; bounds memory at batchSize × numTrain floats. Default 256. */
  batchSize?: number;
}

/**
 * Weighted kNN classifier, the official SimCLR monitor (MemoryBank.weighted_knn): cosine similarity of
 * every test feature to every train feature (both L2-normalised here), the k most similar train samples
 * vote for their label with weight exp(sim / temperature), and the class with the largest total wins
 * (ties → lower class id). Uses tf for the similarity blocks; the caller has initialised a backend.
 */
export function weightedKnnPredict(
  trainFeatures: Float32Array,
  trainLabels: Labels,
  testFeatures: Float32Array,
  opts: WeightedKnnOptions,
): Int32Array {
  const numTrain = trainLabels.length;
  if (numTrain === 0) throw new Error('weightedKnnPredict: trainLabels is empty');
  const d = trainFeatures.length / numTrain;
  if (!Number.isInteger(d) || d < 1) {
    throw new Error(
      `weightedKnnPredict: trainFeatures has ${trainFeatures.length} entries for ${numTrain} labels; expected numTrain × D`,
    );
  }
  const numTest = testFeatures.length / d;
  if (!Number.isInteger(numTest))
    throw new Error(`weightedKnnPredict: testFeatures has ${testFeatures.length} entries, not a multiple of D = ${d}`);
  const k = Math.min(opts.k ?? 100, numTrain);
  if (!Number.isInteger(k) || k < 1) throw new Error(`weightedKnnPredict: k = ${opts.k}, expected a positive integer`);
  if (!(opts.temperature > 0)) throw new Error(`weightedKnnPredict: temperature = ${opts.temperature}, expected > 0`);
  checkLabelRange('weightedKnnPredict', 'trainLabels', trainLabels, opts.numClasses);
  const batchSize = opts.batchSize ?? 256;
  const c = opts.numClasses;

  // Kept transposed ([D, numTrain]): the wasm backend's matMul is ~10× slower with transposeB = true.
  const bank = tf.tidy(() => tf.transpose(l2Normalize(tf.tensor2d(trainFeatures, [numTrain, d]))));
  const predictions = new Int32Array(numTest);
  const votes = new Float64Array(c);
  try {
    for (let start = 0; start < numTest; start += batchSize) {
      const rows = Math.min(batchSize, numTest - start);
      const [values, indices] = tf.tidy(() => {
        const q = l2Normalize(tf.tensor2d(testFeatures.subarray(start * d, (start + rows) * d), [rows, d]));
        const { values, indices } = tf.topk(tf.matMul(q, bank), k, true);
        return [values, indices];
      });
      const sims = values.dataSync();
      const idx = indices.dataSync();
      values.dispose();
      indices.dispose();
      for (let r = 0; r < rows; r++) {
        votes.fill(0);
        for (let t = 0; t < k; t++) votes[trainLabels[idx[r * k + t]]] += Math.exp(sims[r * k + t] / opts.temperature);
        let best = 0;
        for (let cls = 1; cls < c; cls++) if (votes[cls] > votes[best]) best = cls;
        predictions[start + r] = best;
      }
    }
  } finally {
    bank.dispose();
  }
  return predictions;
}

/** Accuracy of weightedKnnPredict on labelled test features. */
export function weightedKnnAccuracy(
  trainFeatures: Float32Array,
  trainLabels: Labels,
  testFeatures: Float32Array,
  testLabels: Labels,
  opts: WeightedKnnOptions,
): number {
  const pred = weightedKnnPredict(trainFeatures, trainLabels, testFeatures, opts);
  if (pred.length !== testLabels.length) {
    throw new Error(
      `weightedKnnAccuracy: testFeatures has ${pred.length} rows but testLabels has ${testLabels.length}`,
    );
  }
  if (pred.length === 0) throw new Error('weightedKnnAccuracy: no test samples');
  let correct = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === testLabels[i]) correct++;
  return correct / pred.length;
}

/** Row-wise x / max(‖x‖, 1e-12) (torch.nn.functional.normalize). */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12)));
}
