import { describe, expect, it } from 'vitest';
import { concatSplits, stratifiedSubsetIndices, type ImageSplit } from '../src/index';
import { subsetSplit } from '../src/subset';

function fakeSplit(labels: number[], name = 'train'): ImageSplit {
  return {
    dataset: 'fake',
    split: name,
    size: labels.length,
    source: 'memory',
    labels: Int32Array.from(labels),
    imageShape: { height: 1, width: 1 },
    image: (i) => ({ data: Uint8Array.from([i, i, i]), height: 1, width: 1 }),
  };
}

describe('stratifiedSubsetIndices', () => {
  // 3 classes with 50 / 30 / 20 images, plus 10 unlabelled
  const labels = Int32Array.from([
    ...Array(50).fill(0),
    ...Array(30).fill(1),
    ...Array(20).fill(2),
    ...Array(10).fill(-1),
  ]);

  it('keeps each class share (largest remainder) and returns ascending indices', () => {
    const idx = stratifiedSubsetIndices(labels, 22, 7);
    // shares of 22 over 110: 10, 6, 4, 2 exactly
    const count = (c: number) => Array.from(idx).filter((i) => labels[i] === c).length;
    expect([count(0), count(1), count(2), count(-1)]).toEqual([10, 6, 4, 2]);
    expect(Array.from(idx)).toEqual(Array.from(idx).sort((a, b) => a - b));
    expect(new Set(idx).size).toBe(22);
  });

  it('distributes the remainder to the largest fractions: 7 of [50,30,20,10] → 3,2,1,1', () => {
    // exact shares 3.18, 1.91, 1.27, 0.64 → floors 3,1,1,0 (5), then +1 to 0.91 (class 1) and 0.64 (class -1)
    const idx = stratifiedSubsetIndices(labels, 7, 1);
    const count = (c: number) => Array.from(idx).filter((i) => labels[i] === c).length;
    expect([count(0), count(1), count(2), count(-1)]).toEqual([3, 2, 1, 1]);
  });

  it('is a function of the seed', () => {
    expect(stratifiedSubsetIndices(labels, 22, 7)).toEqual(stratifiedSubsetIndices(labels, 22, 7));
    expect(stratifiedSubsetIndices(labels, 22, 7)).not.toEqual(stratifiedSubsetIndices(labels, 22, 8));
  });

  it('returns everything for max 0 or max >= n', () => {
    expect(stratifiedSubsetIndices(labels, 0, 1).length).toBe(110);
    expect(stratifiedSubsetIndices(labels, 500, 1).length).toBe(110);
  });
});

describe('subsetSplit / concatSplits', () => {
  it('maps subset index → original image and records original indices (also through nesting)', () => {
    const s = fakeSplit([0, 1, 2, 0, 1, 2]);
    const sub = subsetSplit(s, Int32Array.from([1, 4, 5]));
    expect(Array.from(sub.labels)).toEqual([1, 1, 2]);
    expect(sub.image(1).data[0]).toBe(4);
    expect(Array.from(sub.originalIndices!)).toEqual([1, 4, 5]);
    const sub2 = subsetSplit(sub, Int32Array.from([2, 0]));
    expect(Array.from(sub2.originalIndices!)).toEqual([5, 1]);
    expect(sub2.image(0).data[0]).toBe(5);
    expect(() => sub.image(3)).toThrow(/out of range \[0, 3\)/);
  });

  it('concatenates in order', () => {
    const c = concatSplits('a+b', [fakeSplit([0, 1], 'a'), fakeSplit([-1, -1, -1], 'b')]);
    expect([c.size, c.split]).toEqual([5, 'a+b']);
    expect(Array.from(c.labels)).toEqual([0, 1, -1, -1, -1]);
    expect(c.image(3).data[0]).toBe(1);
  });
});
