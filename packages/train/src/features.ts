// Feature extraction over a whole split (kNN monitor, mining, evaluation): fixed order, no gradient tape.
import * as tf from '@tensorflow/tfjs-core';
import { createProgress } from '@scan-repro/core';
import type { ImageTransform } from '@scan-repro/augment';
import { createLoader, type ImageSplit, type TransformSpec } from '@scan-repro/data';

export interface ExtractFeaturesOptions {
  /** Usually the val transform (center crop + normalise); deterministic transforms give deterministic features. */
  transform: ImageTransform | TransformSpec;
  /** Split indices, in output order (default: the whole split). */
  indices?: Int32Array | number[];
  batchSize: number;
  /** Progress label (default: `features <dataset>/<split>`). */
  label?: string;
  /** Seed of the transforms (only matters for random transforms). */
  seed?: number;
}

/**
 * Splits the rows of a row-major [count, sum(widths)] matrix into one [count, width] matrix per width, e.g. the
 * concatenated outputs of one forward pass (head probabilities | backbone features).
 */
export function splitColumns(rows: Float32Array, count: number, widths: number[]): Float32Array[] {
  const total = widths.reduce((a, b) => a + b, 0);
  if (rows.length !== count * total)
    throw new Error(`splitColumns: ${rows.length} values are not ${count} rows of ${total}`);
  const out = widths.map((w) => new Float32Array(count * w));
  for (let i = 0; i < count; i++) {
    for (let k = 0, offset = i * total; k < widths.length; offset += widths[k]!, k++) {
      out[k]!.set(rows.subarray(offset, offset + widths[k]!), i * widths[k]!);
    }
  }
  return out;
}

/**
 * Runs `forward` on every image of the split (in index order) and returns the row-major [count, dim] features.
 * `forward` must run the model in eval mode (BN running statistics) and return a new tensor; it is called
 * inside tf.tidy, outside any gradient tape. dim = result.length / count.
 */
export async function extractFeatures(
  forward: (x: tf.Tensor4D) => tf.Tensor2D,
  split: ImageSplit,
  opts: ExtractFeaturesOptions,
): Promise<Float32Array> {
  const loader = createLoader({
    split,
    indices: opts.indices,
    batchSize: opts.batchSize,
    shuffle: false,
    seed: opts.seed ?? 0,
    dropLast: false,
    views: [{ transform: opts.transform, source: 'self' }],
  });
  const count = loader.size;
  const progress = createProgress(opts.label ?? `features ${split.dataset}/${split.split}`, count);
  let out: Float32Array | null = null;
  let dim = 0;
  let row = 0;
  try {
    for await (const batch of loader.epoch(0)) {
      const values = tf.tidy(() => {
        const y = forward(tf.tensor4d(batch.views[0], batch.shape));
        if (y.rank !== 2 || y.shape[0] !== batch.shape[0]) {
          throw new Error(
            `extractFeatures: forward returned shape [${y.shape}] for a batch of ${batch.shape[0]}; expected [${batch.shape[0]}, dim]`,
          );
        }
        return y;
      });
      const data = (await values.data()) as Float32Array;
      if (!out) {
        dim = values.shape[1];
        out = new Float32Array(count * dim);
      }
      values.dispose();
      out.set(data, row * dim);
      row += batch.shape[0];
      progress.tick(batch.shape[0]);
    }
  } finally {
    progress.stop();
    await loader.close();
  }
  return out ?? new Float32Array(0);
}
