// The 14 strong augmentations of SCAN's "ours" strategy (official data/augment.py, RandAugment-style without a
// global magnitude): each op has its own uniform magnitude range; Rotate, Shear* and Translate* flip the sign
// of their magnitude with p = 0.5. Ops are drawn with replacement.

import type { Rng } from '@scan-repro/core';
import type { RgbImage } from './image';
import {
  adjustBrightness,
  adjustContrast,
  adjustSaturation,
  adjustSharpness,
  autocontrast,
  equalize,
  posterize,
  rotate,
  shearX,
  shearY,
  solarize,
  translateX,
  translateY,
} from './pillow';

export type StrongOpName =
  | 'Identity'
  | 'AutoContrast'
  | 'Equalize'
  | 'Rotate'
  | 'Solarize'
  | 'Color'
  | 'Contrast'
  | 'Brightness'
  | 'Sharpness'
  | 'ShearX'
  | 'TranslateX'
  | 'TranslateY'
  | 'Posterize'
  | 'ShearY';

export interface StrongOp {
  name: StrongOpName;
  /** Magnitude range [min, max): value = min + u * (max - min), u uniform in [0, 1). */
  min: number;
  max: number;
  /** Whether the op negates its magnitude with p = 0.5 (random_mirror in the official code). */
  randomSign: boolean;
  /** Applies the op with a final (already signed) magnitude; never mutates `img`. */
  apply(img: RgbImage, value: number): RgbImage;
}

/** The official augment_list(), in its order (the order maps uniform index draws to ops). */
export const STRONG_OPS: readonly StrongOp[] = [
  { name: 'Identity', min: 0, max: 1, randomSign: false, apply: (img) => img },
  { name: 'AutoContrast', min: 0, max: 1, randomSign: false, apply: (img) => autocontrast(img) },
  { name: 'Equalize', min: 0, max: 1, randomSign: false, apply: (img) => equalize(img) },
  { name: 'Rotate', min: -30, max: 30, randomSign: true, apply: (img, v) => rotate(img, v) },
  { name: 'Solarize', min: 0, max: 256, randomSign: false, apply: (img, v) => solarize(img, v) },
  { name: 'Color', min: 0.05, max: 0.95, randomSign: false, apply: (img, v) => adjustSaturation(img, v) },
  { name: 'Contrast', min: 0.05, max: 0.95, randomSign: false, apply: (img, v) => adjustContrast(img, v) },
  { name: 'Brightness', min: 0.05, max: 0.95, randomSign: false, apply: (img, v) => adjustBrightness(img, v) },
  { name: 'Sharpness', min: 0.05, max: 0.95, randomSign: false, apply: (img, v) => adjustSharpness(img, v) },
  { name: 'ShearX', min: -0.1, max: 0.1, randomSign: true, apply: (img, v) => shearX(img, v) },
  { name: 'TranslateX', min: -0.1, max: 0.1, randomSign: true, apply: (img, v) => translateX(img, v) },
  { name: 'TranslateY', min: -0.1, max: 0.1, randomSign: true, apply: (img, v) => translateY(img, v) },
  // the official Posterize takes int(v): v in [4, 8) gives 4..7 bits
  { name: 'Posterize', min: 4, max: 8, randomSign: false, apply: (img, v) => posterize(img, Math.trunc(v)) },
  { name: 'ShearY', min: -0.1, max: 0.1, randomSign: true, apply: (img, v) => shearY(img, v) },
];

const OPS_BY_NAME = new Map<string, StrongOp>(STRONG_OPS.map((op) => [op.name, op]));

export function strongOp(name: string): StrongOp {
  const op = OPS_BY_NAME.get(name);
  if (!op) {
    throw new RangeError(
      `unknown strong augmentation op '${name}'; expected one of ${STRONG_OPS.map((o) => o.name).join(', ')}`,
    );
  }
  return op;
}

/** One drawn op with its final magnitude (sign already applied). */
export interface StrongOpDraw {
  name: StrongOpName;
  value: number;
}

/**
 * Draws `n` ops with replacement, then for each its magnitude and (for signed ops) its sign, in the order of
 * the official Augment.__call__: random.choices(k=n) first, then per op `min + u * (max - min)`, then the
 * op's own `random() > 0.5` sign flip.
 */
export function sampleStrongOps(n: number, rng: Rng): StrongOpDraw[] {
  const picks: StrongOp[] = [];
  for (let i = 0; i < n; i++) picks.push(STRONG_OPS[rng.int(STRONG_OPS.length)]);
  return picks.map((op) => {
    let value = rng.next() * (op.max - op.min) + op.min;
    if (op.randomSign && rng.next() > 0.5) value = -value;
    return { name: op.name, value };
  });
}

/** Applies drawn ops in order. */
export function applyStrongOps(img: RgbImage, ops: readonly StrongOpDraw[]): RgbImage {
  let out = img;
  for (const { name, value } of ops) out = strongOp(name).apply(out, value);
  return out;
}
