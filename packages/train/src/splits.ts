// The train and val splits of a stage, from the config alone, so that every stage sees the same images.
import type { ScanConfig } from '@scan-repro/core';
import { loadSplit, type ImageSplit } from '@scan-repro/data';

/** dataset.train_split and dataset.val_split (same seeded class-stratified subsets for the cpu/ci profiles). */
export async function loadTrainVal(config: ScanConfig): Promise<{ train: ImageSplit; val: ImageSplit }> {
  const train = await loadSplit(config.dataset, config.dataset.train_split, { role: 'train' });
  const val = await loadSplit(config.dataset, config.dataset.val_split, { role: 'val' });
  return { train, val };
}
