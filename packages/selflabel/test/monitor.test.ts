import { describe, expect, it } from 'vitest';
import { pseudoLabelsConcentrated, pseudoLabelWarning, summarizePredictions } from '../src/monitor';

describe('summarizePredictions', () => {
  // 6 images, 3 clusters, 3 classes. argmax: 0, 0, 1, 1, 2, 0; labels: 2, 2, 0, 1, 1, 2.
  // Hungarian: cluster 0 -> class 2 (3 hits), cluster 1 -> class 0 or 1 (1 hit), cluster 2 -> the other (1 or 0):
  // the best matching is 0->2, 1->0, 2->1 (3 + 1 + 1 = 5 of 6).
  const probs = [
    [0.995, 0.003, 0.002],
    [0.6, 0.3, 0.1],
    [0.001, 0.998, 0.001],
    [0.2, 0.7, 0.1],
    [0.004, 0.004, 0.992],
    [0.999, 0.0005, 0.0005],
  ].flat();
  const labels = [2, 2, 0, 1, 1, 2];

  it('accuracy, confident fraction, accuracy of the confident images, largest cluster', () => {
    const m = summarizePredictions(probs, labels, 3, 0.99);
    expect(m.accuracy).toBeCloseTo(5 / 6, 12);
    // confident (> 0.99): images 0, 2, 4, 5; correct among them: 0 (0->2), 2 (1->0), 4 (2->1), 5 (0->2)
    expect(m.confident).toBeCloseTo(4 / 6, 12);
    expect(m.confidentAccuracy).toBe(1);
    expect(m.largestCluster).toBeCloseTo(3 / 6, 12);
  });

  it('a collapsed head: one cluster holds everything', () => {
    const collapsed = Array.from({ length: 4 }, () => [0.999, 0.0005, 0.0005]).flat();
    const m = summarizePredictions(collapsed, [0, 1, 2, 0], 3, 0.99);
    expect(m.largestCluster).toBe(1);
    expect(m.accuracy).toBeCloseTo(2 / 4, 12);
    expect(m.confidentAccuracy).toBeCloseTo(2 / 4, 12);
  });

  it('no confident image: confident accuracy is NaN; unlabeled splits give NaN accuracies', () => {
    expect(summarizePredictions(probs, labels, 3, 0.9999).confidentAccuracy).toBeNaN();
    const unlabeled = summarizePredictions(probs, [-1, -1, -1, -1, -1, -1], 3, 0.99);
    expect(unlabeled.accuracy).toBeNaN();
    expect(unlabeled.confident).toBeCloseTo(4 / 6, 12);
  });
});

describe('pseudoLabelsConcentrated / pseudoLabelWarning', () => {
  it('flags more than half in one cluster, or fewer than half of the clusters with any; never an empty epoch', () => {
    expect(pseudoLabelsConcentrated(0.5, 10, 10)).toBe(false); // exactly half: not yet
    expect(pseudoLabelsConcentrated(0.51, 10, 10)).toBe(true);
    expect(pseudoLabelsConcentrated(0.3, 4, 10)).toBe(true);
    expect(pseudoLabelsConcentrated(0.3, 5, 10)).toBe(false);
    expect(pseudoLabelsConcentrated(Number.NaN, 0, 10)).toBe(false);
  });

  it('names the cluster, its share, the clusters with labels and the threshold', () => {
    expect(pseudoLabelWarning([3, 3, 2, 2], 0.99, 1)).toBeNull();
    expect(pseudoLabelWarning([0, 0, 0, 0], 0.99, 1)).toBeNull();
    expect(pseudoLabelWarning([1, 12, 0, 1], 0.99, 3)).toBe(
      'selflabel: epoch 3: 86% of the 14 confident pseudo-labels are cluster 1 (3 of 4 clusters have any): ' +
        'self-labeling enlarges the clusters the SCAN model is sure of and is likely to lower accuracy; ' +
        'the model is too weak for threshold 0.99',
    );
  });
});
