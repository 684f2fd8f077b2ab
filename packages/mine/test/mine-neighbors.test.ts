import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@scan-repro/backend';
import { describe, expect, it } from 'vitest';
import { mineNeighbors, mineNeighborsAgainst } from '../src/mine-neighbors';
import { describeOnBackends } from '@scan-repro/test-utils';

/** Deterministic pseudo-random features (LCG + Box–Muller), so the test needs no other package. */
function randomFeatures(n: number, d: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const uniform = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  const out = new Float32Array(n * d);
  for (let i = 0; i < out.length; i++) out[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return out;
}

/** Float64 brute force: cosine of every pair, full sort (descending value, then ascending index). */
function bruteForce(
  query: Float32Array,
  bank: Float32Array,
  d: number,
  k: number,
): { idx: number[][]; cos: (i: number, j: number) => number } {
  const norm = (x: Float32Array, i: number) =>
    Math.sqrt(Array.from(x.subarray(i * d, (i + 1) * d)).reduce((a, v) => a + v * v, 0));
  const cos = (i: number, j: number) => {
    let dot = 0;
    for (let t = 0; t < d; t++) dot += query[i * d + t] * bank[j * d + t];
    return dot / (norm(query, i) * norm(bank, j));
  };
  const nq = query.length / d;
  const nb = bank.length / d;
  const idx: number[][] = [];
  for (let i = 0; i < nq; i++) {
    const sims = Array.from({ length: nb }, (_, j) => ({ j, v: cos(i, j) }));
    sims.sort((a, b) => b.v - a.v || a.j - b.j);
    idx.push(sims.slice(0, k).map((e) => e.j));
  }
  return { idx, cos };
}

describeOnBackends('on the %s backend', initBackend, () => {
  describe('mineNeighbors', () => {
    it('finds the known neighbours on points around a circle (self first)', () => {
      // 12 unit vectors at 30° steps, scaled by varying norms: cosine ignores the scale.
      const n = 12;
      const feats = new Float32Array(n * 2);
      for (let i = 0; i < n; i++) {
        const a = (i * Math.PI) / 6 + 0.01 * i; // small drift breaks the left/right tie: i+1 is closer than i−1
        feats[2 * i] = (1 + i) * Math.cos(a);
        feats[2 * i + 1] = (1 + i) * Math.sin(a);
      }
      const nb = mineNeighbors(feats, n, 2, 2);
      for (let i = 0; i < n; i++) {
        expect(nb[i * 3]).toBe(i);
        expect(new Set([nb[i * 3 + 1], nb[i * 3 + 2]])).toEqual(new Set([(i + 1) % n, (i + n - 1) % n]));
      }
    });

    it('matches a float64 brute force on random data, for any block sizes', () => {
      const n = 300;
      const d = 16;
      const k = 10;
      const feats = randomFeatures(n, d, 42);
      const ref = bruteForce(feats, feats, d, k + 1);
      const ours = mineNeighbors(feats, n, d, k, { batchSize: 37, bankBatchSize: 53 });
      expect(Array.from(mineNeighbors(feats, n, d, k))).toEqual(Array.from(ours));
      let exactRows = 0;
      for (let i = 0; i < n; i++) {
        const row = Array.from(ours.subarray(i * (k + 1), (i + 1) * (k + 1)));
        expect(row[0]).toBe(i);
        // Rank by rank, our neighbour is as similar as the reference one (float32 vs float64 near-ties aside).
        for (let t = 0; t <= k; t++)
          expect(Math.abs(ref.cos(i, row[t]) - ref.cos(i, ref.idx[i][t]))).toBeLessThan(1e-5);
        if (row.every((j, t) => j === ref.idx[i][t])) exactRows++;
      }
      expect(exactRows).toBeGreaterThanOrEqual(n - 3);
    });

    it('breaks ties by the lower index and keeps the sample itself in column 0 with duplicates', () => {
      // rows 0, 2, 3 are the same direction; row 1 is orthogonal, row 4 is close to the duplicates
      const feats = new Float32Array([1, 0, 0, 1, 2, 0, 3, 0, 1, 0.1]);
      const nb = mineNeighbors(feats, 5, 2, 3);
      expect(Array.from(nb.subarray(0, 4))).toEqual([0, 2, 3, 4]);
      expect(Array.from(nb.subarray(8, 12))).toEqual([2, 0, 3, 4]);
      expect(Array.from(nb.subarray(12, 16))).toEqual([3, 0, 2, 4]);
      expect(Array.from(mineNeighborsAgainst(new Float32Array([5, 0]), feats, 2, 3))).toEqual([0, 2, 3]);
    });

    it('queries a separate bank (val → train style)', () => {
      const d = 8;
      const bank = randomFeatures(120, d, 7);
      const query = randomFeatures(25, d, 9);
      const ref = bruteForce(query, bank, d, 5);
      const ours = mineNeighborsAgainst(query, bank, d, 5, { batchSize: 10, bankBatchSize: 50 });
      for (let i = 0; i < 25; i++) {
        for (let t = 0; t < 5; t++)
          expect(Math.abs(ref.cos(i, ours[i * 5 + t]) - ref.cos(i, ref.idx[i][t]))).toBeLessThan(1e-5);
      }
    });

    it('leaves no tensors behind and rejects bad sizes with the value in the message', () => {
      const feats = randomFeatures(200, 8, 1);
      const before = tf.memory().numTensors;
      mineNeighbors(feats, 200, 8, 5, { batchSize: 16, bankBatchSize: 64 });
      expect(tf.memory().numTensors).toBe(before);
      expect(() => mineNeighbors(feats, 201, 8, 5)).toThrow(/features has 1600 entries, expected n × d = 201 × 8/);
      expect(() => mineNeighbors(feats, 200, 8, 200)).toThrow(/k = 200/);
      expect(() => mineNeighborsAgainst(feats, feats, 8, 3, { batchSize: 0 })).toThrow(/batchSize = 0/);
    });
  });
});
