// Sampling, seeding and composition of the pipelines (the pixel maths is checked against Pillow in goldens.test.ts).
import { createRng } from '@scan-repro/core';
import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../src/image';
import { rotate90 } from '../src/pillow';
import {
  type TransformOptions,
  applySimclrParams,
  createNormalizer,
  createTransform,
  cutoutBox,
  rotnetViews,
  sampleResizedCrop,
  sampleSimclrParams,
  sampleStrongParams,
} from '../src/pipelines';
import { STRONG_OPS, sampleStrongOps } from '../src/strong';
import { OFFICIAL_AUGMENT } from '@scan-repro/test-utils';

const CIFAR = { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.201] };
const augment = OFFICIAL_AUGMENT;
const opts: TransformOptions = { cropSize: 32, ...CIFAR, augment };

function randomImage(h: number, w: number, seed: number): RgbImage {
  const rng = createRng(seed);
  const data = new Uint8Array(h * w * 3);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
  return { data, height: h, width: w };
}
function constantImage(h: number, w: number, rgb: [number, number, number]): RgbImage {
  const data = new Uint8Array(h * w * 3);
  for (let i = 0; i < data.length; i += 3) data.set(rgb, i);
  return { data, height: h, width: w };
}

describe('seeding', () => {
  const img = randomImage(32, 32, 1);
  for (const name of ['ours', 'simclr'] as const) {
    it(`${name}: same seed gives the same output, other seeds differ, input untouched`, () => {
      const t = createTransform(name, opts);
      const before = img.data.slice();
      const a = t(img, createRng(42));
      const b = t(img, createRng(42));
      expect(a.length).toBe(32 * 32 * 3);
      expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
      let differing = 0;
      for (let s = 43; s < 53; s++)
        if (!Buffer.from(t(img, createRng(s)).buffer).equals(Buffer.from(a.buffer))) differing++;
      expect(differing).toBeGreaterThanOrEqual(9);
      expect(img.data).toEqual(before);
    });
  }
});

