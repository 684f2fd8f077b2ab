// The pretext stage's splits, random streams and SimCLR loader (packages/pretext: model stream 1, loader stream 2),
// so the reference scripts see exactly the batches the stage trains on.
import type { ScanConfig } from '@scan-repro/core';
import { createLoader, loadDatasetPackages, loadSplit, mixSeed } from '@scan-repro/data';
import { transformSpecFor } from '@scan-repro/train';

export const streamSeed = (c: ScanConfig, stream: number) => mixSeed(c.profile.seed, stream);

/** The train and monitor splits, and the loader of two SimCLR views per image over the train split. */
export async function pretextBatches(config: ScanConfig) {
  await loadDatasetPackages();
  const d = config.dataset;
  const splits = {
    train: await loadSplit(d, d.pretext_splits, { role: 'train' }),
    monitorQuery: await loadSplit(d, d.val_split, { role: 'val' }),
  };
  const view = { transform: transformSpecFor(config, 'simclr'), source: 'self' as const };
  const loader = createLoader({
    split: splits.train,
    batchSize: config.pretext.batch_size,
    shuffle: true,
    seed: streamSeed(config, 2),
    dropLast: true,
    views: [view, view],
  });
  return { splits, loader };
}
