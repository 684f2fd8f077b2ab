// The augmentation pipelines of the official SCAN code (utils/common_config.py), seeded by our Rng:
//   simclr: RandomResizedCrop -> RandomHorizontalFlip -> RandomApply(ColorJitter, p) -> RandomGrayscale -> Normalize
//   ours:   RandomHorizontalFlip -> RandomCrop -> Augment(n strong ops) -> Normalize -> Cutout
//   val:    CenterCrop -> Normalize
//   none:   Normalize
// ImageNet's dataset classes resize the shorter side (to 256) before any transform; `resize` does that here.
//
// Each random pipeline is split into a sampler (draws every random decision from the Rng into a plain params
// object) and an apply function (deterministic given the params). That makes the exact composition testable
// against torchvision/Pillow with fixed params, and the sampling testable on its own.

import type { Rng } from '@scan-repro/core';
import { type RgbImage, assertRgbImage } from './image';
import {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  crop,
  flipLeftRight,
  grayscaleRgb,
  resizeBilinear,
  rotate90,
} from './pillow';
import { type StrongOpDraw, applyStrongOps, sampleStrongOps } from './strong';

export type Triple = readonly [number, number, number] | readonly number[];

export interface AugmentOptions {
  /** Number of strong ops per image for "ours" (4 in the paper). */
  num_strong_ops: number;
  /** Cutout maximum side L for "ours" (16 CIFAR, 32 STL, 75 ImageNet); 0 disables cutout. */
  cutout: number;
  /** RandomResizedCrop scale range for "simclr" (default [0.2, 1]). */
  crop_scale?: readonly number[];
  /** ColorJitter (brightness, contrast, saturation, hue) for "simclr" (default [0.4, 0.4, 0.4, 0.1]). */
  jitter?: readonly number[];
  /** Probability of applying ColorJitter (default 0.8). */
  jitter_p?: number;
  /** Probability of RandomGrayscale (default 0.2). */
  grayscale_p?: number;
}

export interface TransformOptions {
  /** Output side: every transform returns cropSize × cropSize × 3 floats (HWC). */
  cropSize: number;
  /** Resize the shorter side to this many pixels (bilinear) before the transform; 0 / undefined = no resize. */
  resize?: number;
  mean: Triple;
  std: Triple;
  augment: AugmentOptions;
}

export type TransformName = 'simclr' | 'ours' | 'val' | 'none';
export const TRANSFORM_NAMES: readonly TransformName[] = ['simclr', 'ours', 'val', 'none'];

/** A seeded image transform: uint8 HWC RGB in, normalised float32 HWC (cropSize × cropSize × 3) out. */
export type ImageTransform = (img: RgbImage, rng: Rng) => Float32Array;

const SIMCLR_RATIO: readonly [number, number] = [3 / 4, 4 / 3];

// ---------------------------------------------------------------------------------------------------------
// Normalisation (ToTensor + Normalize in float32)

export type Normalizer = (img: RgbImage, out?: Float32Array) => Float32Array;

/**
 * ToTensor() then Normalize(mean, std), computed as torch does in float32: ((v / 255) - mean) / std with each
 * step rounded to float32. Precomputed as a 3 × 256 table.
 */
export function createNormalizer(mean: Triple, std: Triple): Normalizer {
  checkTriple(mean, 'mean');
  checkTriple(std, 'std', true);
  const lut = new Float32Array(768);
  for (let c = 0; c < 3; c++) {
    const m = Math.fround(mean[c]);
    const s = Math.fround(std[c]);
    for (let v = 0; v < 256; v++) {
      lut[c * 256 + v] = Math.fround(Math.fround(Math.fround(v / 255) - m) / s);
    }
  }
  return (img, out) => {
    const src = img.data;
    const dst = out ?? new Float32Array(src.length);
    if (dst.length !== src.length) {
      throw new RangeError(`normalize: output buffer has ${dst.length} floats, image needs ${src.length}`);
    }
    for (let i = 0; i < src.length; i += 3) {
      dst[i] = lut[src[i]];
      dst[i + 1] = lut[256 + src[i + 1]];
      dst[i + 2] = lut[512 + src[i + 2]];
    }
    return dst;
  };
}

// ---------------------------------------------------------------------------------------------------------
// Deterministic building blocks

/** Python's round(): halves to even (used by torchvision's crop arithmetic). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

/** torchvision Resize(size) with an int size: shorter side -> size, longer side -> int(size * long / short). */
export function resizeShorterSide(img: RgbImage, size: number): RgbImage {
  const { height: h, width: w } = img;
  const short = Math.min(h, w);
  const long = Math.max(h, w);
  const newLong = Math.trunc((size * long) / short);
  const [newH, newW] = w <= h ? [newLong, size] : [size, newLong];
  return resizeBilinear(img, newH, newW);
}

