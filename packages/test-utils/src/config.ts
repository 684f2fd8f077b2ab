import { composeConfig, type ScanConfig } from '@scan-repro/core';

/**
 * The resolved dataset group (CIFAR-10's, from configs/ and the schema defaults) without subsets, changed by
 * `fields`: a dataset test names only what differs for its dataset.
 */
export function datasetConfig(fields: Partial<ScanConfig['dataset']> = {}): ScanConfig['dataset'] {
  const base = composeConfig(['profile=ci'], { env: {} }).dataset;
  return { ...base, subset: '', max_train: 0, max_val: 0, ...fields };
}
