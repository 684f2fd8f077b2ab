import { describe, expect, it } from 'vitest';
import type { Rng } from '@scan-repro/core';
import { createLoader, type ImageSplit } from '../src/index';
import type { Batch } from '../src/loader';
import type { DecodedImage } from '../src/dataset';

// 4x4 images whose pixels encode the image index, labels i % 3
function synthSplit(n: number): ImageSplit {
  return {
    dataset: 'synth',
    split: 'train',
    size: n,
    source: 'memory',
    labels: Int32Array.from({ length: n }, (_, i) => i % 3),
    imageShape: { height: 4, width: 4 },
    image: (i) => ({ data: Uint8Array.from({ length: 48 }, (_, p) => (i * 7 + p) % 256), height: 4, width: 4 }),
  };
}

// Reference 'val' path for the test: center crop 2x2 of the 4x4 image, /255, normalise with mean 0.5 std 0.25.
function centerCrop2(img: DecodedImage): Float32Array {
  const out = new Float32Array(12);
  for (let y = 0; y < 2; y++)
    for (let x = 0; x < 2; x++)
      for (let c = 0; c < 3; c++)
        out[(y * 2 + x) * 3 + c] = (img.data[((y + 1) * img.width + x + 1) * 3 + c] / 255 - 0.5) / 0.25;
  return out;
}
// A random transform: the crop plus one rng draw, so the batch contents expose the rng stream.
const noisy = (img: DecodedImage, rng: Rng) => centerCrop2(img).map((v) => v + rng.next());

