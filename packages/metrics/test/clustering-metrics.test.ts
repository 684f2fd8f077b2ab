import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  clusterAccuracy,
  clusterMapping,
  hungarianAccuracy,
  hungarianMatch,
  majorityVoteMapping,
  mappedAccuracy,
  top5Accuracy,
} from '../src/accuracy';
import { linearSumAssignment } from '../src/assignment';
import { ami, ari, nmi } from '../src/information';
import { argmaxRows, confusionMatrix, contingencyMatrix } from '../src/labels';
import { neighborAccuracy } from '../src/neighbors';

// Made by tools/golden/metrics/make_metric_goldens.py (scikit-learn / scipy).
interface LabelingGolden {
  name: string;
  numClusters: number;
  numClasses: number;
  pred: number[];
  target: number[];
  nmi: number;
  ari: number;
  ami: number;
  hungarianMatch: [number, number][];
  hungarianAccuracy: number;
  majorityMapping: number[];
  majorityAccuracy: number;
}
const goldens = JSON.parse(readFileSync(new URL('./fixtures/metric-goldens.json', import.meta.url), 'utf8')) as {
  labelings: LabelingGolden[];
  top5: {
    numClusters: number;
    probs: number[];
    target: number[];
    pred: number[];
    hungarianMatch: [number, number][];
    hungarianAccuracy: number;
    top5Accuracy: number;
  };
  assignments: { rows: number; cols: number; cost: number[]; minCost: number; maxCost: number }[];
};

function assignmentCost(cost: number[], cols: number, rowInd: Int32Array, colInd: Int32Array): number {
  let s = 0;
  for (let i = 0; i < rowInd.length; i++) s += cost[rowInd[i] * cols + colInd[i]];
  return s;
}

describe('linearSumAssignment', () => {
  it('solves a hand-checked 3×3 problem (the classic scipy docs example)', () => {
    // scipy docs: cost = [[4,1,3],[2,0,5],[3,2,2]] → rows [0,1,2], cols [1,0,2], total 5
    const { rowInd, colInd } = linearSumAssignment([4, 1, 3, 2, 0, 5, 3, 2, 2], 3, 3);
    expect(Array.from(rowInd)).toEqual([0, 1, 2]);
    expect(Array.from(colInd)).toEqual([1, 0, 2]);
  });

  it.each(goldens.assignments.map((a, i) => [i, a] as const))('matches scipy optimal cost on case %i', (_i, a) => {
    const min = linearSumAssignment(a.cost, a.rows, a.cols);
    expect(min.rowInd.length).toBe(Math.min(a.rows, a.cols));
    expect(new Set(min.colInd).size).toBe(min.colInd.length); // one-to-one
    expect(new Set(min.rowInd).size).toBe(min.rowInd.length);
    expect(assignmentCost(a.cost, a.cols, min.rowInd, min.colInd)).toBeCloseTo(a.minCost, 9);
    const max = linearSumAssignment(a.cost, a.rows, a.cols, { maximize: true });
    expect(assignmentCost(a.cost, a.cols, max.rowInd, max.colInd)).toBeCloseTo(a.maxCost, 9);
  });

  it('agrees with brute force over all permutations on small random matrices', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const perms = (n: number): number[][] =>
      n === 0
        ? [[]]
        : perms(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
    for (let trial = 0; trial < 30; trial++) {
      const n = 2 + (trial % 5);
      const cost = Array.from({ length: n * n }, () => Math.floor(rand() * 6));
      let best = Infinity;
      for (const p of perms(n))
        best = Math.min(
          best,
          p.reduce((s, c, r) => s + cost[r * n + c], 0),
        );
      const { rowInd, colInd } = linearSumAssignment(cost, n, n);
      expect(assignmentCost(cost, n, rowInd, colInd)).toBe(best);
    }
  });

  it('rejects a wrongly sized or non-finite cost matrix with a clear message', () => {
    expect(() => linearSumAssignment([1, 2, 3], 2, 2)).toThrow(/cost has 3 entries, expected numRows\*numCols = 4/);
    expect(() => linearSumAssignment([1, NaN, 3, 4], 2, 2)).toThrow(/cost\[1\] = NaN/);
  });
});