/** torchvision center_crop: pads with zeros when the crop is larger, offsets rounded half-to-even. */
export function centerCrop(img: RgbImage, cropHeight: number, cropWidth: number): RgbImage {
  let { height: h, width: w } = img;
  let top = 0;
  let left = 0;
  if (cropWidth > w || cropHeight > h) {
    // zero padding (left, top) = floor(excess / 2); crop() already reads zeros outside the image
    const padLeft = cropWidth > w ? Math.floor((cropWidth - w) / 2) : 0;
    const padTop = cropHeight > h ? Math.floor((cropHeight - h) / 2) : 0;
    const padRight = cropWidth > w ? Math.floor((cropWidth - w + 1) / 2) : 0;
    const padBottom = cropHeight > h ? Math.floor((cropHeight - h + 1) / 2) : 0;
    top = -padTop;
    left = -padLeft;
    h += padTop + padBottom;
    w += padLeft + padRight;
  }
  top += roundHalfEven((h - cropHeight) / 2.0);
  left += roundHalfEven((w - cropWidth) / 2.0);
  return crop(img, top, left, cropHeight, cropWidth);
}

/** Cutout's zeroed box: rows [y1, y2) × cols [x1, x2), exactly as the official Cutout computes it. */
export function cutoutBox(height: number, width: number, length: number, centerY: number, centerX: number) {
  // the official code uses length // 2 on both sides, so the box side is 2 * floor(length / 2) before clipping
  const half = Math.floor(length / 2);
  const clip = (v: number, hi: number) => (v < 0 ? 0 : v > hi ? hi : v);
  return {
    y1: clip(centerY - half, height),
    y2: clip(centerY + half, height),
    x1: clip(centerX - half, width),
    x2: clip(centerX + half, width),
  };
}

/** Zeroes the cutout box in a normalised HWC float image (= the dataset mean colour). */
export function applyCutout(out: Float32Array, height: number, width: number, box: ReturnType<typeof cutoutBox>): void {
  for (let y = box.y1; y < box.y2; y++) {
    out.fill(0, (y * width + box.x1) * 3, (y * width + box.x2) * 3);
  }
}

// ---------------------------------------------------------------------------------------------------------
// "ours" (strong) pipeline

export interface StrongParams {
  flip: boolean;
  cropTop: number;
  cropLeft: number;
  ops: StrongOpDraw[];
  /** null when cutout is disabled (L = 0). */
  cutout: { length: number; centerY: number; centerX: number } | null;
}

/** Draws every random decision of "ours" for an image of the given (post-resize) size. */
export function sampleStrongParams(
  height: number,
  width: number,
  cropSize: number,
  augment: AugmentOptions,
  rng: Rng,
): StrongParams {
  const flip = rng.next() < 0.5;
  if (height < cropSize || width < cropSize) {
    throw new RangeError(`RandomCrop: crop size ${cropSize} is larger than the image (${height}×${width})`);
  }
  let cropTop = 0;
  let cropLeft = 0;
  if (height !== cropSize || width !== cropSize) {
    cropTop = rng.int(height - cropSize + 1);
    cropLeft = rng.int(width - cropSize + 1);
  }
  const ops = sampleStrongOps(augment.num_strong_ops, rng);
  let cutout: StrongParams['cutout'] = null;
  if (augment.cutout > 0) {
    const length = 1 + rng.int(augment.cutout); // random.randint(1, L)
    cutout = { length, centerY: rng.int(cropSize), centerX: rng.int(cropSize) };
  }
  return { flip, cropTop, cropLeft, ops, cutout };
}

