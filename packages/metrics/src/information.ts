/**
 * Label-permutation-invariant clustering scores, written to give the same numbers as scikit-learn
 * (normalized_mutual_info_score and adjusted_mutual_info_score with the default arithmetic mean,
 * adjusted_rand_score), special cases included. Labels may be any integers; they are compacted first.
 */
import { checkSameLength, compactLabels, type Labels } from './labels';

const EPS = 2.220446049250313e-16; // np.finfo(float64).eps

interface Table {
  n: number;
  rows: number; // distinct true labels
  cols: number; // distinct predicted labels
  counts: Float64Array; // rows × cols
  a: Float64Array; // row sums
  b: Float64Array; // column sums
}

function table(what: string, target: Labels, pred: Labels): Table {
  checkSameLength(what, pred, target);
  const t = compactLabels(what, 'target', target);
  const p = compactLabels(what, 'pred', pred);
  const counts = new Float64Array(t.count * p.count);
  for (let i = 0; i < t.ids.length; i++) counts[t.ids[i] * p.count + p.ids[i]]++;
  const a = new Float64Array(t.count);
  const b = new Float64Array(p.count);
  for (let r = 0; r < t.count; r++) {
    for (let c = 0; c < p.count; c++) {
      a[r] += counts[r * p.count + c];
      b[c] += counts[r * p.count + c];
    }
  }
  return { n: t.ids.length, rows: t.count, cols: p.count, counts, a, b };
}

/** Entropy (nats) of a labelling from its class sizes, as sklearn's _entropy. */
function entropyOfCounts(sizes: Float64Array, n: number): number {
  if (sizes.length <= 1) return 0;
  const logN = Math.log(n);
  let h = 0;
  for (const s of sizes) if (s > 0) h -= (s / n) * (Math.log(s) - logN);
  return h;
}

function mutualInfo(t: Table): number {
  if (t.rows === 1 || t.cols === 1) return 0;
  const { n, counts, a, b, cols } = t;
  const logN = Math.log(n);
  let mi = 0;
  for (let r = 0; r < t.rows; r++) {
    for (let c = 0; c < cols; c++) {
      const nij = counts[r * cols + c];
      if (nij === 0) continue;
      // Same term split as sklearn, then its |term| < eps → 0 rule.
      const pij = nij / n;
      const term = pij * (Math.log(nij) - logN) + pij * (-Math.log(a[r] * b[c]) + logN + logN);
      if (Math.abs(term) >= EPS) mi += term;
    }
  }
  return Math.max(mi, 0);
}

/** Mutual information (nats) between two labellings (sklearn mutual_info_score). */
export function mutualInformation(target: Labels, pred: Labels): number {
  return mutualInfo(table('mutualInformation', target, pred));
}

/** sklearn normalized_mutual_info_score(target, pred) with average_method='arithmetic'. */
export function nmi(target: Labels, pred: Labels): number {
  const t = table('nmi', target, pred);
  if ((t.rows === 1 && t.cols === 1) || (t.rows === 0 && t.cols === 0)) return 1;
  const mi = mutualInfo(t);
  if (mi === 0) return 0;
  const normalizer = Math.max((entropyOfCounts(t.a, t.n) + entropyOfCounts(t.b, t.n)) / 2, EPS);
  return mi / normalizer;
}

/** sklearn adjusted_rand_score(target, pred), via the pair confusion matrix (exact integer arithmetic). */
export function ari(target: Labels, pred: Labels): number {
  const t = table('ari', target, pred);
  const n = BigInt(t.n);
  let sumSquares = 0n;
  let sumRowWeighted = 0n; // Σ nij · b_j
  let sumColWeighted = 0n; // Σ nij · a_i
  for (let r = 0; r < t.rows; r++) {
    for (let c = 0; c < t.cols; c++) {
      const nij = BigInt(t.counts[r * t.cols + c]);
      if (nij === 0n) continue;
      sumSquares += nij * nij;
      sumRowWeighted += nij * BigInt(t.b[c]);
      sumColWeighted += nij * BigInt(t.a[r]);
    }
  }
  const tp = sumSquares - n;
  const fp = sumRowWeighted - sumSquares;
  const fn = sumColWeighted - sumSquares;
  const tn = n * n - fp - fn - sumSquares;
  if (fn === 0n && fp === 0n) return 1;
  const num = 2n * (tp * tn - fn * fp);
  const den = (tp + fn) * (fn + tn) + (tp + fp) * (fp + tn);
  return Number(num) / Number(den);
}

/** log(k!) accurate to ~1e-15 relative: exact table for small k, Stirling series above. */
const LOG_FACT_TABLE = (() => {
  const t = new Float64Array(256);
  for (let k = 2; k < 256; k++) t[k] = t[k - 1] + Math.log(k);
  return t;
})();
function logFactorial(k: number): number {
  if (k < 256) return LOG_FACT_TABLE[k];
  const x = k + 1; // lgamma(x)
  const inv = 1 / x;
  const inv2 = inv * inv;
  return (
    (x - 0.5) * Math.log(x) -
    x +
    0.5 * Math.log(2 * Math.PI) +
    inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 * (1 / 1680))))
  );
}

/** Expected mutual information under the hypergeometric model (sklearn expected_mutual_information). */
function expectedMutualInformation(t: Table): number {
  const { n, a, b } = t;
  if (a.length === 1 || b.length === 1) return 0;
  const logN = Math.log(n);
  const lfN = logFactorial(n);
  let emi = 0;
  for (let i = 0; i < a.length; i++) {
    const ai = a[i];
    for (let j = 0; j < b.length; j++) {
      const bj = b[j];
      const start = Math.max(1, ai - n + bj);
      const end = Math.min(ai, bj);
      const glnFixed = logFactorial(ai) + logFactorial(bj) + logFactorial(n - ai) + logFactorial(n - bj) - lfN;
      const logAB = Math.log(ai) + Math.log(bj);
      for (let nij = start; nij <= end; nij++) {
        const term2 = logN + Math.log(nij) - logAB;
        const gln =
          glnFixed -
          logFactorial(nij) -
          logFactorial(ai - nij) -
          logFactorial(bj - nij) -
          logFactorial(n - ai - bj + nij);
        emi += (nij / n) * term2 * Math.exp(gln);
      }
    }
  }
  return emi;
}

/** sklearn adjusted_mutual_info_score(target, pred) with average_method='arithmetic'. */
export function ami(target: Labels, pred: Labels): number {
  const t = table('ami', target, pred);
  if ((t.rows === 1 && t.cols === 1) || (t.rows === 0 && t.cols === 0)) return 1;
  if (t.rows === 1 || t.cols === 1) return 0;
  const mi = mutualInfo(t);
  const emi = expectedMutualInformation(t);
  const normalizer = (entropyOfCounts(t.a, t.n) + entropyOfCounts(t.b, t.n)) / 2;
  let denominator = normalizer - emi;
  denominator = denominator < 0 ? Math.min(denominator, -EPS) : Math.max(denominator, EPS);
  let numerator = mi - emi;
  numerator = numerator < 0 ? Math.min(numerator, -EPS) : Math.max(numerator, EPS);
  return numerator / denominator;
}