async function collect(it: AsyncGenerator<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

describe('createLoader', () => {
  const split = synthSplit(23);

  it('batches with shapes, drop_last, and each epoch a permutation', async () => {
    const loader = createLoader({
      split,
      batchSize: 5,
      shuffle: true,
      seed: 1,
      dropLast: true,
      views: [{ transform: centerCrop2, source: 'self' }],
    });
    expect(loader.batchesPerEpoch).toBe(4);
    const batches = await collect(loader.epoch(0));
    expect(batches.map((b) => b.shape)).toEqual(new Array(4).fill([5, 2, 2, 3]));
    const seen = batches.flatMap((b) => Array.from(b.indices));
    expect(new Set(seen).size).toBe(20);
    // view contents are the transform of the indexed image
    expect(batches[2].views[0].subarray(12, 24)).toEqual(centerCrop2(split.image(batches[2].indices[1])));

    const keep = createLoader({
      split,
      batchSize: 5,
      shuffle: false,
      seed: 1,
      dropLast: false,
      views: [{ transform: centerCrop2, source: 'self' }],
    });
    const all = await collect(keep.epoch(0));
    expect(all.map((b) => b.shape[0])).toEqual([5, 5, 5, 5, 3]);
    expect(all.flatMap((b) => Array.from(b.indices))).toEqual(Array.from({ length: 23 }, (_, i) => i));
  });

  it('is deterministic given the seed, whatever the prefetch depth; epochs and seeds differ', async () => {
    const make = (seed: number, prefetch: number) =>
      createLoader({
        split,
        batchSize: 4,
        shuffle: true,
        seed,
        dropLast: false,
        prefetch,
        views: [
          { transform: noisy, source: 'self' },
          { transform: noisy, source: 'self' },
        ],
      });
    const a = await collect(make(5, 0).epoch(3));
    const b = await collect(make(5, 6).epoch(3));
    expect(b.map((x) => x.indices)).toEqual(a.map((x) => x.indices));
    expect(b.map((x) => x.views)).toEqual(a.map((x) => x.views));
    // the two views of one image got different random draws
    expect(a[0].views[0]).not.toEqual(a[0].views[1]);
    const otherEpoch = await collect(make(5, 2).epoch(4));
    expect(otherEpoch.map((x) => Array.from(x.indices))).not.toEqual(a.map((x) => Array.from(x.indices)));
    const otherSeed = await collect(make(6, 2).epoch(3));
    expect(otherSeed.map((x) => Array.from(x.indices))).not.toEqual(a.map((x) => Array.from(x.indices)));
  });

  it('resuming at a batch gives the same batches as the full epoch', async () => {
    const loader = createLoader({
      split,
      batchSize: 4,
      shuffle: true,
      seed: 9,
      dropLast: true,
      prefetch: 3,
      views: [{ transform: noisy, source: 'self' }],
    });
    const full = await collect(loader.epoch(2));
    const tail = await collect(loader.epoch(2, { startBatch: 3 }));
    expect(tail.map((x) => x.views[0])).toEqual(full.slice(3).map((x) => x.views[0]));
  });

  it('restricts to the given indices', async () => {
    const loader = createLoader({
      split,
      indices: [3, 9, 12],
      batchSize: 2,
      shuffle: true,
      seed: 2,
      dropLast: false,
      views: [{ transform: centerCrop2, source: 'self' }],
    });
    const got = (await collect(loader.epoch(0))).flatMap((b) => Array.from(b.indices)).sort((x, y) => x - y);
    expect(got).toEqual([3, 9, 12]);
  });

  it('neighbour views draw uniformly from the anchor K+1 list (or its first `take` columns)', async () => {
    // K+1 = 4: row i = [i, (i+1)%n, (i+2)%n, (i+3)%n]
    const n = split.size;
    const table = new Int32Array(n * 4);
    for (let i = 0; i < n; i++) for (let k = 0; k < 4; k++) table[i * 4 + k] = (i + k) % n;
    const counts = [0, 0, 0, 0];
    const loader = createLoader({
      split,
      batchSize: 8,
      shuffle: true,
      seed: 3,
      dropLast: false,
      prefetch: 2,
      neighbors: { table, width: 4 },
      views: [
        { transform: centerCrop2, source: 'self' },
        { transform: centerCrop2, source: 'neighbor' },
      ],
    });
    for (let e = 0; e < 40; e++) {
      for await (const b of loader.epoch(e)) {
        for (let s = 0; s < b.shape[0]; s++) {
          const a = b.indices[s];
          const nbr = b.neighborIndices![s];
          const col = (nbr - a + n) % n;
          expect(col).toBeLessThan(4);
          counts[col]++;
          expect(b.views[1].subarray(s * 12, s * 12 + 12)).toEqual(centerCrop2(split.image(nbr)));
        }
      }
    }
    // 920 draws over 4 columns: each ~230; a 5-sigma band is ±66
    for (const c of counts) expect(Math.abs(c - 230)).toBeLessThan(66);

    const first2 = createLoader({
      split,
      batchSize: 23,
      shuffle: false,
      seed: 3,
      dropLast: false,
      neighbors: { table, width: 4, take: 2 },
      views: [{ transform: centerCrop2, source: 'neighbor' }],
    });
    for await (const b of first2.epoch(0))
      for (let s = 0; s < 23; s++) expect([b.indices[s], (b.indices[s] + 1) % n]).toContain(b.neighborIndices![s]);
  });

  it('rejects a neighbour table of the wrong size and neighbour views without a table', () => {
    const fixed = { split, batchSize: 2, shuffle: false, seed: 0, dropLast: false };
    expect(() =>
      createLoader({
        ...fixed,
        neighbors: { table: new Int32Array(10), width: 4 },
        views: [{ transform: centerCrop2, source: 'self' }],
      }),
    ).toThrow(/neighbour table has 10 entries; expected 23 rows x 4 columns/);
    expect(() => createLoader({ ...fixed, views: [{ transform: centerCrop2, source: 'neighbor' }] })).toThrow(
      /no neighbour table/,
    );
  });
});

describe('createLoader with worker threads', () => {
  // 8x8 images with varied pixels, transforms given as specs so that workers can rebuild them
  const split: ImageSplit = {
    dataset: 'synth',
    split: 'train',
    size: 30,
    source: 'memory',
    labels: new Int32Array(30),
    imageShape: { height: 8, width: 8 },
    image: (i) => ({
      data: Uint8Array.from({ length: 192 }, (_, p) => (i * 31 + p * 17 + ((p * p) % 13)) % 256),
      height: 8,
      width: 8,
    }),
  };
  const options = {
    cropSize: 8,
    mean: [0.5, 0.5, 0.5] as [number, number, number],
    std: [0.25, 0.25, 0.25] as [number, number, number],
    augment: { num_strong_ops: 4, cutout: 3 },
  };
  const table = Int32Array.from({ length: 30 * 3 }, (_, k) => (Math.floor(k / 3) + (k % 3) * 7) % 30);

  it('gives exactly the batches of the main-thread path', async () => {
    const make = (workers: number, prefetch: number) =>
      createLoader({
        split,
        batchSize: 7,
        shuffle: true,
        seed: 11,
        dropLast: false,
        prefetch,
        workers,
        neighbors: { table, width: 3 },
        views: [
          { transform: { name: 'simclr', options }, source: 'self' },
          { transform: { name: 'ours', options }, source: 'neighbor' },
        ],
      });
    const here = make(0, 0);
    const pooled = make(2, 3);
    try {
      const a = await collect(here.epoch(1));
      const b = await collect(pooled.epoch(1));
      expect(b.map((x) => x.shape)).toEqual([
        [7, 8, 8, 3],
        [7, 8, 8, 3],
        [7, 8, 8, 3],
        [7, 8, 8, 3],
        [2, 8, 8, 3],
      ]);
      expect(b.map((x) => x.indices)).toEqual(a.map((x) => x.indices));
      expect(b.map((x) => x.neighborIndices)).toEqual(a.map((x) => x.neighborIndices));
      expect(b.map((x) => x.views)).toEqual(a.map((x) => x.views));
      expect(a[0].views[0]).not.toEqual(a[0].views[1]);
    } finally {
      await pooled.close();
    }
  });

  it('refuses function transforms with workers', () => {
    expect(() =>
      createLoader({
        split,
        batchSize: 2,
        shuffle: false,
        seed: 0,
        dropLast: false,
        workers: 1,
        views: [{ transform: centerCrop2, source: 'self' }],
      }),
    ).toThrow(/workers need every view transform as a \{ name, options \} spec/);
  });
});
