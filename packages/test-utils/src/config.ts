import { composeConfig, type ScanConfig } from '@scan-repro/core';

/**
 * The resolved dataset group (CIFAR-10's, from configs/ and the schema defaults) without subsets, changed by
 * `fields`: a dataset test names only what differs for its dataset.
 */
export function datasetConfig(fields: Partial<ScanConfig['dataset']> = {}): ScanConfig['dataset'] {
  const base = composeConfig(['profile=ci'], { env: {} }).dataset;
  return { ...base, subset: '', max_train: 0, max_val: 0, ...fields };
}

/**
 * configs/dataset/cifar10.yaml's augment block (the official simclr config), written out so that a config change
 * cannot move what the tests compare with.
 */
export const OFFICIAL_AUGMENT: ScanConfig['augment'] = {
  num_strong_ops: 4,
  cutout: 16,
  crop_scale: [0.2, 1],
  jitter: [0.4, 0.4, 0.4, 0.1],
  jitter_p: 0.8,
  grayscale_p: 0.2,
};
