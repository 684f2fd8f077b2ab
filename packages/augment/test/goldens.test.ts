// Every op and pipeline against Pillow / torchvision outputs (tools/golden/augment/make_augment_goldens.py,
// committed under __goldens__/). Comparisons are exact: uint8 outputs byte for byte, normalised outputs bit for bit.
import { readFileSync } from 'node:fs';
import { createRng } from '@scan-repro/core';
import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../src/image';
import * as pillow from '../src/pillow';
import {
  type SimclrParams,
  type StrongParams,
  applySimclrParams,
  applyStrongParams,
  centerCrop,
  createNormalizer,
  createTransform,
  resizeShorterSide,
  sampleResizedCrop,
} from '../src/pipelines';
import { STRONG_OPS, strongOp } from '../src/strong';

interface EncodedImage {
  height: number;
  width: number;
  data: string;
}
interface OpCase {
  op: string;
  image: string;
  arg: unknown;
  out: EncodedImage;
}
interface EncodedFloat {
  shape: number[];
  data: string;
}

const load = (name: string) => JSON.parse(readFileSync(new URL(`./__goldens__/${name}`, import.meta.url), 'utf8'));
const opsGolden = load('augment-ops.json') as { images: Record<string, EncodedImage>; cases: OpCase[] };
const pipeGolden = load('augment-pipelines.json') as {
  mean: number[];
  std: number[];
  ours: { image: string; cropSize: number; params: StrongParams; out: EncodedFloat }[];
  simclr: { image: string; cropSize: number; params: SimclrParams; out: EncodedFloat }[];
  val: { image: string; resize: number; cropSize: number; out: EncodedFloat }[];
  rrcFallback: { height: number; width: number; crop: { top: number; left: number; height: number; width: number } }[];
};

function decodeImage(e: EncodedImage): RgbImage {
  return { data: new Uint8Array(Buffer.from(e.data, 'base64')), height: e.height, width: e.width };
}
function decodeFloat(e: EncodedFloat): Float32Array {
  const b = Buffer.from(e.data, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
const images = Object.fromEntries(Object.entries(opsGolden.images).map(([k, v]) => [k, decodeImage(v)]));

/** Size plus a summary of differences, so a failure says how far off and where. */
function diff(
  actual: { data: ArrayLike<number>; height?: number; width?: number },
  expected: { data: ArrayLike<number>; height?: number; width?: number },
) {
  let mismatches = 0;
  let maxAbs = 0;
  let first = -1;
  const n = Math.min(actual.data.length, expected.data.length);
  for (let i = 0; i < n; i++) {
    const a = actual.data[i];
    const e = expected.data[i];
    if (!Object.is(a, e) && a !== e) {
      mismatches++;
      maxAbs = Math.max(maxAbs, Math.abs(a - e));
      if (first < 0) first = i;
    }
  }
  return { size: `${actual.height}x${actual.width}x${actual.data.length}`, mismatches, maxAbs, first };
}

function runOp(c: OpCase, img: RgbImage): RgbImage {
  const arg = c.arg as never;
  if (STRONG_OPS.some((o) => o.name === c.op)) return strongOp(c.op).apply(img, (c.arg ?? 0) as number);
  switch (c.op) {
    case 'adjust_hue':
      return pillow.adjustHue(img, arg);
    case 'adjust_brightness':
      return pillow.adjustBrightness(img, arg);
    case 'adjust_contrast':
      return pillow.adjustContrast(img, arg);
    case 'adjust_saturation':
      return pillow.adjustSaturation(img, arg);
    case 'rgb_to_grayscale':
      return pillow.grayscaleRgb(img);
    case 'hflip':
      return pillow.flipLeftRight(img);
    case 'rot90':
      return pillow.rotate90(img, arg);
    case 'resize': {
      const [h, w] = c.arg as number[];
      return pillow.resizeBilinear(img, h, w);
    }
    case 'resized_crop': {
      const [i, j, h, w, size] = c.arg as number[];
      return pillow.resizeBilinear(pillow.crop(img, i, j, h, w), size, size);
    }
    case 'resize_shorter':
      return resizeShorterSide(img, arg);
    case 'center_crop':
      return centerCrop(img, arg, arg);
    default:
      throw new Error(`golden case with unknown op '${c.op}'`);
  }
}

describe('single ops equal Pillow / torchvision exactly', () => {
  it('covers every strong op and every helper', () => {
    const ops = new Set(opsGolden.cases.map((c) => c.op));
    for (const op of STRONG_OPS) expect(ops.has(op.name)).toBe(true);
    expect(opsGolden.cases.length).toBeGreaterThan(300);
  });
  it.each(opsGolden.cases.map((c, i) => [`${c.op}(${JSON.stringify(c.arg)}) on ${c.image} #${i}`, c] as const))(
    '%s',
    (_, c) => {
      const input = images[c.image];
      const before = input.data.slice();
      const out = runOp(c, input);
      const expected = decodeImage(c.out);
      expect([out.height, out.width]).toEqual([expected.height, expected.width]);
      expect(diff(out, expected)).toMatchObject({ mismatches: 0 });
      expect(input.data).toEqual(before); // ops never mutate their input
    },
  );
});

describe('pipelines with explicit parameters equal torchvision bit for bit', () => {
  const normalize = createNormalizer(pipeGolden.mean, pipeGolden.std);
  it.each(pipeGolden.ours.map((c, i) => [`ours #${i} on ${c.image}`, c] as const))('%s', (_, c) => {
    const out = applyStrongParams(images[c.image], c.params, c.cropSize, normalize);
    expect(diff({ data: out }, { data: decodeFloat(c.out) })).toMatchObject({ mismatches: 0 });
  });
  it.each(pipeGolden.simclr.map((c, i) => [`simclr #${i} on ${c.image}`, c] as const))('%s', (_, c) => {
    const out = applySimclrParams(images[c.image], c.params, c.cropSize, normalize);
    expect(diff({ data: out }, { data: decodeFloat(c.out) })).toMatchObject({ mismatches: 0 });
  });
  it.each(pipeGolden.val.map((c, i) => [`val #${i} on ${c.image} resize ${c.resize}`, c] as const))('%s', (_, c) => {
    const t = createTransform('val', {
      cropSize: c.cropSize,
      resize: c.resize,
      mean: pipeGolden.mean,
      std: pipeGolden.std,
      augment: { num_strong_ops: 4, cutout: 16 },
    });
    const out = t(images[c.image], createRng(1));
    expect(diff({ data: out }, { data: decodeFloat(c.out) })).toMatchObject({ mismatches: 0 });
  });
  it('RandomResizedCrop falls back to the same central crop as torchvision when no try fits', () => {
    const rng = createRng(7);
    for (const c of pipeGolden.rrcFallback) {
      expect(sampleResizedCrop(c.height, c.width, [2, 3], [3 / 4, 4 / 3], rng)).toEqual(c.crop);
    }
  });
});