describe('"ours" strong ops sampling (official Augment)', () => {
  const N = 20000;
  const rng = createRng(7);
  const draws = Array.from({ length: N }, () => sampleStrongOps(4, rng)).flat();

  it('draws 4 ops per image, with replacement, uniformly over the 14 ops', () => {
    expect(draws.length).toBe(4 * N);
    const counts = new Map<string, number>();
    for (const d of draws) counts.set(d.name, (counts.get(d.name) ?? 0) + 1);
    expect(counts.size).toBe(14);
    for (const op of STRONG_OPS) expect(Math.abs(counts.get(op.name)! / draws.length - 1 / 14)).toBeLessThan(0.005);
    // with replacement: the same op twice in one image happens (1 - 14*13*12*11/14^4 ≈ 0.37 of images)
    let repeats = 0;
    for (let i = 0; i < draws.length; i += 4) if (new Set(draws.slice(i, i + 4).map((d) => d.name)).size < 4) repeats++;
    expect(Math.abs(repeats / N - (1 - (14 * 13 * 12 * 11) / 14 ** 4))).toBeLessThan(0.015);
  });

  it('magnitudes are uniform over each op range; rotate/shear/translate flip sign with p = 0.5', () => {
    for (const op of STRONG_OPS) {
      const vals = draws.filter((d) => d.name === op.name).map((d) => d.value);
      const lo = op.randomSign ? -Math.max(Math.abs(op.min), Math.abs(op.max)) : op.min;
      const hi = op.randomSign ? Math.max(Math.abs(op.min), Math.abs(op.max)) : op.max;
      expect(vals.every((v) => v >= lo && v <= hi)).toBe(true);
      const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
      expect(Math.abs(mean - (op.min + op.max) / 2)).toBeLessThan(0.03 * (op.max - op.min));
      if (op.randomSign) {
        // symmetric ranges: the sign is a fair coin whatever the magnitude draw
        const neg = vals.filter((v) => v < 0).length / vals.length;
        expect(Math.abs(neg - 0.5)).toBeLessThan(0.03);
      }
    }
    // factor ops only weaken (factor < 1); Posterize uses int(v): 4..7 bits equally often
    expect(draws.filter((d) => d.name === 'Color').every((d) => d.value >= 0.05 && d.value < 0.95)).toBe(true);
    const bits = draws.filter((d) => d.name === 'Posterize').map((d) => Math.trunc(d.value));
    for (const b of [4, 5, 6, 7])
      expect(Math.abs(bits.filter((x) => x === b).length / bits.length - 0.25)).toBeLessThan(0.03);
    expect(bits.every((b) => b >= 4 && b <= 7)).toBe(true);
  });

  it('flip p = 0.5, RandomCrop offsets uniform, cutout side uniform in [1, L] and centre uniform', () => {
    const r = createRng(11);
    const P = Array.from({ length: 8000 }, () => sampleStrongParams(40, 36, 32, augment, r));
    expect(Math.abs(P.filter((p) => p.flip).length / P.length - 0.5)).toBeLessThan(0.02);
    const tops = new Set(P.map((p) => p.cropTop));
    const lefts = new Set(P.map((p) => p.cropLeft));
    expect([...tops].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...lefts].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
    const lengths = P.map((p) => p.cutout!.length);
    for (let L = 1; L <= 16; L++)
      expect(Math.abs(lengths.filter((x) => x === L).length / P.length - 1 / 16)).toBeLessThan(0.015);
    expect(Math.min(...lengths)).toBe(1);
    expect(Math.max(...lengths)).toBe(16);
    const cy = P.map((p) => p.cutout!.centerY);
    expect(Math.min(...cy)).toBe(0);
    expect(Math.max(...cy)).toBe(31);
    expect(Math.abs(cy.reduce((a, b) => a + b, 0) / cy.length - 15.5)).toBeLessThan(0.5);
    // no crop draws when the image already has the crop size (CIFAR/STL)
    expect(sampleStrongParams(32, 32, 32, augment, r)).toMatchObject({ cropTop: 0, cropLeft: 0 });
  });

  it('cutout zeroes exactly the official box after normalisation (= the dataset mean colour)', () => {
    expect(cutoutBox(32, 32, 16, 10, 20)).toEqual({ y1: 2, y2: 18, x1: 12, x2: 28 });
    expect(cutoutBox(32, 32, 15, 0, 31)).toEqual({ y1: 0, y2: 7, x1: 24, x2: 32 }); // clipped; side 2 * floor(15 / 2)
    expect(cutoutBox(32, 32, 1, 5, 5)).toEqual({ y1: 5, y2: 5, x1: 5, x2: 5 }); // length 1 zeroes nothing
    const t = createTransform('ours', { ...opts, augment: { num_strong_ops: 0, cutout: 16 } });
    const img = constantImage(32, 32, [10, 200, 90]); // no channel normalises to 0
    const normalize = createNormalizer(CIFAR.mean, CIFAR.std);
    const plain = normalize(img);
    for (let seed = 0; seed < 50; seed++) {
      const p = sampleStrongParams(32, 32, 32, { num_strong_ops: 0, cutout: 16 }, createRng(seed));
      const box = cutoutBox(32, 32, p.cutout!.length, p.cutout!.centerY, p.cutout!.centerX);
      const out = t(img, createRng(seed));
      let wrong = 0;
      let zeros = 0;
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          const inside = y >= box.y1 && y < box.y2 && x >= box.x1 && x < box.x2;
          for (let c = 0; c < 3; c++) {
            const v = out[(y * 32 + x) * 3 + c];
            if (v !== (inside ? 0 : plain[(y * 32 + x) * 3 + c])) wrong++;
            if (v === 0) zeros++;
          }
        }
      }
      expect(wrong).toBe(0);
      expect(zeros).toBe(3 * (box.y2 - box.y1) * (box.x2 - box.x1));
    }
    // a pixel equal to the mean colour normalises to (almost) 0: the hole looks like the mean colour
    const meanPixel = constantImage(1, 1, [125, 123, 114]);
    for (const v of normalize(meanPixel)) expect(Math.abs(v)).toBeLessThan(0.01);
  });
});

