// The self-labeling stage's per-epoch monitor (labels are used for these numbers only, never for training).
import * as tf from '@tensorflow/tfjs-core';
import type { ScanConfig } from '@scan-repro/core';
import type { ImageSplit } from '@scan-repro/data';
import { clusterMapping } from '@scan-repro/metrics';
import type { ClusteringModel } from '@scan-repro/models';
import { extractFeatures, transformSpecFor } from '@scan-repro/train';

export interface SelflabelMonitor {
  /** Accuracy of head 0 on the val split: Hungarian, or majority vote when overclustering. */
  accuracy: number;
  /** Fraction of val images whose max probability exceeds the threshold (what would become a pseudo-label). */
  confident: number;
  /** Accuracy over the confident val images alone, with the mapping of all of them: the pseudo-labels' quality. */
  confidentAccuracy: number;
  /** Fraction of val images in the most populated cluster: 1 / numClusters when balanced, 1 when collapsed. */
  largestCluster: number;
}

/** The monitor numbers of head 0 on the val split; accuracies are NaN when the split has no labels. */
export async function monitorAccuracy(
  model: ClusteringModel,
  val: ImageSplit,
  config: ScanConfig,
  batchSize: number,
): Promise<SelflabelMonitor> {
  const probs = await extractFeatures((x) => tf.softmax(model.apply(x, false)[0]), val, {
    transform: transformSpecFor(config, 'val'),
    batchSize,
    label: 'selflabel validation',
  });
  return summarizePredictions(probs, val.labels, config.dataset.num_classes, config.selflabel.threshold);
}

/**
 * The monitor numbers from N x C probabilities (row-major): argmax clusters mapped to classes (Hungarian, or
 * majority vote when C > numClasses); accuracies are NaN when a label is outside [0, numClasses).
 */
export function summarizePredictions(
  probs: ArrayLike<number>,
  labels: ArrayLike<number>,
  numClasses: number,
  threshold: number,
): SelflabelMonitor {
  const n = labels.length;
  const c = probs.length / n;
  const pred = new Int32Array(n);
  const isConfident = new Uint8Array(n);
  const sizes = new Int32Array(c);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < c; k++) if (probs[i * c + k] > probs[i * c + best]) best = k;
    pred[i] = best;
    sizes[best]++;
    if (probs[i * c + best] > threshold) isConfident[i] = 1;
  }
  const numConfident = isConfident.reduce((a, b) => a + b, 0);
  const summary = { confident: numConfident / n, largestCluster: Math.max(...sizes) / n };
  if (!Array.from(labels).every((y) => y >= 0 && y < numClasses))
    return { accuracy: NaN, confidentAccuracy: NaN, ...summary };
  const { mapping } = clusterMapping(pred, labels, c, numClasses); // majority vote when c > numClasses
  let correct = 0;
  let confidentCorrect = 0;
  for (let i = 0; i < n; i++) {
    if (mapping[pred[i]] !== labels[i]) continue;
    correct++;
    confidentCorrect += isConfident[i];
  }
  return {
    accuracy: correct / n,
    confidentAccuracy: numConfident ? confidentCorrect / numConfident : NaN,
    ...summary,
  };
}

/**
 * Whether an epoch's confident pseudo-labels come mostly from few clusters (label-free): more than half of them in
 * one cluster, or fewer than half of the clusters with any. Self-labeling trains only on confident images, so it
 * enlarges the clusters the SCAN model is sure of, and class balancing cannot help clusters without a confident
 * image: one cluster then swallows several classes.
 */
export function pseudoLabelsConcentrated(largestFraction: number, clustersWithLabels: number, numClusters: number) {
  return clustersWithLabels > 0 && (largestFraction > 0.5 || clustersWithLabels < numClusters / 2);
}

/** The warning printed for an epoch whose pseudo-labels are concentrated (pseudoLabelsConcentrated), else null. */
export function pseudoLabelWarning(counts: ArrayLike<number>, threshold: number, epoch: number): string | null {
  const n = Array.from(counts);
  const total = n.reduce((a, b) => a + b, 0);
  const largest = Math.max(...n);
  const withLabels = n.filter((c) => c > 0).length;
  if (!pseudoLabelsConcentrated(largest / total, withLabels, n.length)) return null;
  return (
    `selflabel: epoch ${epoch}: ${((100 * largest) / total).toFixed(0)}% of the ${total} confident pseudo-labels are ` +
    `cluster ${n.indexOf(largest)} (${withLabels} of ${n.length} clusters have any): self-labeling enlarges the ` +
    `clusters the SCAN model is sure of and is likely to lower accuracy; the model is too weak for threshold ${threshold}`
  );
}