describe('hand cases', () => {
  it('a perfect clustering under a permutation scores 1 everywhere', () => {
    const target = [0, 0, 1, 1, 2, 2, 2];
    const pred = [2, 2, 0, 0, 1, 1, 1];
    expect(hungarianAccuracy(pred, target, 3, 3)).toBe(1);
    expect(Array.from(hungarianMatch(pred, target, 3, 3))).toEqual([1, 2, 0]);
    expect(nmi(target, pred)).toBeCloseTo(1, 12);
    expect(ari(target, pred)).toBe(1);
    expect(ami(target, pred)).toBeCloseTo(1, 12);
  });

  it('Hungarian picks the assignment that beats the greedy one on a known 3×3 count matrix', () => {
    // counts[cluster][class] = [[5,4,0],[4,0,0],[0,0,3]]: greedy would map cluster0→class0 (5) then
    // cluster1 has nothing left (0) → 8; the optimum is 0→1, 1→0, 2→2 → 4 + 4 + 3 = 11 of 16.
    const counts = [
      [5, 4, 0],
      [4, 0, 0],
      [0, 0, 3],
    ];
    const pred: number[] = [];
    const target: number[] = [];
    counts.forEach((row, k) =>
      row.forEach((m, c) => {
        for (let i = 0; i < m; i++) {
          pred.push(k);
          target.push(c);
        }
      }),
    );
    expect(Array.from(hungarianMatch(pred, target, 3, 3))).toEqual([1, 0, 2]);
    expect(hungarianAccuracy(pred, target, 3, 3)).toBeCloseTo(11 / 16, 15);
    expect(Array.from(contingencyMatrix(pred, target, 3, 3))).toEqual(counts.flat());
  });

  it('confusion matrix uses sklearn orientation (rows = true class)', () => {
    expect(Array.from(confusionMatrix([0, 1, 1, 2], [0, 0, 1, 2], 3))).toEqual([1, 1, 0, 0, 1, 0, 0, 0, 1]);
  });

  it('sklearn special cases: single cluster, identical singletons, all in one class', () => {
    expect(nmi([0, 0, 0], [1, 1, 1])).toBe(1);
    expect(ami([0, 0, 0], [1, 1, 1])).toBe(1);
    expect(nmi([0, 0, 0, 0], [0, 1, 2, 3])).toBe(0);
    expect(ami([0, 0, 0, 0], [0, 1, 2, 3])).toBe(0);
    expect(ari([0, 0, 1, 1], [0, 0, 1, 1])).toBe(1);
    // sklearn: adjusted_rand_score([0,0,1,1],[0,1,0,1]) = -0.5
    expect(ari([0, 0, 1, 1], [0, 1, 0, 1])).toBeCloseTo(-0.5, 15);
  });

  it('neighbour accuracy skips column 0 (the sample itself)', () => {
    const labels = [0, 0, 1, 1];
    // K = 2: rows [self, n1, n2]
    const neighbors = [0, 1, 2, /**/ 1, 0, 3, /**/ 2, 3, 0, /**/ 3, 2, 1];
    expect(neighborAccuracy(neighbors, labels)).toBeCloseTo(4 / 8, 15);
    expect(neighborAccuracy(neighbors, labels, { k: 1 })).toBe(1);
    expect(() => neighborAccuracy([0, 1, 2], labels)).toThrow(/expected N × \(K\+1\)/);
  });

  it('names the offending entry on bad labels', () => {
    expect(() => hungarianAccuracy([0, 3], [0, 1], 3, 2)).toThrow(/pred\[1\] = 3, expected an integer in \[0, 3\)/);
    expect(() => clusterAccuracy([0, 1], [0], { mapping: new Int32Array([0, 1]) })).toThrow(
      /pred has 2 entries but target has 1/,
    );
  });
});