describe('"simclr" sampling (torchvision RandomResizedCrop / ColorJitter / RandomGrayscale)', () => {
  const r = createRng(5);
  const P = Array.from({ length: 20000 }, () => sampleSimclrParams(32, 32, augment, r));

  it('applies jitter with p 0.8, grayscale with p 0.2, flip with p 0.5', () => {
    const rate = (f: (p: (typeof P)[number]) => boolean) => P.filter(f).length / P.length;
    expect(Math.abs(rate((p) => p.jitter !== null) - 0.8)).toBeLessThan(0.015);
    expect(Math.abs(rate((p) => p.grayscale) - 0.2)).toBeLessThan(0.015);
    expect(Math.abs(rate((p) => p.flip) - 0.5)).toBeLessThan(0.015);
  });

  it('jitter factors in [0.6, 1.4], hue in [-0.1, 0.1], all 24 orders equally likely', () => {
    const J = P.flatMap((p) => (p.jitter ? [p.jitter] : []));
    const factors = J.flatMap((j) => [j.brightness!, j.contrast!, j.saturation!]);
    expect(factors.every((f) => f >= 0.6 && f < 1.4)).toBe(true);
    expect(J.every((j) => Math.abs(j.hue!) <= 0.1)).toBe(true);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.abs(mean(J.map((j) => j.brightness!)) - 1)).toBeLessThan(0.01);
    expect(Math.abs(mean(J.map((j) => j.hue!)))).toBeLessThan(0.003);
    const orders = new Map<string, number>();
    for (const j of J) orders.set(j.order.join(''), (orders.get(j.order.join('')) ?? 0) + 1);
    expect(orders.size).toBe(24);
    for (const n of orders.values()) expect(Math.abs(n / J.length - 1 / 24)).toBeLessThan(0.01);
  });

  it('RandomResizedCrop: area fraction ≈ U[0.2, 1], aspect within [3/4, 4/3] up to rounding, inside the image', () => {
    const fr = P.map((p) => (p.crop.height * p.crop.width) / (32 * 32));
    const inside = (c: (typeof P)[number]['crop']) =>
      c.top >= 0 && c.left >= 0 && c.top + c.height <= 32 && c.left + c.width <= 32;
    expect(P.every((p) => inside(p.crop))).toBe(true);
    expect(Math.min(...fr)).toBeGreaterThan(0.17);
    // a few draws exceed the image in one side and are retried, so the mean is a bit below 0.6
    const m = fr.reduce((a, b) => a + b, 0) / fr.length;
    expect(m).toBeGreaterThan(0.52);
    expect(m).toBeLessThan(0.6);
    const big = sampleResizedCrop(1000, 1000, [0.2, 1], [3 / 4, 4 / 3], createRng(3));
    expect(big.width / big.height).toBeGreaterThan(0.74);
    expect(big.width / big.height).toBeLessThan(1.34);
  });

  it('grayscale views have equal channels', () => {
    const identity = createNormalizer([0, 0, 0], [1, 1, 1]);
    const p = P.find((q) => q.grayscale)!;
    const out = applySimclrParams(randomImage(32, 32, 3), p, 32, identity);
    let unequal = 0;
    for (let i = 0; i < out.length; i += 3) if (out[i + 1] !== out[i] || out[i + 2] !== out[i]) unequal++;
    expect(unequal).toBe(0);
  });
});

describe('val / none / resize / rotnet', () => {
  it('val centre-crops deterministically; resize makes the shorter side `resize`', () => {
    const img = randomImage(48, 40, 9);
    const identity = { ...opts, mean: [0, 0, 0], std: [1, 1, 1] };
    const out = createTransform('val', identity)(img, createRng(0));
    // crop offsets (48-32)/2 = 8, (40-32)/2 = 4
    expect(out[0]).toBe(Math.fround(img.data[(8 * 40 + 4) * 3] / 255));
    expect(createTransform('val', { ...identity, resize: 36 })(img, createRng(0)).length).toBe(32 * 32 * 3);
    expect(createTransform('ours', { ...opts, resize: 36 })(img, createRng(0)).length).toBe(32 * 32 * 3);
    expect(createTransform('simclr', { ...opts, resize: 36 })(img, createRng(0)).length).toBe(32 * 32 * 3);
  });

  it('none only normalises, and rejects images of another size', () => {
    const img = randomImage(32, 32, 4);
    expect(createTransform('none', opts)(img, createRng(0))).toEqual(createNormalizer(CIFAR.mean, CIFAR.std)(img));
    expect(() => createTransform('none', opts)(randomImage(30, 32, 1), createRng(0))).toThrow(/30×32.*cropSize is 32/);
  });

  it('rotnet gives 0/90/180/270 degree views labelled 0..3', () => {
    const img = randomImage(5, 7, 2);
    const views = rotnetViews(img);
    expect(views.map((v) => v.label)).toEqual([0, 1, 2, 3]);
    expect(views.map((v) => [v.image.height, v.image.width])).toEqual([
      [5, 7],
      [7, 5],
      [5, 7],
      [7, 5],
    ]);
    // 90° counter-clockwise: the top-right pixel becomes the top-left one
    expect(Array.from(views[1].image.data.subarray(0, 3))).toEqual(Array.from(img.data.subarray(6 * 3, 7 * 3)));
    expect(rotate90(rotate90(views[3].image, 1), 0).data).toEqual(img.data);
    expect(rotate90(views[2].image, 2).data).toEqual(img.data);
  });

  it('bad options and images name the key / value', () => {
    expect(() => createTransform('ours', { ...opts, cropSize: 0 })).toThrow(
      /'cropSize' must be a positive integer, got 0/,
    );
    expect(() => createTransform('simclr', { ...opts, augment: { ...augment, jitter_p: 1.5 } })).toThrow(
      /'augment.jitter_p'.*1.5/,
    );
    expect(() => createTransform('ours', { ...opts, std: [0.2, 0, 0.2] })).toThrow(
      /'std' must be 3 finite numbers > 0/,
    );
    expect(() => createTransform('fancy' as never, opts)).toThrow(/unknown transform 'fancy'/);
    expect(() =>
      createTransform('ours', opts)({ data: new Uint8Array(10), height: 2, width: 2 }, createRng(0)),
    ).toThrow(/10 bytes.*2×2×3/);
    expect(() => createTransform('ours', opts)(randomImage(20, 40, 1), createRng(0))).toThrow(
      /crop size 32 is larger than the image \(20×40\)/,
    );
  });
});
