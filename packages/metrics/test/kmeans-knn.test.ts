import { readFileSync } from 'node:fs';
import { initBackend } from '@scan-repro/backend';
import { describe, expect, it } from 'vitest';
import { hungarianAccuracy, kmeans, weightedKnnAccuracy } from '../src/index';
import { weightedKnnPredict } from '../src/knn';
import { describeOnBackends } from '@scan-repro/test-utils';

// Made by tools/golden/metrics/make_metric_goldens.py (scikit-learn KMeans, official weighted kNN in numpy).
const goldens = JSON.parse(readFileSync(new URL('./fixtures/metric-goldens.json', import.meta.url), 'utf8')) as {
  kmeans: { n: number; d: number; k: number; features: number[]; truth: number[]; sklearnInertia: number };
  knn: {
    numClasses: number;
    d: number;
    k: number;
    temperature: number;
    trainFeatures: number[];
    trainLabels: number[];
    testFeatures: number[];
    testLabels: number[];
    predictions: number[];
    accuracy: number;
  };
};

describe('kmeans', () => {
  const g = goldens.kmeans;

  it('recovers well-separated blobs and reaches scikit-learn’s inertia', () => {
    const res = kmeans(g.features, g.n, g.d, g.k, { seed: 1 });
    expect(hungarianAccuracy(res.labels, g.truth, g.k, g.k)).toBe(1);
    expect(Math.abs(res.inertia - g.sklearnInertia) / g.sklearnInertia).toBeLessThan(1e-9);
  });

  it('is deterministic for a seed, and its inertia equals the sum of squared distances to the centroids', () => {
    const a = kmeans(g.features, g.n, g.d, g.k, { seed: 5, nInit: 2 });
    const b = kmeans(g.features, g.n, g.d, g.k, { seed: 5, nInit: 2 });
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    let sse = 0;
    for (let i = 0; i < g.n; i++) {
      for (let t = 0; t < g.d; t++) sse += (g.features[i * g.d + t] - a.centroids[a.labels[i] * g.d + t]) ** 2;
    }
    expect(a.inertia).toBeCloseTo(sse, 6);
  });

  it('hand case: two obvious groups on a line', () => {
    const res = kmeans([0, 0.1, 0.2, 10, 10.1, 10.2], 6, 1, 2, { seed: 0, nInit: 1 });
    expect(res.labels[0]).toBe(res.labels[2]);
    expect(res.labels[3]).not.toBe(res.labels[0]);
    expect(res.inertia).toBeCloseTo(4 * 0.01, 10);
    expect(() => kmeans([0, 1], 2, 1, 3, { seed: 0 })).toThrow(/k = 3, expected an integer in \[1, n = 2\]/);
  });
});

describeOnBackends('on the %s backend', initBackend, () => {
  describe('weightedKnn', () => {
    const g = goldens.knn;
    const train = Float32Array.from(g.trainFeatures);
    const test = Float32Array.from(g.testFeatures);
    const opts = { k: g.k, temperature: g.temperature, numClasses: g.numClasses, batchSize: 32 };

    it('matches the official MemoryBank.weighted_knn predictions', () => {
      const pred = weightedKnnPredict(train, g.trainLabels, test, opts);
      expect(Array.from(pred)).toEqual(g.predictions);
      expect(weightedKnnAccuracy(train, g.trainLabels, test, g.testLabels, opts)).toBeCloseTo(g.accuracy, 15);
    });

    it('hand case: exp(sim/τ) weights let two close neighbours outvote three far ones', () => {
      // query along x; train: 2 × class 1 at cos 1, 3 × class 0 at cos 0 → weights e^10 each vs 1 each
      const trainF = new Float32Array([1, 0, 2, 0, 0, 1, 0, 2, 0, 3]);
      expect(
        Array.from(
          weightedKnnPredict(trainF, [1, 1, 0, 0, 0], new Float32Array([3, 0]), {
            k: 5,
            temperature: 0.1,
            numClasses: 2,
          }),
        ),
      ).toEqual([1]);
    });
  });
});