describe.each(goldens.labelings.map((g) => [g.name, g] as const))('sklearn/scipy golden %s', (_name, g) => {
  it('NMI, ARI, AMI match sklearn', () => {
    expect(Math.abs(nmi(g.target, g.pred) - g.nmi)).toBeLessThan(1e-12);
    expect(Math.abs(ari(g.target, g.pred) - g.ari)).toBeLessThan(1e-12);
    expect(Math.abs(ami(g.target, g.pred) - g.ami)).toBeLessThan(1e-10);
  });

  it('Hungarian matching and accuracy match scipy linear_sum_assignment', () => {
    const mapping = hungarianMatch(g.pred, g.target, g.numClusters, g.numClasses);
    expect(hungarianAccuracy(g.pred, g.target, g.numClusters, g.numClasses)).toBeCloseTo(g.hungarianAccuracy, 15);
    // The matched total is unique; the matching itself is too unless there are equal-count ties,
    // so compare the accuracy exactly and the pairs only through their total count.
    const counts = contingencyMatrix(g.pred, g.target, g.numClusters, g.numClasses);
    const total = (pairs: [number, number][]) => pairs.reduce((s, [k, c]) => s + counts[k * g.numClasses + c], 0);
    const ours = Array.from(mapping).flatMap((c, k) => (c >= 0 ? [[k, c] as [number, number]] : []));
    expect(ours.length).toBe(Math.min(g.numClusters, g.numClasses));
    expect(total(ours)).toBe(total(g.hungarianMatch));
  });

  it('majority-vote mapping matches np.argmax of the count matrix', () => {
    const mapping = majorityVoteMapping(g.pred, g.target, g.numClusters, g.numClasses);
    const used = new Set(g.pred);
    for (let k = 0; k < g.numClusters; k++) if (used.has(k)) expect(mapping[k]).toBe(g.majorityMapping[k]);
    expect(clusterAccuracy(g.pred, g.target, { mapping })).toBeCloseTo(g.majorityAccuracy, 15);
  });

  it('is invariant to relabelling the clusters', () => {
    // reflect then rotate: a bijection on 0..numClusters-1 that moves every id for these sizes
    const permuted = g.pred.map((p) => (g.numClusters - 1 - p + 3) % g.numClusters);
    expect(hungarianAccuracy(permuted, g.target, g.numClusters, g.numClasses)).toBeCloseTo(g.hungarianAccuracy, 15);
    expect(nmi(g.target, permuted)).toBeCloseTo(g.nmi, 12);
    expect(ari(g.target, permuted)).toBeCloseTo(g.ari, 12);
    expect(ami(g.target, permuted)).toBeCloseTo(g.ami, 10);
    const mapping = majorityVoteMapping(permuted, g.target, g.numClusters, g.numClasses);
    expect(clusterAccuracy(permuted, g.target, { mapping })).toBeCloseTo(g.majorityAccuracy, 15);
  });
});

describe('clusterMapping', () => {
  it('is one-to-one (Hungarian) by default and the majority vote when asked for or when clusters outnumber classes', () => {
    // clusters 0, 1 hold class 0 (3 and 2 samples), cluster 2 holds class 1 (2 samples)
    const target = [0, 0, 0, 0, 0, 1, 1];
    const pred = [0, 0, 0, 1, 1, 2, 2];
    // 3 clusters, 3 classes: Hungarian gives cluster 1 the unused class 2, so its 2 samples count wrong: 5/7
    expect(clusterMapping(pred, target, 3, 3).rule).toBe('hungarian');
    expect(mappedAccuracy(pred, target, 3, 3)).toBe(5 / 7);
    expect(mappedAccuracy(pred, target, 3, 3, 'majority')).toBe(1);
    // 3 clusters, 2 classes: overclustering, majority vote whatever the rule asked for
    const over = clusterMapping(pred, target, 3, 2, 'hungarian');
    expect(over.rule).toBe('majority');
    expect(Array.from(over.mapping)).toEqual([0, 0, 1]);
    expect(mappedAccuracy(pred, target, 3, 2)).toBe(1);
  });
});

describe('top5Accuracy', () => {
  it('matches the official hungarian_evaluate Top-5 on random probabilities', () => {
    const t = goldens.top5;
    const mapping = hungarianMatch(t.pred, t.target, t.numClusters, t.numClusters);
    expect(clusterAccuracy(t.pred, t.target, { mapping })).toBeCloseTo(t.hungarianAccuracy, 15);
    expect(top5Accuracy(t.probs, t.target, mapping)).toBeCloseTo(t.top5Accuracy, 15);
  });

  it('is 1 when the right class is anywhere in the top 5 and 0 when sixth', () => {
    const identity = Int32Array.from({ length: 6 }, (_, i) => i);
    const probs = [0.3, 0.25, 0.2, 0.1, 0.1, 0.05];
    expect(top5Accuracy(probs, [4], identity)).toBe(1);
    expect(top5Accuracy(probs, [5], identity)).toBe(0);
  });
});

describe('argmaxRows', () => {
  it("picks each row's largest entry, the first one on ties, and rejects a ragged matrix", () => {
    expect(Array.from(argmaxRows([0.1, 0.7, 0.2, 0.5, 0.5, 0, -1, -3, -2], 3))).toEqual([1, 0, 0]);
    expect(() => argmaxRows([1, 2, 3, 4, 5], 2)).toThrow(/argmaxRows: 5 values do not split into 2 rows/);
  });
});
