// Seeded, class-stratified subsets (max_train / max_val for the cpu and ci profiles) and split concatenation.
// A subset keeps the original relative order of the images it takes and records their original indices.
import { createRng } from '@scan-repro/core';
import { openDataset, type Dataset, type DatasetConfig, type ImageSplit } from './dataset';

/** 32-bit FNV-1a, to derive independent seeds per split name from one profile seed. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Picks `max` indices so that every label (including -1) keeps its share: class c gets floor(max*n_c/n), and
 * the remaining slots go to the largest fractional parts (ties: lower label first). Within a class the
 * images are chosen by a seeded shuffle. Returns ascending indices; `max <= 0` or `max >= n` returns all.
 */
export function stratifiedSubsetIndices(labels: Int32Array, max: number, seed: number): Int32Array {
  const n = labels.length;
  if (!(max > 0) || max >= n) return Int32Array.from({ length: n }, (_, i) => i);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    let list = byClass.get(labels[i]);
    if (!list) byClass.set(labels[i], (list = []));
    list.push(i);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const quota = new Map<number, number>();
  let given = 0;
  const fractions: { c: number; frac: number }[] = [];
  for (const c of classes) {
    const exact = (max * byClass.get(c)!.length) / n;
    quota.set(c, Math.floor(exact));
    given += Math.floor(exact);
    fractions.push({ c, frac: exact - Math.floor(exact) });
  }
  fractions.sort((a, b) => b.frac - a.frac || a.c - b.c);
  for (let k = 0; given < max; k++, given++) quota.set(fractions[k].c, quota.get(fractions[k].c)! + 1);

  const rng = createRng(seed);
  const taken: number[] = [];
  for (const c of classes) {
    const list = byClass.get(c)!.slice();
    rng.shuffle(list);
    for (let k = 0; k < quota.get(c)!; k++) taken.push(list[k]);
  }
  return Int32Array.from(taken.sort((a, b) => a - b));
}

/**
 * The max_train / max_val subset of a split: `max` stratified indices seeded by `dataset.subset_seed` and the split
 * name (so train and val subsets are independent). loadSplit and the folder readers' decode-time subsets use this
 * one formula, which is what makes them take the same images.
 */
export function splitSubsetIndices(labels: Int32Array, max: number, subsetSeed: number, split: string): Int32Array {
  return stratifiedSubsetIndices(labels, max, (subsetSeed ^ hashString(split)) >>> 0);
}

/** A view of `split` holding only `indices` (in that order); originalIndices maps back to the full split. */
export function subsetSplit(split: ImageSplit, indices: Int32Array): ImageSplit {
  for (const i of indices)
    if (i < 0 || i >= split.size)
      throw new RangeError(`${split.dataset}/${split.split}: subset index ${i} out of range [0, ${split.size})`);
  const labels = Int32Array.from(indices, (i) => split.labels[i]);
  const original = split.originalIndices;
  return {
    dataset: split.dataset,
    split: split.split,
    size: indices.length,
    source: split.source,
    labels,
    imageShape: split.imageShape,
    originalIndices: Int32Array.from(indices, (i) => (original ? original[i] : i)),
    image: (i) => {
      if (!Number.isInteger(i) || i < 0 || i >= indices.length)
        throw new RangeError(`${split.dataset}/${split.split}: image index ${i} out of range [0, ${indices.length})`);
      return split.image(indices[i]);
    },
  };
}

/**
 * The splits one after another under a new name (STL-10 'train+unlabeled'). originalIndices are positions in
 * the concatenation of the full parts.
 */
export function concatSplits(name: string, parts: ImageSplit[]): ImageSplit {
  if (parts.length === 0) throw new Error(`concatSplits(${name}): no splits given`);
  const starts: number[] = [];
  let size = 0;
  for (const p of parts) {
    starts.push(size);
    size += p.size;
  }
  const labels = new Int32Array(size);
  parts.forEach((p, k) => labels.set(p.labels, starts[k]));
  const shape = parts[0].imageShape;
  const same = parts.every(
    (p) => p.imageShape && shape && p.imageShape.height === shape.height && p.imageShape.width === shape.width,
  );
  let fullOffset = 0;
  const originalIndices = new Int32Array(size);
  parts.forEach((p, k) => {
    for (let i = 0; i < p.size; i++)
      originalIndices[starts[k] + i] = fullOffset + (p.originalIndices ? p.originalIndices[i] : i);
    let extent = p.size;
    if (p.originalIndices) for (const o of p.originalIndices) extent = Math.max(extent, o + 1);
    fullOffset += extent;
  });
  return {
    dataset: parts[0].dataset,
    split: name,
    size,
    source: [...new Set(parts.map((p) => p.source))].join(' + '),
    labels,
    imageShape: same ? shape : null,
    originalIndices,
    image: (i) => {
      if (!Number.isInteger(i) || i < 0 || i >= size)
        throw new RangeError(`${parts[0].dataset}/${name}: image index ${i} out of range [0, ${size})`);
      let k = parts.length - 1;
      while (starts[k] > i) k--;
      return parts[k].image(i - starts[k]);
    },
  };
}

/**
 * Loads `split` of a dataset; 'a+b' names that the dataset does not list itself are the concatenation of
 * splits a and b.
 */
export async function loadSplitByName(dataset: Dataset, split: string): Promise<ImageSplit> {
  if (dataset.splits.includes(split) || !split.includes('+')) return dataset.load(split);
  const parts = [];
  for (const p of split.split('+')) parts.push(await dataset.load(p));
  return concatSplits(split, parts);
}

/**
 * Opens `cfg`'s dataset and loads `splits`, reduced to `dataset.max_train` (role 'train') or
 * `dataset.max_val` (role 'val') images by a class-stratified subset seeded by `dataset.subset_seed` and the split
 * name. The subset depends on the dataset config alone (not on profile.seed), so every stage and every seed of the
 * clustering steps sees the same images.
 */
export async function loadSplit(
  cfg: DatasetConfig,
  splits: string | string[],
  opts: { role: 'train' | 'val' },
): Promise<ImageSplit> {
  // a list (dataset.pretext_splits, e.g. [train, unlabeled]) is their concatenation, named 'train+unlabeled'
  const split = Array.isArray(splits) ? splits.join('+') : splits;
  const full = await loadSplitByName(openDataset(cfg), split);
  const max = opts.role === 'train' ? cfg.max_train : cfg.max_val;
  if (!(max > 0) || max >= full.size) return full;
  return subsetSplit(full, splitSubsetIndices(full.labels, max, cfg.subset_seed, split));
}
