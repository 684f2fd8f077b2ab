import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRng } from '../src/index';

// Produced by test/fixtures/make_rng_reference.py, an independent Python implementation of splitmix32 + sfc32.
const reference = JSON.parse(readFileSync(join(__dirname, 'fixtures/rng_reference.json'), 'utf8')) as Record<
  string,
  { uint32: number[]; fork_data: number[]; fork_data_aug: number[] }
>;

describe('createRng', () => {
  it('matches the Python reference stream, forks included', () => {
    for (const [seed, ref] of Object.entries(reference)) {
      const rng = createRng(Number(seed));
      expect(Array.from({ length: 8 }, () => rng.nextUint32())).toEqual(ref.uint32);
      const data = rng.fork('data');
      expect(Array.from({ length: 4 }, () => data.nextUint32())).toEqual(ref.fork_data);
      const aug = createRng(Number(seed)).fork('data').fork('aug');
      expect(Array.from({ length: 4 }, () => aug.nextUint32())).toEqual(ref.fork_data_aug);
    }
  });

  it('fork depends on seed and label, not on draws made before', () => {
    const a = createRng(7);
    const b = createRng(7);
    for (let i = 0; i < 100; i++) b.next();
    expect(a.fork('x').next()).toBe(b.fork('x').next());
    expect(a.fork('x').next()).not.toBe(a.fork('y').next());
    expect(createRng(8).fork('x').next()).not.toBe(a.fork('x').next());
  });

  it('has the right distributions (10^5 draws, bounds from the CLT)', () => {
    const rng = createRng(123);
    const n = 100_000;
    let sum = 0,
      sumSq = 0,
      min = 1,
      max = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.next();
      sum += x;
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[rng.int(7)]++;
    // chi-square with 6 degrees of freedom: 99.99th percentile is 27.9
    const chi2 = counts.reduce((s, c) => s + (c - 10_000) ** 2 / 10_000, 0);
    expect(chi2).toBeLessThan(27.9);
    sum = 0;
    sumSq = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      sum += z;
      sumSq += z * z;
    }
    expect(Math.abs(sum / n)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(sumSq / n - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    const u = Array.from({ length: 1000 }, () => rng.uniform(-3, 2));
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-3);
    expect(Math.max(...u)).toBeLessThan(2);
  });

  it('shuffle and permutation are permutations, and seeded', () => {
    const p = createRng(1).permutation(1000);
    expect(Array.from(p).sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(createRng(1).permutation(1000))).toEqual(Array.from(p));
    expect(Array.from(createRng(2).permutation(1000))).not.toEqual(Array.from(p));
    const arr = ['a', 'b', 'c', 'd'];
    expect(createRng(3).shuffle(arr)).toBe(arr);
    expect([...arr].sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('state save / restore continues the same stream (checkpoint resume)', () => {
    const rng = createRng(99);
    rng.next();
    rng.normal(); // leaves a cached normal
    const saved = JSON.parse(JSON.stringify(rng.getState()));
    const expected = [rng.normal(), rng.next(), rng.fork('f').next()];
    const other = createRng(0);
    other.setState(saved);
    expect([other.normal(), other.next(), other.fork('f').next()]).toEqual(expected);
  });

  it('rejects bad seeds and ranges', () => {
    expect(() => createRng(-1)).toThrow('seed must be a non-negative safe integer, got -1');
    expect(() => createRng(1.5)).toThrow();
    expect(() => createRng(1).int(0)).toThrow('n must be an integer in [1, 2^32], got 0');
  });
});
