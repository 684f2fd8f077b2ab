// SimCLR as the official simclr.py: both views from the same "simclr" pipeline, one forward pass over the 2B
// views (BN statistics over all of them), NT-Xent with tau = pretext.temperature and anchors from view 1 only.
import * as tf from '@tensorflow/tfjs-core';
import type { ContrastiveModel } from '@scan-repro/models';
import { createOptimizer, microBatches, trainStep, transformSpecFor, type Optimizer } from '@scan-repro/train';
import { createPretextContrastiveModel, streamSeed, STREAM } from './common';
import { ntXentLoss } from './losses';
import { trainedMethod } from './trained-method';

export interface SimclrBatch {
  /** NHWC normalised views, [count, h, w, 3] each. */
  view1: Float32Array;
  view2: Float32Array;
  shape: [number, number, number, number];
}

function slice(x: Float32Array, shape: [number, number, number, number], start: number, size: number): tf.Tensor4D {
  const per = shape[1] * shape[2] * shape[3];
  return tf.tensor4d(x.subarray(start * per, (start + size) * per), [size, shape[1], shape[2], shape[3]]);
}

/** z = model(concat(view1[r], view2[r])) for the rows r = [start, start + size). */
function forwardViews(
  model: ContrastiveModel,
  b: SimclrBatch,
  start: number,
  size: number,
): { z1: tf.Tensor2D; z2: tf.Tensor2D } {
  return tf.tidy(() => {
    const z = model.apply(
      tf.concat([slice(b.view1, b.shape, start, size), slice(b.view2, b.shape, start, size)], 0),
      true,
    );
    return {
      z1: tf.slice(z, [0, 0], [size, -1]) as tf.Tensor2D,
      z2: tf.slice(z, [size, 0], [size, -1]) as tf.Tensor2D,
    };
  });
}

/**
 * One SimCLR optimizer step; returns the loss. With microBatch in (0, count) the step stays exact for the
 * loss (every anchor still sees all 2B - 1 others) by caching the embedding gradients ("gradient caching",
 * Gao et al. 2021): (1) embed all views without a tape, (2) the gradient of NT-Xent with respect to the
 * embeddings, (3) per micro-batch, backpropagate <z, dL/dz> through the network. Only BN's batch statistics
 * then come from the micro-batch (2 x microBatch views) instead of the whole batch. BN running statistics
 * are restored after pass (1), so they get one update per micro-batch, from pass (3).
 */
export function simclrStep(
  model: ContrastiveModel,
  optimizer: Optimizer,
  batch: SimclrBatch,
  opts: { temperature: number; microBatch: number; lr: number },
): number {
  const count = batch.shape[0];
  const params = model.parameters();
  if (!(opts.microBatch > 0 && opts.microBatch < count)) {
    return trainStep({
      params,
      optimizer,
      lr: opts.lr,
      microBatches: [0],
      loss: () => {
        const { z1, z2 } = forwardViews(model, batch, 0, count);
        return ntXentLoss(z1, z2, opts.temperature);
      },
    });
  }

  const ranges = microBatches(count, opts.microBatch);
  const buffers = [...model.buffers().values()];
  const saved = buffers.map((v) => tf.keep(v.clone()));
  const parts1: tf.Tensor2D[] = [];
  const parts2: tf.Tensor2D[] = [];
  for (const r of ranges) {
    const { z1, z2 } = forwardViews(model, batch, r.start, r.size);
    parts1.push(z1);
    parts2.push(z2);
  }
  buffers.forEach((v, i) => v.assign(saved[i]));
  tf.dispose(saved);

  const z1 = tf.concat(parts1, 0);
  const z2 = tf.concat(parts2, 0);
  tf.dispose([...parts1, ...parts2]);
  const { value, grads } = tf.tidy(() => {
    const g = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) =>
      ntXentLoss(a as tf.Tensor2D, b as tf.Tensor2D, opts.temperature),
    );
    return g([z1, z2]);
  });
  tf.dispose([z1, z2]);
  const [g1, g2] = grads;
  const loss = value.dataSync()[0];
  value.dispose();
  const n = ranges.length;
  try {
    // accumulateGradients averages over micro-batches; scaling each surrogate by n turns that into the sum.
    trainStep({
      params,
      optimizer,
      lr: opts.lr,
      microBatches: ranges,
      loss: (r) =>
        tf.tidy(() => {
          const { z1: a, z2: b } = forwardViews(model, batch, r.start, r.size);
          const ga = tf.slice(g1, [r.start, 0], [r.size, -1]);
          const gb = tf.slice(g2, [r.start, 0], [r.size, -1]);
          return tf.mul(tf.add(tf.sum(tf.mul(a, ga)), tf.sum(tf.mul(b, gb))), n) as tf.Scalar;
        }),
    });
  } finally {
    tf.dispose([g1, g2]);
  }
  return loss;
}

/** The SimCLR pretext method (pretext.method = simclr). */
export const simclr = trainedMethod((config) => {
  const p = config.pretext;
  const model = createPretextContrastiveModel(config, streamSeed(config, STREAM.model));
  const optimizer = createOptimizer(p, model.parameters());
  const view = { transform: transformSpecFor(config, 'simclr'), source: 'self' as const };
  return {
    model,
    optimizer,
    views: [view, view],
    step: (b, lr) =>
      simclrStep(
        model,
        optimizer,
        { view1: b.views[0], view2: b.views[1], shape: b.shape },
        { temperature: p.temperature, microBatch: p.micro_batch, lr },
      ),
    features: (x) => model.apply(x, false),
    dispose: () => {
      model.dispose();
      optimizer.dispose();
    },
  };
});
