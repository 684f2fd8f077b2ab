// Throughput of the augmentations on one core (images/s). Run: npx tsx packages/augment/src/augment.bench.ts
// Exported so the repo's `npm run bench` driver (tools/bench) can call it.
import { createRng } from '@scan-repro/core';
import type { RgbImage } from './image';
import { createTransform } from './pipelines';
import { STRONG_OPS } from './strong';

function randomImage(size: number, seed: number): RgbImage {
  const rng = createRng(seed);
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
  return { data, height: size, width: size };
}

/** Calls per second of this process's CPU time (user + system), so that a shared, loaded machine reads the same. */
function rate(fn: () => void, minMs = 600): number {
  for (let i = 0; i < 2000; i++) fn(); // warm up the JIT
  let n = 0;
  const c0 = process.cpuUsage();
  let usedMs = 0;
  while (usedMs < minMs) {
    for (let i = 0; i < 20; i++) fn();
    n += 20;
    const c = process.cpuUsage(c0);
    usedMs = (c.user + c.system) / 1000;
  }
  return (n * 1000) / usedMs;
}

export function benchAugment(): Record<string, number> {
  const results: Record<string, number> = {};
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  for (const size of [32, 96]) {
    const imgs = Array.from({ length: 16 }, (_, i) => randomImage(size, i));
    const augment = { num_strong_ops: 4, cutout: size === 32 ? 16 : 32 };
    for (const name of ['ours', 'simclr', 'val'] as const) {
      const t = createTransform(name, { cropSize: size, mean, std, augment });
      const rng = createRng(1);
      let k = 0;
      results[`${name} ${size}x${size} (images/s)`] = rate(() => t(imgs[k++ & 15], rng));
    }
    if (size === 32) {
      for (const op of STRONG_OPS) {
        let k = 0;
        const v = (op.min + op.max) / 2 + 0.123 * (op.max - op.min);
        results[`op ${op.name} ${size}x${size} (images/s)`] = rate(() => op.apply(imgs[k++ & 15], v), 150);
      }
    }
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [k, v] of Object.entries(benchAugment())) console.log(`${k.padEnd(40)} ${Math.round(v)}`);
}
