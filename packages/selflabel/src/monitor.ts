// The self-labeling stage's per-epoch monitor (labels are used for this number only, never for training).
import * as tf from '@tensorflow/tfjs-core';
import type { ScanConfig } from '@scan-repro/core';
import type { ImageSplit } from '@scan-repro/data';
import { mappedAccuracy } from '@scan-repro/metrics';
import type { ClusteringModel } from '@scan-repro/models';
import { extractFeatures, transformSpecFor } from '@scan-repro/train';

/** Accuracy of head 0 on the val split (monitoring only): Hungarian, or majority vote when overclustering. */
export async function monitorAccuracy(
  model: ClusteringModel,
  val: ImageSplit,
  config: ScanConfig,
  batchSize: number,
): Promise<{ accuracy: number; confident: number }> {
  const probs = await extractFeatures((x) => tf.softmax(model.apply(x, false)[0]), val, {
    transform: transformSpecFor(config, 'val'),
    batchSize,
    label: 'selflabel validation',
  });
  const n = val.size;
  const c = probs.length / n;
  const pred = new Int32Array(n);
  let confident = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < c; k++) if (probs[i * c + k] > probs[i * c + best]) best = k;
    pred[i] = best;
    if (probs[i * c + best] > config.selflabel.threshold) confident++;
  }
  const numClasses = config.dataset.num_classes;
  if (!val.labels.every((y) => y >= 0 && y < numClasses)) return { accuracy: NaN, confident: confident / n };
  return { accuracy: mappedAccuracy(pred, val.labels, c, numClasses), confident: confident / n };
}
