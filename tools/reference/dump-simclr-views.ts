// Writes the exact SimCLR batches the pretext stage trains on (cpu profile unless overridden), so the PyTorch
// reference loop (tools/reference/simclr_reference.py --views) can train on them. Views are stored as the uint8
// pixels before normalisation (our pipeline quantises like Pillow, so nothing is lost), plus the subset's
// original indices for the reference's own torchvision pipeline.
//   npx tsx tools/reference/dump-simclr-views.ts OUT_DIR EPOCHS [config overrides...]
import { mkdirSync, openSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { composeConfig } from '@scan-repro/core';
import { pretextBatches } from './pretext-batches';

const [out, epochsArg, ...overrides] = process.argv.slice(2);
const epochs = Number(epochsArg);
const config = composeConfig(['profile=cpu', ...overrides]);
mkdirSync(out, { recursive: true });
const { splits, loader } = await pretextBatches(config);
const { mean, std } = config.dataset;
const fd = openSync(join(out, 'views.u8'), 'w');
let maxErr = 0;
for (let e = 0; e < epochs; e++) {
  for await (const b of loader.epoch(e)) {
    const [n, h, w, c] = b.shape;
    // [n, 2, c, h, w] uint8, the reference's layout
    const u8 = new Uint8Array(n * 2 * c * h * w);
    for (let s = 0; s < n; s++)
      for (let v = 0; v < 2; v++)
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++)
            for (let k = 0; k < c; k++) {
              const f = b.views[v][((s * h + y) * w + x) * c + k];
              const px = (f * std[k] + mean[k]) * 255;
              const r = Math.min(255, Math.max(0, Math.round(px)));
              maxErr = Math.max(maxErr, Math.abs(px - r));
              u8[(((s * 2 + v) * c + k) * h + y) * w + x] = r;
            }
    writeSync(fd, u8);
  }
  process.stderr.write(`epoch ${e + 1}/${epochs} dumped\n`);
}
closeSync(fd);
await loader.close();
const orig = (s: typeof splits.train) =>
  Array.from(s.originalIndices ?? Int32Array.from({ length: s.size }, (_, i) => i));
writeFileSync(
  join(out, 'meta.json'),
  JSON.stringify({
    epochs,
    steps_per_epoch: loader.batchesPerEpoch,
    batch: config.pretext.batch_size,
    size: config.dataset.crop_size,
    train_indices: orig(splits.train),
    val_indices: orig(splits.monitorQuery),
    quantisation_max_err: maxErr,
    mean,
    std,
    seed: config.profile.seed,
  }),
);
console.log(
  `wrote ${epochs} epochs x ${loader.batchesPerEpoch} batches to ${out}; max distance to a uint8 value ${maxErr.toFixed(4)}`,
);
