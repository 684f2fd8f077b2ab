import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  lcgFloats,
  lcgStream,
  maxAbsDiff,
  patternRgb,
  relativeError,
  tempDir,
  tempDirs,
  testTempDir,
} from '../src/index';

describe('test-utils', () => {
  it('maxAbsDiff and relativeError against hand values; a length mismatch throws', () => {
    expect(maxAbsDiff([1, 2, 3], [1, 2.5, 2])).toBe(1);
    expect(relativeError([1, 2, 3], [1, 2, 4])).toBe(0.25);
    expect(() => maxAbsDiff([1], [1, 2])).toThrow('length 1 != 2');
  });

  it('the LCG gives the Numerical Recipes sequence (first value from seed 0 = 1013904223 / 2^32)', () => {
    const next = lcgStream(0);
    expect(next()).toBe(1013904223 / 4294967296);
    expect(next()).toBe(((Math.imul(1013904223, 1664525) + 1013904223) >>> 0) / 4294967296);
    expect(lcgFloats(2, 0)[0]).toBeCloseTo(1013904223 / 4294967296 - 0.5, 7);
  });

  it('patternRgb: pixel (y, x) of image `seed` is (seed + 5x, seed + 3y, 7 seed + x + y) mod 256', () => {
    expect(Array.from(patternRgb(2, 2, 40))).toEqual([40, 40, 24, 45, 40, 25, 40, 43, 25, 45, 43, 26]);
  });
});

describe('temp folders', () => {
  const fileDir = tempDir('test-utils-file');
  const made = tempDirs('test-utils-many');
  let perTest = '';

  it('tempDir and tempDirs make distinct folders that stay for the file; testTempDir one for this test', () => {
    const [a, b] = [made('a'), made('a')];
    perTest = testTempDir('test-utils-test');
    expect(new Set([fileDir, a, b, perTest]).size).toBe(4);
    expect(basename(a)).toMatch(/^test-utils-many-a-/);
    for (const d of [fileDir, a, b, perTest]) expect(existsSync(d)).toBe(true);
  });

  it("testTempDir's folder is gone once its test ends; the file's stay", () => {
    expect(existsSync(perTest)).toBe(false);
    expect(existsSync(fileDir)).toBe(true);
  });
});
