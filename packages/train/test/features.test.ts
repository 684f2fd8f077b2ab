import { describe, expect, it } from 'vitest';
import { splitColumns } from '../src/index';

describe('splitColumns', () => {
  it('cuts each row into consecutive column blocks', () => {
    // 2 rows of [a a | b b b]
    const [a, b] = splitColumns(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 2, [2, 3]);
    expect(Array.from(a!)).toEqual([1, 2, 6, 7]);
    expect(Array.from(b!)).toEqual([3, 4, 5, 8, 9, 10]);
  });
  it('rejects a matrix of another size', () => {
    expect(() => splitColumns(new Float32Array(9), 2, [2, 3])).toThrow(/splitColumns: 9 values are not 2 rows of 5/);
  });
});
