// The augment package's transform options from a stage config (one place, so every stage augments alike).
import type { ScanConfig } from '@scan-repro/core';
import type { TransformName } from '@scan-repro/augment';
import type { TransformSpec } from '@scan-repro/data';

/** `{ name, options }` for createLoader views (works with worker threads too). */
export function transformSpecFor(config: ScanConfig, name: TransformName): TransformSpec {
  const { dataset, augment } = config;
  return {
    name,
    options: {
      cropSize: dataset.crop_size,
      resize: dataset.resize || undefined,
      mean: dataset.mean,
      std: dataset.std,
      augment: {
        num_strong_ops: augment.num_strong_ops,
        cutout: augment.cutout,
        crop_scale: augment.crop_scale,
        jitter: augment.jitter,
        jitter_p: augment.jitter_p,
        grayscale_p: augment.grayscale_p,
      },
    },
  };
}
