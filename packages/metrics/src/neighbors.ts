import { checkLabelRange, type Labels } from './labels';

/**
 * Share of mined neighbours that have their anchor's label, as the official
 * MemoryBank.mine_nearest_neighbors: neighbors is N × (K+1) row-major with the sample itself in
 * column 0, which is excluded. `k` (optional) scores only the first k neighbours after column 0.
 */
export function neighborAccuracy(neighbors: ArrayLike<number>, labels: Labels, opts: { k?: number } = {}): number {
  const n = labels.length;
  if (n === 0) throw new Error('neighborAccuracy: labels is empty, expected one label per sample');
  const width = neighbors.length / n;
  if (!Number.isInteger(width) || width < 2) {
    throw new Error(
      `neighborAccuracy: neighbors has ${neighbors.length} entries for ${n} labels; expected N × (K+1) with K ≥ 1`,
    );
  }
  const k = opts.k ?? width - 1;
  if (!Number.isInteger(k) || k < 1 || k > width - 1)
    throw new Error(`neighborAccuracy: k = ${k}, expected an integer in [1, ${width - 1}]`);
  checkLabelRange('neighborAccuracy', 'neighbors', neighbors, n);
  let same = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 1; j <= k; j++) if (labels[neighbors[i * width + j]] === labels[i]) same++;
  }
  return same / (n * k);
}
