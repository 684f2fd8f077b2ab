// Clustering metrics of the official eval protocol (reference §4) and the prototype choice of eval.py.
import {
  ami,
  argmaxRows,
  ari,
  clusterAccuracy,
  clusterMapping,
  confusionMatrix,
  applyMapping,
  nmi,
  top5Accuracy,
  type MappingRule,
} from '@scan-repro/metrics';

export interface ClusterEvaluation {
  /** 'hungarian' (one-to-one) or 'majority' (many-to-one; always used when clusters > classes). */
  mapping: MappingRule;
  /** Cluster → class. */
  clusterToClass: Int32Array;
  acc: number;
  nmi: number;
  ari: number;
  ami: number;
  /** Top-5 through the same mapping, when asked for and there are >= 5 clusters. */
  top5?: number;
  /** numClasses × numClasses, rows = true class, columns = mapped prediction. */
  confusion: Int32Array;
}

/**
 * ACC through the configured mapping (Hungarian one-to-one as the official hungarian_evaluate, or the
 * many-to-one majority vote used for overclustering), NMI / ARI / AMI on the raw cluster ids (permutation
 * invariant), top-5 and the confusion matrix through the same mapping.
 */
export function evaluateClustering(
  pred: Int32Array,
  target: Int32Array,
  numClusters: number,
  numClasses: number,
  opts: { mapping: MappingRule; probs?: ArrayLike<number>; top5?: boolean },
): ClusterEvaluation {
  const { rule: mapping, mapping: clusterToClass } = clusterMapping(
    pred,
    target,
    numClusters,
    numClasses,
    opts.mapping,
  );
  const mapped = applyMapping(pred, clusterToClass);
  const out: ClusterEvaluation = {
    mapping,
    clusterToClass,
    acc: clusterAccuracy(pred, target, { mapping: clusterToClass }),
    nmi: nmi(target, pred),
    ari: ari(target, pred),
    ami: ami(target, pred),
    // clusters without a class (more clusters than classes under Hungarian cannot happen: majority is used)
    confusion: confusionMatrix(
      Int32Array.from(mapped, (m) => (m < 0 ? 0 : m)),
      target,
      numClasses,
    ),
  };
  if (opts.top5 && opts.probs && numClusters >= 5) out.top5 = top5Accuracy(opts.probs, target, clusterToClass);
  return out;
}

/**
 * Prototype per cluster (official eval.py --visualize_prototypes): the `topk` most confident samples predicted
 * as that cluster, then the one of them closest (L2) to their mean feature. Unlike the official code, which
 * pads a small cluster with samples of other clusters (their confidence masked to −1), only members are used;
 * an empty cluster gets −1.
 */
export function prototypeIndices(
  probs: ArrayLike<number>,
  features: ArrayLike<number>,
  n: number,
  topk: number,
): Int32Array {
  const c = probs.length / n;
  const d = features.length / n;
  if (!Number.isInteger(c) || !Number.isInteger(d))
    throw new Error(
      `prototypeIndices: probs (${probs.length}) and features (${features.length}) are not N × C and N × D with N = ${n}`,
    );
  const pred = argmaxRows(probs, n);
  const out = new Int32Array(c).fill(-1);
  for (let k = 0; k < c; k++) {
    const members: number[] = [];
    for (let i = 0; i < n; i++) if (pred[i] === k) members.push(i);
    if (members.length === 0) continue;
    members.sort((a, b) => probs[b * c + k] - probs[a * c + k] || a - b);
    const top = members.slice(0, topk);
    const mean = new Float64Array(d);
    for (const i of top) for (let j = 0; j < d; j++) mean[j] += features[i * d + j] / top.length;
    let best = top[0],
      bestDist = Infinity;
    for (const i of top) {
      let dist = 0;
      for (let j = 0; j < d; j++) dist += (features[i * d + j] - mean[j]) ** 2;
      if (dist < bestDist) {
        bestDist = dist;
        best = i;
      }
    }
    out[k] = best;
  }
  return out;
}

/** Index of the nearest centroid (squared L2) for each of the n rows. */
export function assignToCentroids(
  features: ArrayLike<number>,
  n: number,
  centroids: ArrayLike<number>,
  k: number,
): Int32Array {
  const d = features.length / n;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0,
      bestDist = Infinity;
    for (let c = 0; c < k; c++) {
      let dist = 0;
      for (let j = 0; j < d; j++) dist += (features[i * d + j] - centroids[c * d + j]) ** 2;
      if (dist < bestDist) {
        bestDist = dist;
        best = c;
      }
    }
    out[i] = best;
  }
  return out;
}