export function applyStrongParams(
  img: RgbImage,
  params: StrongParams,
  cropSize: number,
  normalize: Normalizer,
): Float32Array {
  let x = params.flip ? flipLeftRight(img) : img;
  x = crop(x, params.cropTop, params.cropLeft, cropSize, cropSize);
  x = applyStrongOps(x, params.ops);
  const out = normalize(x);
  if (params.cutout) {
    const { length, centerY, centerX } = params.cutout;
    applyCutout(out, cropSize, cropSize, cutoutBox(cropSize, cropSize, length, centerY, centerX));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// "simclr" pipeline

export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** torchvision RandomResizedCrop.get_params: 10 tries of (area scale, log-uniform ratio), then the fallback. */
export function sampleResizedCrop(
  height: number,
  width: number,
  scale: readonly number[],
  ratio: readonly number[],
  rng: Rng,
): CropBox {
  const area = height * width;
  const logLo = Math.log(ratio[0]);
  const logHi = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * (scale[0] + (scale[1] - scale[0]) * rng.next());
    const aspect = Math.exp(logLo + (logHi - logLo) * rng.next());
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = rng.int(height - h + 1);
      const left = rng.int(width - w + 1);
      return { top, left, height: h, width: w };
    }
  }
  // fallback: central crop with the ratio clamped into range
  const inRatio = width / height;
  let w: number;
  let h: number;
  if (inRatio < Math.min(ratio[0], ratio[1])) {
    w = width;
    h = roundHalfEven(w / Math.min(ratio[0], ratio[1]));
  } else if (inRatio > Math.max(ratio[0], ratio[1])) {
    h = height;
    w = roundHalfEven(h * Math.max(ratio[0], ratio[1]));
  } else {
    w = width;
    h = height;
  }
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

export interface JitterParams {
  /** Order of the adjustments: 0 brightness, 1 contrast, 2 saturation, 3 hue (torch.randperm(4)). */
  order: number[];
  /** Factors; null where that jitter strength is 0 (torchvision then skips the adjustment). */
  brightness: number | null;
  contrast: number | null;
  saturation: number | null;
  hue: number | null;
}

export interface SimclrParams {
  crop: CropBox;
  flip: boolean;
  /** null when RandomApply did not apply ColorJitter. */
  jitter: JitterParams | null;
  grayscale: boolean;
}

/** Draws every random decision of "simclr" for an image of the given (post-resize) size. */
export function sampleSimclrParams(height: number, width: number, augment: AugmentOptions, rng: Rng): SimclrParams {
  const scale = augment.crop_scale ?? [0.2, 1.0];
  const [jb, jc, js, jh] = augment.jitter ?? [0.4, 0.4, 0.4, 0.1];
  const jitterP = augment.jitter_p ?? 0.8;
  const grayP = augment.grayscale_p ?? 0.2;
  const cropBox = sampleResizedCrop(height, width, scale, SIMCLR_RATIO, rng);
  const flip = rng.next() < 0.5;
  let jitter: JitterParams | null = null;
  if (rng.next() < jitterP) {
    const order = [0, 1, 2, 3];
    for (let i = 3; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    // ColorJitter: factor ranges [max(0, 1 - s), 1 + s]; hue [-h, h]; strength 0 disables an adjustment
    const factor = (s: number) => (s > 0 ? Math.max(0, 1 - s) + (1 + s - Math.max(0, 1 - s)) * rng.next() : null);
    const brightness = factor(jb);
    const contrast = factor(jc);
    const saturation = factor(js);
    const hue = jh > 0 ? -jh + 2 * jh * rng.next() : null;
    jitter = { order, brightness, contrast, saturation, hue };
  }
  const grayscale = rng.next() < grayP;
  return { crop: cropBox, flip, jitter, grayscale };
}

/** ColorJitter's adjustments in the drawn order, on PIL semantics. */
export function applyJitter(img: RgbImage, jitter: JitterParams): RgbImage {
  let x = img;
  for (const fn of jitter.order) {
    if (fn === 0 && jitter.brightness !== null) x = adjustBrightness(x, jitter.brightness);
    else if (fn === 1 && jitter.contrast !== null) x = adjustContrast(x, jitter.contrast);
    else if (fn === 2 && jitter.saturation !== null) x = adjustSaturation(x, jitter.saturation);
    else if (fn === 3 && jitter.hue !== null) x = adjustHue(x, jitter.hue);
  }
  return x;
}

export function applySimclrParams(
  img: RgbImage,
  params: SimclrParams,
  cropSize: number,
  normalize: Normalizer,
): Float32Array {
  const { top, left, height, width } = params.crop;
  let x = resizeBilinear(crop(img, top, left, height, width), cropSize, cropSize);
  if (params.flip) x = flipLeftRight(x);
  if (params.jitter) x = applyJitter(x, params.jitter);
  if (params.grayscale) x = grayscaleRgb(x);
  return normalize(x);
}

// ---------------------------------------------------------------------------------------------------------
// Factories

function checkTriple(v: Triple, key: string, positive = false): void {
  if (
    !Array.isArray(v) ||
    v.length !== 3 ||
    v.some((x) => typeof x !== 'number' || !Number.isFinite(x) || (positive && x <= 0))
  ) {
    throw new RangeError(
      `augment: '${key}' must be 3 finite numbers${positive ? ' > 0' : ''}, got ${JSON.stringify(v)}`,
    );
  }
}

function checkNumber(v: unknown, key: string, ok: (x: number) => boolean, expected: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) {
    throw new RangeError(`augment: '${key}' must be ${expected}, got ${JSON.stringify(v)}`);
  }
}

/** Validates transform options; every error names the key, the value and what was expected. */
export function validateTransformOptions(name: string, opts: TransformOptions): void {
  if (!TRANSFORM_NAMES.includes(name as TransformName)) {
    throw new RangeError(`augment: unknown transform '${name}'; expected one of ${TRANSFORM_NAMES.join(', ')}`);
  }
  checkNumber(opts?.cropSize, 'cropSize', (x) => Number.isInteger(x) && x > 0, 'a positive integer');
  if (opts.resize !== undefined)
    checkNumber(opts.resize, 'resize', (x) => Number.isInteger(x) && x >= 0, 'an integer >= 0 (0 = no resize)');
  checkTriple(opts.mean, 'mean');
  checkTriple(opts.std, 'std', true);
  const a = opts.augment;
  if (!a || typeof a !== 'object')
    throw new RangeError(`augment: 'augment' options are required, got ${JSON.stringify(a)}`);
  if (name === 'ours') {
    checkNumber(a.num_strong_ops, 'augment.num_strong_ops', (x) => Number.isInteger(x) && x >= 0, 'an integer >= 0');
    checkNumber(a.cutout, 'augment.cutout', (x) => Number.isInteger(x) && x >= 0, 'an integer >= 0 (0 = no cutout)');
  }
  if (name === 'simclr') {
    if (a.crop_scale !== undefined) {
      const s = a.crop_scale;
      if (!Array.isArray(s) || s.length !== 2 || !(s[0] > 0 && s[0] <= s[1])) {
        throw new RangeError(
          `augment: 'augment.crop_scale' must be [min, max] with 0 < min <= max, got ${JSON.stringify(s)}`,
        );
      }
    }
    if (a.jitter !== undefined) {
      const j = a.jitter;
      if (!Array.isArray(j) || j.length !== 4 || j.some((x) => typeof x !== 'number' || !(x >= 0)) || j[3] > 0.5) {
        throw new RangeError(
          `augment: 'augment.jitter' must be [brightness, contrast, saturation, hue] >= 0 with hue <= 0.5, got ${JSON.stringify(j)}`,
        );
      }
    }
    if (a.jitter_p !== undefined)
      checkNumber(a.jitter_p, 'augment.jitter_p', (x) => x >= 0 && x <= 1, 'a probability in [0, 1]');
    if (a.grayscale_p !== undefined)
      checkNumber(a.grayscale_p, 'augment.grayscale_p', (x) => x >= 0 && x <= 1, 'a probability in [0, 1]');
  }
}

/**
 * Builds a seeded transform by name ('simclr' | 'ours' | 'val' | 'none'). The returned function never mutates
 * its input and draws all randomness from the Rng it is given.
 */
export function createTransform(name: TransformName, opts: TransformOptions): ImageTransform {
  validateTransformOptions(name, opts);
  const size = opts.cropSize;
  const normalize = createNormalizer(opts.mean, opts.std);
  const pre =
    opts.resize && opts.resize > 0
      ? (img: RgbImage) => resizeShorterSide(img, opts.resize as number)
      : (img: RgbImage) => img;
  const augment = opts.augment;
  switch (name) {
    case 'ours':
      return (img, rng) => {
        assertRgbImage(img, "transform 'ours'");
        const x = pre(img);
        return applyStrongParams(x, sampleStrongParams(x.height, x.width, size, augment, rng), size, normalize);
      };
    case 'simclr':
      return (img, rng) => {
        assertRgbImage(img, "transform 'simclr'");
        const x = pre(img);
        return applySimclrParams(x, sampleSimclrParams(x.height, x.width, augment, rng), size, normalize);
      };
    case 'val':
      return (img) => {
        assertRgbImage(img, "transform 'val'");
        return normalize(centerCrop(pre(img), size, size));
      };
    case 'none':
      return (img) => {
        assertRgbImage(img, "transform 'none'");
        const x = pre(img);
        if (x.height !== size || x.width !== size) {
          throw new RangeError(
            `transform 'none': image is ${x.height}×${x.width} but cropSize is ${size}; use 'val' to crop`,
          );
        }
        return normalize(x);
      };
  }
}

export const simclrTransform = (opts: TransformOptions): ImageTransform => createTransform('simclr', opts);
export const strongTransform = (opts: TransformOptions): ImageTransform => createTransform('ours', opts);
export const valTransform = (opts: TransformOptions): ImageTransform => createTransform('val', opts);

/** RotNet views: the image rotated by 0, 90, 180 and 270 degrees counter-clockwise, labelled 0..3. */
export function rotnetViews(img: RgbImage): { image: RgbImage; label: number }[] {
  assertRgbImage(img, 'rotnetViews');
  return [0, 1, 2, 3].map((k) => ({ image: k === 0 ? img : rotate90(img, k), label: k }));
}
