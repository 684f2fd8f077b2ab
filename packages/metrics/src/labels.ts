/** Input checks shared by the metrics: labels are integer arrays, one entry per sample. */
export type Labels = ArrayLike<number>;

export function checkSameLength(what: string, a: Labels, b: Labels, aName = 'pred', bName = 'target'): void {
  if (a.length !== b.length) {
    throw new Error(
      `${what}: ${aName} has ${a.length} entries but ${bName} has ${b.length}; expected one label per sample in both`,
    );
  }
}

/** Throws unless every label is an integer in [0, count). */
export function checkLabelRange(what: string, name: string, labels: Labels, count: number): void {
  if (!Number.isInteger(count) || count <= 0)
    throw new Error(`${what}: ${name} count must be a positive integer, got ${count}`);
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (!Number.isInteger(v) || v < 0 || v >= count) {
      throw new Error(`${what}: ${name}[${i}] = ${v}, expected an integer in [0, ${count})`);
    }
  }
}

/** Per row of a row-major [n, c] matrix (class probabilities, scores), the index of its largest entry (first on ties). */
export function argmaxRows(values: ArrayLike<number>, n: number): Int32Array {
  const c = values.length / n;
  if (!Number.isInteger(c)) throw new Error(`argmaxRows: ${values.length} values do not split into ${n} rows`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < c; k++) if (values[i * c + k]! > values[i * c + best]!) best = k;
    out[i] = best;
  }
  return out;
}

/**
 * Counts[cluster * numClasses + class]: how many samples with predicted cluster `cluster` have true
 * class `class` (the official _hungarian_match's num_correct matrix).
 */
export function contingencyMatrix(pred: Labels, target: Labels, numClusters: number, numClasses: number): Int32Array {
  checkSameLength('contingencyMatrix', pred, target);
  checkLabelRange('contingencyMatrix', 'pred', pred, numClusters);
  checkLabelRange('contingencyMatrix', 'target', target, numClasses);
  const counts = new Int32Array(numClusters * numClasses);
  for (let i = 0; i < pred.length; i++) counts[pred[i] * numClasses + target[i]]++;
  return counts;
}

/**
 * Confusion matrix with sklearn's orientation: entry [trueClass * numClasses + predictedClass].
 * `predicted` are class ids (after a cluster → class mapping), so both axes have numClasses entries.
 */
export function confusionMatrix(predicted: Labels, target: Labels, numClasses: number): Int32Array {
  checkSameLength('confusionMatrix', predicted, target, 'predicted');
  checkLabelRange('confusionMatrix', 'predicted', predicted, numClasses);
  checkLabelRange('confusionMatrix', 'target', target, numClasses);
  const m = new Int32Array(numClasses * numClasses);
  for (let i = 0; i < target.length; i++) m[target[i] * numClasses + predicted[i]]++;
  return m;
}

/** Relabels arbitrary integer labels to 0..k-1 in ascending order of value (like np.unique's inverse). */
export function compactLabels(what: string, name: string, labels: Labels): { ids: Int32Array; count: number } {
  const values: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    if (!Number.isInteger(labels[i]))
      throw new Error(`${what}: ${name}[${i}] = ${labels[i]}, expected an integer label`);
  }
  const seen = new Set<number>();
  for (let i = 0; i < labels.length; i++) {
    if (!seen.has(labels[i])) {
      seen.add(labels[i]);
      values.push(labels[i]);
    }
  }
  values.sort((a, b) => a - b);
  const index = new Map<number, number>();
  values.forEach((v, k) => index.set(v, k));
  const ids = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) ids[i] = index.get(labels[i])!;
  return { ids, count: values.length };
}
