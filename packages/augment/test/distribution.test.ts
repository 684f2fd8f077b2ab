// The SimCLR and strong samplers' random decisions against torchvision's and the official code's (tools/golden/augment/make_simclr_distribution_goldens.py):
// crop area and aspect-ratio quantiles, crop position, jitter factor ranges and order, and the three probabilities.
import { readFileSync } from 'node:fs';
import { createRng } from '@scan-repro/core';
import { describe, expect, it } from 'vitest';
import { type SimclrParams, type StrongParams, sampleSimclrParams, sampleStrongParams } from '../src/pipelines';
import { STRONG_OPS } from '../src/strong';
import { OFFICIAL_AUGMENT } from '@scan-repro/test-utils';

const golden = JSON.parse(readFileSync(new URL('./__goldens__/simclr-distribution.json', import.meta.url), 'utf8')) as {
  quantiles: number[];
  area: number[];
  logAspect: number[];
  top: number;
  left: number;
  brightness: [number, number];
  hue: [number, number];
  firstOp: number[];
  flipP: number;
  jitterP: number;
  grayscaleP: number;
};
const N = 20_000;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Within 5 standard errors of a Bernoulli(p) frequency over n draws. */
function expectFrequency(hits: number, n: number, p: number): void {
  expect(Math.abs(hits / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
}

describe('sampleSimclrParams vs torchvision (official SimCLR config, 32x32)', () => {
  const rng = createRng(123);
  const draws: SimclrParams[] = Array.from({ length: N }, () => sampleSimclrParams(32, 32, OFFICIAL_AUGMENT, rng));

  it('crop area and log aspect ratio have torchvision RandomResizedCrop quantiles; position is uniform', () => {
    const area = draws.map((d) => (d.crop.height * d.crop.width) / 1024).sort((a, b) => a - b);
    const aspect = draws.map((d) => Math.log(d.crop.width / d.crop.height)).sort((a, b) => a - b);
    golden.quantiles.forEach((q, i) => {
      // one row or column of 32 moves the area by ~1/32: the quantiles may land one step apart
      expect(Math.abs(quantile(area, q) - golden.area[i]), `area q${q}`).toBeLessThanOrEqual(0.035);
      expect(Math.abs(quantile(aspect, q) - golden.logAspect[i]), `log aspect q${q}`).toBeLessThanOrEqual(0.045);
    });
    expect(Math.abs(mean(draws.map((d) => d.crop.top)) - golden.top)).toBeLessThan(0.15);
    expect(Math.abs(mean(draws.map((d) => d.crop.left)) - golden.left)).toBeLessThan(0.15);
  });

  it('flip, jitter and grayscale have the official probabilities', () => {
    expectFrequency(draws.filter((d) => d.flip).length, N, golden.flipP);
    expectFrequency(draws.filter((d) => d.jitter).length, N, golden.jitterP);
    expectFrequency(draws.filter((d) => d.grayscale).length, N, golden.grayscaleP);
  });

  it('jitter factors are uniform on torchvision ranges, in a uniformly random order', () => {
    const jitters = draws.flatMap((d) => (d.jitter ? [d.jitter] : []));
    for (const key of ['brightness', 'contrast', 'saturation'] as const) {
      const xs = jitters.map((j) => j[key]!);
      expect(Math.min(...xs)).toBeGreaterThanOrEqual(golden.brightness[0]);
      expect(Math.max(...xs)).toBeLessThanOrEqual(golden.brightness[1]);
      // U(a, b): mean (a + b) / 2, variance (b - a)^2 / 12
      const [a, b] = golden.brightness;
      expect(Math.abs(mean(xs) - (a + b) / 2)).toBeLessThan((5 * (b - a)) / Math.sqrt(12 * xs.length));
    }
    const hues = jitters.map((j) => j.hue!);
    expect(Math.min(...hues)).toBeGreaterThanOrEqual(golden.hue[0]);
    expect(Math.max(...hues)).toBeLessThanOrEqual(golden.hue[1]);
    for (let op = 0; op < 4; op++)
      expectFrequency(jitters.filter((j) => j.order[0] === op).length, jitters.length, golden.firstOp[op]);
    expect(jitters.every((j) => [...j.order].sort().join() === '0,1,2,3')).toBe(true);
  });
});

// "ours" (official data/augment.py Augment + RandomHorizontalFlip + Cutout): the distributions are defined in
// closed form by the official code (random.choices over the 14 ops, random.random() magnitudes, random_mirror
// signs, random.randint(1, L) cutout sides, np.random.randint centres), so the test compares against them.
describe('sampleStrongParams vs the official strong augmentation (4 ops, cutout 16, 32x32)', () => {
  const rng = createRng(321);
  const draws: StrongParams[] = Array.from({ length: N }, () => sampleStrongParams(32, 32, 32, OFFICIAL_AUGMENT, rng));
  const ops = draws.flatMap((d) => d.ops);

  /** Kolmogorov-Smirnov distance of xs from U(lo, hi); 1.95 / sqrt(n) is the 0.1 % critical value. */
  function ksUniform(xs: number[], lo: number, hi: number): number {
    const s = [...xs].sort((a, b) => a - b);
    let d = 0;
    s.forEach((x, i) => {
      const f = (x - lo) / (hi - lo);
      d = Math.max(d, Math.abs(f - i / s.length), Math.abs(f - (i + 1) / s.length));
    });
    return d;
  }

  it('draws 4 ops per image, uniformly over the 14 ops with replacement', () => {
    expect(draws.every((d) => d.ops.length === 4)).toBe(true);
    // chi-square with 13 degrees of freedom; 34.5 is the 0.1 % critical value
    const expected = ops.length / STRONG_OPS.length;
    const chi2 = STRONG_OPS.reduce((sum, op) => {
      const count = ops.filter((o) => o.name === op.name).length;
      return sum + (count - expected) ** 2 / expected;
    }, 0);
    expect(chi2).toBeLessThan(34.5);
    // with replacement: the same op twice in one image happens with 1 - (14·13·12·11)/14^4
    const repeats = draws.filter((d) => new Set(d.ops.map((o) => o.name)).size < 4).length;
    expectFrequency(repeats, N, 1 - (14 * 13 * 12 * 11) / 14 ** 4);
  });

  it('each op value is uniform on its range in the official augment_list()', () => {
    // random_mirror negates with p = 0.5 and every mirrored range is symmetric, so the signed value stays uniform
    const officialRanges: Record<string, [number, number]> = {
      Identity: [0, 1],
      AutoContrast: [0, 1],
      Equalize: [0, 1],
      Rotate: [-30, 30],
      Solarize: [0, 256],
      Color: [0.05, 0.95],
      Contrast: [0.05, 0.95],
      Brightness: [0.05, 0.95],
      Sharpness: [0.05, 0.95],
      ShearX: [-0.1, 0.1],
      TranslateX: [-0.1, 0.1],
      TranslateY: [-0.1, 0.1],
      Posterize: [4, 8],
      ShearY: [-0.1, 0.1],
    };
    expect(STRONG_OPS.map((op) => op.name)).toEqual(Object.keys(officialRanges));
    for (const [name, [lo, hi]] of Object.entries(officialRanges)) {
      const values = ops.filter((o) => o.name === name).map((o) => o.value);
      expect(ksUniform(values, lo, hi), name).toBeLessThan(1.95 / Math.sqrt(values.length));
    }
  });

  it('flip with p = 0.5; cutout side uniform on 1..16 and centre uniform on the 32x32 grid; no crop offset', () => {
    expectFrequency(draws.filter((d) => d.flip).length, N, 0.5);
    expect(draws.every((d) => d.cropTop === 0 && d.cropLeft === 0)).toBe(true);
    for (let side = 1; side <= 16; side++)
      expectFrequency(draws.filter((d) => d.cutout!.length === side).length, N, 1 / 16);
    for (const key of ['centerY', 'centerX'] as const) {
      const xs = draws.map((d) => d.cutout![key]);
      expect(Math.min(...xs)).toBe(0);
      expect(Math.max(...xs)).toBe(31);
      // U{0..31}: mean 15.5, variance (32^2 - 1) / 12
      expect(Math.abs(mean(xs) - 15.5)).toBeLessThan(5 * Math.sqrt(1023 / 12 / N));
    }
  });
});
