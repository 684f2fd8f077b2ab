import { describe, expect, it } from 'vitest';
import { dropFalsePositiveNeighbors } from '../src/oracle-neighbors';

describe('dropFalsePositiveNeighbors (the no-false-positives upper bound)', () => {
  // 4 images, K = 3 (width 4, column 0 = self); labels 0 0 1 1
  const labels = [0, 0, 1, 1];
  const table = Int32Array.from([
    0,
    1,
    2,
    3, // image 0: neighbour 1 is right, 2 and 3 are wrong
    1,
    2,
    3,
    0, // image 1: only 0 is right
    2,
    0,
    1,
    3, // image 2: only 3 is right (last column)
    3,
    0,
    1,
    2, // image 3: only 2 is right
  ]);

  it('keeps same-class entries, repeated to fill the row, and reports the share removed', () => {
    const { table: out, removed } = dropFalsePositiveNeighbors(table, 4, 4, labels);
    expect(Array.from(out)).toEqual([0, 1, 0, 1, 1, 0, 1, 0, 2, 3, 2, 3, 3, 2, 3, 2]);
    expect(removed).toBeCloseTo(8 / 12, 12); // 2 + 2 + 2 + 2 wrong of 4 x 3 neighbours
    expect(Array.from(table.slice(0, 4))).toEqual([0, 1, 2, 3]); // input untouched
  });

  it('an image whose drawn neighbours are all wrong trains on itself; columns beyond take are unchanged', () => {
    const { table: out } = dropFalsePositiveNeighbors(table, 4, 2, labels); // K used = 1
    expect(Array.from(out)).toEqual([0, 1, 2, 3, 1, 1, 3, 0, 2, 2, 1, 3, 3, 3, 1, 2]);
  });

  it('rejects a table that does not match the labels', () => {
    expect(() => dropFalsePositiveNeighbors(table, 4, 4, [0, 1])).toThrow(
      /16-entry table of width 4 does not match 2 labels/,
    );
  });
});
