import { createRng } from '@scan-repro/core';

export interface KMeansOptions {
  seed: number;
  /** Independent restarts; the lowest inertia wins (sklearn's n_init). Default 10. */
  nInit?: number;
  /** Lloyd iterations per restart. Default 300 (sklearn's default). */
  maxIter?: number;
}

export interface KMeansResult {
  labels: Int32Array;
  /** k × d row-major. */
  centroids: Float64Array;
  /** Sum of squared distances of samples to their centroid. */
  inertia: number;
  /** Lloyd iterations of the winning restart. */
  iterations: number;
}

/**
 * K-means (the paper's "pretext + K-means" baseline): greedy k-means++ seeding as in scikit-learn
 * (2 + ⌊ln k⌋ candidates per centre, keep the one that lowers the potential most), then Lloyd
 * iterations until the assignment stops changing. Empty clusters are re-seeded with the point farthest
 * from its centroid. Deterministic for a given seed. features is n × d row-major.
 */
export function kmeans(
  features: ArrayLike<number>,
  n: number,
  d: number,
  k: number,
  opts: KMeansOptions,
): KMeansResult {
  if (!Number.isInteger(n) || !Number.isInteger(d) || n < 1 || d < 1)
    throw new Error(`kmeans: n = ${n}, d = ${d}, expected positive integers`);
  if (features.length !== n * d)
    throw new Error(`kmeans: features has ${features.length} entries, expected n × d = ${n} × ${d}`);
  if (!Number.isInteger(k) || k < 1 || k > n) throw new Error(`kmeans: k = ${k}, expected an integer in [1, n = ${n}]`);
  const nInit = opts.nInit ?? 10;
  const maxIter = opts.maxIter ?? 300;
  if (!Number.isInteger(nInit) || nInit < 1) throw new Error(`kmeans: nInit = ${nInit}, expected a positive integer`);
  if (!Number.isInteger(maxIter) || maxIter < 1)
    throw new Error(`kmeans: maxIter = ${maxIter}, expected a positive integer`);
  const x = Float64Array.from(features);
  for (let i = 0; i < x.length; i++)
    if (!Number.isFinite(x[i])) throw new Error(`kmeans: features[${i}] = ${x[i]}, expected a finite number`);
  const rng = createRng(opts.seed);
  let best: KMeansResult | null = null;
  for (let run = 0; run < nInit; run++) {
    const centroids = kmeansPlusPlus(x, n, d, k, () => rng.next());
    const result = lloyd(x, n, d, k, centroids, maxIter);
    if (best === null || result.inertia < best.inertia) best = result;
  }
  return best!;
}

function sqDist(x: Float64Array, i: number, c: Float64Array, j: number, d: number): number {
  let s = 0;
  const xo = i * d;
  const co = j * d;
  for (let t = 0; t < d; t++) {
    const diff = x[xo + t] - c[co + t];
    s += diff * diff;
  }
  return s;
}

function kmeansPlusPlus(x: Float64Array, n: number, d: number, k: number, random: () => number): Float64Array {
  const centroids = new Float64Array(k * d);
  const trials = 2 + Math.floor(Math.log(k));
  const first = Math.min(n - 1, Math.floor(random() * n));
  centroids.set(x.subarray(first * d, first * d + d), 0);
  const closest = new Float64Array(n);
  let potential = 0;
  for (let i = 0; i < n; i++) {
    closest[i] = sqDist(x, i, centroids, 0, d);
    potential += closest[i];
  }
  const cumulative = new Float64Array(n);
  const candidateDist = new Float64Array(n);
  const bestDist = new Float64Array(n);
  for (let c = 1; c < k; c++) {
    let acc = 0;
    for (let i = 0; i < n; i++) cumulative[i] = acc += closest[i];
    let bestPotential = Infinity;
    let bestCandidate = 0;
    for (let t = 0; t < trials; t++) {
      // searchsorted(cumulative, u · potential), clipped to the last index (as sklearn)
      const target = random() * potential;
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cumulative[mid] < target) lo = mid + 1;
        else hi = mid;
      }
      let pot = 0;
      for (let i = 0; i < n; i++) {
        let dist = 0;
        for (let s = 0; s < d; s++) {
          const diff = x[i * d + s] - x[lo * d + s];
          dist += diff * diff;
        }
        candidateDist[i] = Math.min(closest[i], dist);
        pot += candidateDist[i];
      }
      if (pot < bestPotential) {
        bestPotential = pot;
        bestCandidate = lo;
        bestDist.set(candidateDist);
      }
    }
    centroids.set(x.subarray(bestCandidate * d, bestCandidate * d + d), c * d);
    closest.set(bestDist);
    potential = bestPotential;
  }
  return centroids;
}

function lloyd(
  x: Float64Array,
  n: number,
  d: number,
  k: number,
  centroids: Float64Array,
  maxIter: number,
): KMeansResult {
  const labels = new Int32Array(n).fill(-1);
  const dist = new Float64Array(n);
  const sizes = new Int32Array(k);
  let inertia = 0;
  let iterations = 0;
  for (let iter = 0; ; iter++) {
    // Assignment step (ties → lower centroid id).
    let changed = 0;
    inertia = 0;
    for (let i = 0; i < n; i++) {
      let bestJ = 0;
      let bestD = Infinity;
      for (let j = 0; j < k; j++) {
        const dd = sqDist(x, i, centroids, j, d);
        if (dd < bestD) {
          bestD = dd;
          bestJ = j;
        }
      }
      if (labels[i] !== bestJ) changed++;
      labels[i] = bestJ;
      dist[i] = bestD;
      inertia += bestD;
    }
    iterations = iter;
    // Stop when converged, or after maxIter updates (labels and inertia then match the final centroids).
    if (changed === 0 || iter === maxIter) break;
    // Update step.
    centroids.fill(0);
    sizes.fill(0);
    for (let i = 0; i < n; i++) {
      const j = labels[i];
      sizes[j]++;
      for (let t = 0; t < d; t++) centroids[j * d + t] += x[i * d + t];
    }
    for (let j = 0; j < k; j++) {
      if (sizes[j] === 0) {
        // Re-seed an empty cluster with the worst-fit point, then stop that point from being reused.
        let far = 0;
        for (let i = 1; i < n; i++) if (dist[i] > dist[far]) far = i;
        centroids.set(x.subarray(far * d, far * d + d), j * d);
        dist[far] = -1;
        labels[far] = -1; // forces another assignment pass
        continue;
      }
      for (let t = 0; t < d; t++) centroids[j * d + t] /= sizes[j];
    }
  }
  return { labels, centroids, inertia, iterations };
}
