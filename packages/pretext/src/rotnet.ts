// RotNet (Gidaris et al. 2018), the paper's Table 2 counter-example: a backbone + linear 4-way head predicts
// which of the rotations 0/90/180/270 degrees was applied; every image of a batch is shown in all four.
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@scan-repro/core';
import { createTransform, type ImageTransform, type RgbImage } from '@scan-repro/augment';
import {
  createBackbone,
  createClusterHeads,
  type Backbone,
  type ClusterHead,
  type NamedModule,
} from '@scan-repro/models';
import { createOptimizer, microBatches, trainStep, transformSpecFor, type Optimizer } from '@scan-repro/train';
import { streamSeed, STREAM } from './common';
import { rotnetLoss } from './losses';
import { trainedMethod } from './trained-method';

export class RotnetModel implements NamedModule {
  constructor(
    readonly backbone: Backbone,
    readonly head: ClusterHead,
  ) {}
  parameters(): Map<string, tf.Variable> {
    return new Map([
      ...[...this.backbone.parameters()].map(([k, v]) => [`backbone.${k}`, v] as const),
      ...[...this.head.parameters()].map(([k, v]) => [`rotnet_head.${k}`, v] as const),
    ]);
  }
  buffers(): Map<string, tf.Variable> {
    return new Map([...this.backbone.buffers()].map(([k, v]) => [`backbone.${k}`, v]));
  }
  dispose(): void {
    this.backbone.dispose();
    this.head.dispose();
  }
}

export function createRotnetModel(
  backbone: { name: 'resnet18_cifar' | 'resnet18_stl' | 'resnet50'; width: number; blocks?: number[] },
  seed: number,
): RotnetModel {
  const b = createBackbone(backbone, seed);
  return new RotnetModel(b, createClusterHeads(b.featureDim, 4, 1, seed + 2)[0]);
}

/** The base view before rotation: the val transform (center crop, normalise) and a random horizontal flip. */
export function rotnetBaseTransform(val: ImageTransform): ImageTransform {
  return (img: RgbImage, rng: Rng) => {
    const x = val(img, rng);
    if (rng.next() < 0.5) {
      const side = Math.round(Math.sqrt(x.length / 3));
      for (let r = 0; r < side; r++) {
        for (let c = 0; c < side >> 1; c++) {
          const a = (r * side + c) * 3;
          const b = (r * side + side - 1 - c) * 3;
          for (let ch = 0; ch < 3; ch++) {
            const t = x[a + ch];
            x[a + ch] = x[b + ch];
            x[b + ch] = t;
          }
        }
      }
    }
    return x;
  };
}

/** x rotated by k * 90 degrees counter-clockwise (NHWC, square images). */
export function rot90(x: tf.Tensor4D, k: number): tf.Tensor4D {
  return tf.tidy(() => {
    let y = x;
    for (let i = 0; i < ((k % 4) + 4) % 4; i++) y = tf.reverse(tf.transpose(y, [0, 2, 1, 3]), 1);
    return y;
  });
}

export function rotnetStep(
  model: RotnetModel,
  optimizer: Optimizer,
  batch: { view: Float32Array; shape: [number, number, number, number] },
  opts: { microBatch: number; lr: number },
): number {
  const [count, h, w, c] = batch.shape;
  const per = h * w * c;
  const ranges = microBatches(count, opts.microBatch);
  return trainStep({
    params: model.parameters(),
    optimizer,
    lr: opts.lr,
    microBatches: ranges,
    weightOf: (r) => r.size,
    loss: (r) =>
      tf.tidy(() => {
        const x = tf.tensor4d(batch.view.subarray(r.start * per, (r.start + r.size) * per), [r.size, h, w, c]);
        const all = tf.concat(
          [0, 1, 2, 3].map((k) => rot90(x, k)),
          0,
        );
        const labels = Int32Array.from({ length: 4 * r.size }, (_, i) => Math.floor(i / r.size));
        return rotnetLoss(model.head.apply(model.backbone.apply(all, true)), labels);
      }),
  });
}

/** The RotNet pretext method (pretext.method = rotnet); its model has rotnet_head.* instead of a contrastive head. */
export const rotnet = trainedMethod((config) => {
  const p = config.pretext;
  const model = createRotnetModel(
    { name: config.backbone.name, width: config.backbone.width, blocks: config.backbone.blocks },
    streamSeed(config, STREAM.model),
  );
  const optimizer = createOptimizer(p, model.parameters());
  const val = createTransform('val', transformSpecFor(config, 'val').options);
  return {
    model,
    optimizer,
    views: [{ transform: rotnetBaseTransform(val), source: 'self' }],
    step: (b, lr) =>
      rotnetStep(model, optimizer, { view: b.views[0], shape: b.shape }, { microBatch: p.micro_batch, lr }),
    features: (x) => model.backbone.apply(x, false),
    dispose: () => {
      model.dispose();
      optimizer.dispose();
    },
  };
});
