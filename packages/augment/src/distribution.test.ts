// The SimCLR sampler's random decisions against torchvision's (tools/golden/augment/make_simclr_distribution_goldens.py):
// crop area and aspect-ratio quantiles, crop position, jitter factor ranges and order, and the three probabilities.
import { readFileSync } from 'node:fs';
import { createRng } from '@scan-repro/core';
import { describe, expect, it } from 'vitest';
import { sampleSimclrParams, type SimclrParams } from './pipelines';

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
// configs/dataset/cifar10.yaml's augment block (the official simclr config)
const OFFICIAL = {
  num_strong_ops: 4,
  cutout: 16,
  crop_scale: [0.2, 1],
  jitter: [0.4, 0.4, 0.4, 0.1],
  jitter_p: 0.8,
  grayscale_p: 0.2,
};

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
  const draws: SimclrParams[] = Array.from({ length: N }, () => sampleSimclrParams(32, 32, OFFICIAL, rng));

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
