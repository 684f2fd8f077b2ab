// Augmentation throughput on one core: real CIFAR-10 train images through the 'simclr', 'ours' and 'val'
// transforms, and through the batch loader (two SimCLR views per image, as the pretext stage uses it).
// Compare with the model's training throughput: the loader should manage about 5x that on one core, or it
// needs worker threads.
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { composeConfig, createRng } from '@scan-repro/core';
import { createTransform, type TransformName } from '@scan-repro/augment';
import { createLoader, openDataset, type ImageSplit } from '@scan-repro/data';
import '@scan-repro/dataset-cifar10';

export async function benchAugment(opts: { images?: number } = {}): Promise<string[]> {
  const n = opts.images ?? 5_000;
  const cfg = composeConfig(['dataset=cifar10']);
  const split: ImageSplit = await openDataset(cfg.dataset).load('train');
  const tOpts = { cropSize: cfg.dataset.crop_size, mean: cfg.dataset.mean, std: cfg.dataset.std, augment: cfg.augment };
  const lines: string[] = [];
  for (const name of ['val', 'simclr', 'ours'] as TransformName[]) {
    const transform = createTransform(name, tOpts);
    const rng = createRng(1);
    for (let i = 0; i < 200; i++) transform(split.image(i), rng); // warm-up (JIT)
    const t0 = performance.now();
    let sink = 0;
    for (let i = 0; i < n; i++) sink += transform(split.image(i % split.size), rng)[0];
    const s = (performance.now() - t0) / 1000;
    lines.push(
      `augment ${name} (CIFAR-10 32x32, one core): ${(n / s).toFixed(0)} images/s${Number.isNaN(sink) ? ' (NaN!)' : ''}`,
    );
  }
  // The loader as the pretext stage uses it: two SimCLR views per image, on the main thread and in workers.
  const cores = availableParallelism();
  for (const workers of [0, 1, 2, 4, 8].filter((w) => w <= Math.max(1, cores - 1))) {
    const loader = createLoader({
      split,
      indices: Int32Array.from({ length: n }, (_, i) => i),
      batchSize: 256,
      shuffle: true,
      seed: 1,
      dropLast: true,
      prefetch: Math.max(2, 2 * workers),
      workers,
      views: [
        { transform: { name: 'simclr', options: tOpts }, source: 'self' },
        { transform: { name: 'simclr', options: tOpts }, source: 'self' },
      ],
    });
    let warm = 0;
    for await (const _ of loader.epoch(99)) if (++warm === 4) break; // warm-up: start workers, JIT
    const t0 = performance.now();
    let images = 0;
    for await (const b of loader.epoch(0)) images += b.shape[0];
    const s = (performance.now() - t0) / 1000;
    await loader.close();
    lines.push(
      `loader 2x simclr views, batch 256, ${workers} worker(s) (${cores} cores): ${(images / s).toFixed(0)} images/s`,
    );
  }
  return lines;
}

// `tsx tools/bench/src/augment.ts` runs this suite alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of await benchAugment()) console.log(line);
}

// `npm run bench -- augment [--images N]`
export const describe = 'augmented CIFAR-10 images/s on one core (simclr, ours, val) and through the loader';
export async function run(args: string[]): Promise<void> {
  const i = args.indexOf('--images');
  for (const line of await benchAugment({ images: i >= 0 ? Number(args[i + 1]) : undefined })) console.log(line);
}
