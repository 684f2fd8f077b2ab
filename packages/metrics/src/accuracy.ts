import { linearSumAssignment } from './assignment';
import { checkLabelRange, checkSameLength, contingencyMatrix, type Labels } from './labels';

/** mapping[cluster] = class id, or -1 for a cluster that maps to no class (always counted wrong). */
export type ClusterMapping = Int32Array;

/**
 * One-to-one cluster → class matching that maximises the number of matched samples: scipy's
 * linear_sum_assignment on (N − counts), as the official `_hungarian_match` (after IIC). With more
 * clusters than classes the surplus clusters map to -1; with fewer, some classes stay unmatched.
 */
export function hungarianMatch(pred: Labels, target: Labels, numClusters: number, numClasses: number): ClusterMapping {
  const counts = contingencyMatrix(pred, target, numClusters, numClasses);
  const n = pred.length;
  const cost = new Float64Array(counts.length);
  for (let i = 0; i < counts.length; i++) cost[i] = n - counts[i];
  const { rowInd, colInd } = linearSumAssignment(cost, numClusters, numClasses);
  const mapping = new Int32Array(numClusters).fill(-1);
  for (let i = 0; i < rowInd.length; i++) mapping[rowInd[i]] = colInd[i];
  return mapping;
}

/**
 * Many-to-one mapping used for overclustering: each cluster goes to the class most of its samples
 * have (ties → lower class id, like np.argmax). Empty clusters map to -1.
 */
export function majorityVoteMapping(
  pred: Labels,
  target: Labels,
  numClusters: number,
  numClasses: number,
): ClusterMapping {
  const counts = contingencyMatrix(pred, target, numClusters, numClasses);
  const mapping = new Int32Array(numClusters).fill(-1);
  for (let k = 0; k < numClusters; k++) {
    let best = 0;
    for (let c = 0; c < numClasses; c++) {
      if (counts[k * numClasses + c] > best) {
        best = counts[k * numClasses + c];
        mapping[k] = c;
      }
    }
  }
  return mapping;
}

/** Applies a cluster → class mapping to every prediction. */
export function applyMapping(pred: Labels, mapping: ClusterMapping): Int32Array {
  checkLabelRange('applyMapping', 'pred', pred, mapping.length);
  return Int32Array.from(pred as ArrayLike<number>, (p) => mapping[p]);
}

/** Fraction of samples whose mapped cluster equals the target class. */
export function clusterAccuracy(pred: Labels, target: Labels, opts: { mapping: ClusterMapping }): number {
  checkSameLength('clusterAccuracy', pred, target);
  if (pred.length === 0) throw new Error('clusterAccuracy: no samples (pred and target are empty)');
  checkLabelRange('clusterAccuracy', 'pred', pred, opts.mapping.length);
  let correct = 0;
  for (let i = 0; i < pred.length; i++) if (opts.mapping[pred[i]] === target[i]) correct++;
  return correct / pred.length;
}

/** Hungarian (one-to-one) accuracy, the paper's ACC. */
export function hungarianAccuracy(pred: Labels, target: Labels, numClusters: number, numClasses: number): number {
  return clusterAccuracy(pred, target, { mapping: hungarianMatch(pred, target, numClusters, numClasses) });
}

/** How clusters map to classes: one-to-one (Hungarian, the paper's ACC) or many-to-one (majority vote). */
export type MappingRule = 'hungarian' | 'majority';

/**
 * The cluster → class mapping under `rule`. With more clusters than classes (overclustering) it is always the
 * majority vote: a one-to-one match would leave the surplus clusters counted wrong.
 */
export function clusterMapping(
  pred: Labels,
  target: Labels,
  numClusters: number,
  numClasses: number,
  rule: MappingRule = 'hungarian',
): { rule: MappingRule; mapping: ClusterMapping } {
  const used: MappingRule = rule === 'majority' || numClusters > numClasses ? 'majority' : 'hungarian';
  const mapping =
    used === 'majority'
      ? majorityVoteMapping(pred, target, numClusters, numClasses)
      : hungarianMatch(pred, target, numClusters, numClasses);
  return { rule: used, mapping };
}

/** Accuracy through clusterMapping: Hungarian, or the majority vote when there are more clusters than classes. */
export function mappedAccuracy(
  pred: Labels,
  target: Labels,
  numClusters: number,
  numClasses: number,
  rule: MappingRule = 'hungarian',
): number {
  return clusterAccuracy(pred, target, {
    mapping: clusterMapping(pred, target, numClusters, numClasses, rule).mapping,
  });
}

/**
 * ImageNet Top-5 as the official hungarian_evaluate: a sample counts as correct when one of its five
 * highest-probability clusters, mapped through the same cluster → class matching, is its class.
 * probs is N × numClusters row-major, with numClusters = mapping.length. Equal probabilities rank the
 * lower cluster id first.
 */
export function top5Accuracy(probs: ArrayLike<number>, target: Labels, mapping: ClusterMapping): number {
  const numClusters = mapping.length;
  const n = target.length;
  if (n === 0) throw new Error('top5Accuracy: no samples (target is empty)');
  if (probs.length !== n * numClusters) {
    throw new Error(
      `top5Accuracy: probs has ${probs.length} entries, expected N × numClusters = ${n} × ${numClusters}`,
    );
  }
  const topK = Math.min(5, numClusters);
  const best = new Int32Array(topK);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const row = i * numClusters;
    let filled = 0;
    // Small insertion-sorted buffer of the topK cluster ids (descending prob, ascending id on ties).
    for (let k = 0; k < numClusters; k++) {
      const p = probs[row + k];
      if (filled === topK && !(p > probs[row + best[topK - 1]])) continue;
      let pos = filled === topK ? topK - 1 : filled++;
      while (pos > 0 && p > probs[row + best[pos - 1]]) {
        best[pos] = best[pos - 1];
        pos--;
      }
      best[pos] = k;
    }
    for (let t = 0; t < topK; t++) {
      if (mapping[best[t]] === target[i]) {
        correct++;
        break;
      }
    }
  }
  return correct / n;
}
