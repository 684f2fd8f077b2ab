// MoCo v2 (He et al. 2020, Chen et al. 2020): a query encoder trained with InfoNCE against a momentum-updated key
// encoder's embedding of the other view (positive) and a queue of past keys (negatives), tau = moco_temperature.
// Shuffle-BN, which MoCo needs so that BN batch statistics cannot leak the positive, is done on one device by
// emulating SHUFFLE_BN_GROUPS devices: the keys are computed in groups of a permuted batch and the queries in groups
// of the batch in order, each group with its own BN statistics, so a query and its key never share them.
import * as tf from '@tensorflow/tfjs-core';
import { createRng, type NamedArray, type Rng, type RngState } from '@scan-repro/core';
import type { ContrastiveModel } from '@scan-repro/models';
import {
  allVariables,
  createOptimizer,
  microBatches,
  restoreVariables,
  snapshotVariables,
  trainStep,
  transformSpecFor,
  underPrefix,
  withPrefix,
  type Optimizer,
} from '@scan-repro/train';
import { createPretextContrastiveModel, streamSeed, STREAM } from './common';
import { trainedMethod } from './trained-method';

export interface MocoState {
  key: ContrastiveModel;
  /** [dim, queueLength], columns L2-normalised keys. */
  queue: tf.Variable;
  ptr: number;
}

export function createMocoState(
  query: ContrastiveModel,
  key: ContrastiveModel,
  queueLength: number,
  dim: number,
  rng: Rng,
): MocoState {
  // key encoder starts as a copy of the query encoder and is never trained by gradients
  const q = allVariables(query);
  for (const [name, v] of allVariables(key)) v.assign(q.get(name)!);
  for (const v of key.parameters().values()) v.trainable = false;
  const init = new Float32Array(dim * queueLength);
  for (let i = 0; i < init.length; i++) init[i] = rng.normal();
  const queue = tf.tidy(() => {
    const t = tf.tensor2d(init, [dim, queueLength]);
    return tf.variable(tf.div(t, tf.maximum(tf.norm(t, 'euclidean', 0, true), 1e-12)), false); // normalize(dim=0), as MoCo
  });
  return { key, queue, ptr: 0 };
}

export function mocoStateTensors(s: MocoState): Record<string, NamedArray> {
  return {
    ...Object.fromEntries(Object.entries(snapshotVariables(allVariables(s.key))).map(([k, v]) => [`key/${k}`, v])),
    ...snapshotVariables(new Map([['queue', s.queue]])),
  };
}

export function restoreMocoState(s: MocoState, tensors: Record<string, NamedArray>, ptr: number): void {
  const key: Record<string, NamedArray> = {};
  for (const [k, v] of Object.entries(tensors)) if (k.startsWith('key/')) key[k.slice(4)] = v;
  restoreVariables(allVariables(s.key), key, '', 'MoCo key encoder checkpoint');
  restoreVariables(new Map([['queue', s.queue]]), tensors, '', 'MoCo queue checkpoint');
  s.ptr = ptr;
}

/** Devices that shuffle-BN emulates (the MoCo goldens of tools/golden/train are made with two). */
export const SHUFFLE_BN_GROUPS = 2;

/**
 * The forward pieces of a batch of `count`: `groups` consecutive BN groups of ceil(count / groups) rows, each cut
 * further by microBatch as every training step cuts its batch (microBatches: 0 = no cut, the group in one piece).
 */
export function shuffleBnPieces(count: number, groups: number, microBatch: number): { start: number; size: number }[] {
  if (!Number.isInteger(groups) || groups < 1)
    throw new Error(`MoCo: ${groups} shuffle-BN groups, expected an integer >= 1`);
  return microBatches(count, Math.max(1, Math.ceil(count / groups))).flatMap((g) =>
    microBatches(g.size, microBatch).map((r) => ({ start: g.start + r.start, size: r.size })),
  );
}

function rows(x: Float32Array, shape: [number, number, number, number], idx: Int32Array): tf.Tensor4D {
  const per = shape[1] * shape[2] * shape[3];
  const out = new Float32Array(idx.length * per);
  idx.forEach((i, j) => out.set(x.subarray(i * per, (i + 1) * per), j * per));
  return tf.tensor4d(out, [idx.length, shape[1], shape[2], shape[3]]);
}

/**
 * One MoCo step: keys (no gradient), InfoNCE on the queries, momentum update, enqueue. Returns the loss. The batch
 * goes through the encoders in shuffleBnPieces(count, shuffleBnGroups, microBatch); the gradient is the
 * size-weighted mean over the pieces, so microBatch changes only the BN statistics, as elsewhere.
 */
export function mocoStep(
  query: ContrastiveModel,
  state: MocoState,
  optimizer: Optimizer,
  batch: { view1: Float32Array; view2: Float32Array; shape: [number, number, number, number] },
  opts: { temperature: number; momentum: number; shuffleBnGroups: number; microBatch: number; lr: number; rng: Rng },
): number {
  const count = batch.shape[0];
  const queueLength = state.queue.shape[1] as number;
  if (queueLength % count !== 0)
    throw new Error(`MoCo: pretext.moco_queue = ${queueLength} must be a multiple of pretext.batch_size = ${count}`);
  const pieces = shuffleBnPieces(count, opts.shuffleBnGroups, opts.microBatch);

  // keys of a shuffled batch, computed piece by piece (train-mode BN: the key encoder's running stats move), unshuffled
  const perm = Int32Array.from({ length: count }, (_, i) => i);
  opts.rng.shuffle(perm);
  const keyParts: tf.Tensor2D[] = [];
  for (const r of pieces) {
    keyParts.push(
      tf.tidy(() => state.key.apply(rows(batch.view2, batch.shape, perm.subarray(r.start, r.start + r.size)), true)),
    );
  }
  const inverse = new Int32Array(count);
  perm.forEach((p, j) => (inverse[p] = j));
  const keys = tf.tidy(() => tf.gather(tf.concat(keyParts, 0), tf.tensor1d(inverse, 'int32')) as tf.Tensor2D);
  tf.dispose(keyParts);

  let loss: number;
  try {
    loss = trainStep({
      params: query.parameters(),
      optimizer,
      lr: opts.lr,
      microBatches: pieces,
      weightOf: (r) => r.size,
      loss: (r) =>
        tf.tidy(() => {
          const q = query.apply(
            rows(
              batch.view1,
              batch.shape,
              Int32Array.from({ length: r.size }, (_, i) => r.start + i),
            ),
            true,
          );
          const k = tf.slice(keys, [r.start, 0], [r.size, -1]);
          const pos = tf.sum(tf.mul(q, k), 1, true);
          const neg = tf.matMul(q, state.queue);
          const logits = tf.div(tf.concat([pos, neg], 1), opts.temperature);
          return tf.neg(tf.mean(tf.slice(tf.logSoftmax(logits), [0, 0], [-1, 1]))) as tf.Scalar;
        }),
    });
    // momentum update of the key encoder's parameters (its BN buffers follow its own forward passes)
    const qp = query.parameters();
    tf.tidy(() => {
      for (const [name, kv] of state.key.parameters())
        kv.assign(tf.add(tf.mul(kv, opts.momentum), tf.mul(qp.get(name)!, 1 - opts.momentum)));
    });
    // enqueue this batch's keys in place of the oldest
    tf.tidy(() => {
      const q = state.queue;
      const parts: tf.Tensor[] = [];
      if (state.ptr > 0) parts.push(tf.slice(q, [0, 0], [-1, state.ptr]));
      parts.push(tf.transpose(keys));
      if (state.ptr + count < queueLength) parts.push(tf.slice(q, [0, state.ptr + count], [-1, -1]));
      q.assign(tf.concat(parts, 1));
    });
    state.ptr = (state.ptr + count) % queueLength;
  } finally {
    keys.dispose();
  }
  return loss;
}

/** The MoCo v2 pretext method (pretext.method = moco). */
export const moco = trainedMethod((config) => {
  const p = config.pretext;
  const seed = streamSeed(config, STREAM.model);
  const model = createPretextContrastiveModel(config, seed);
  const optimizer = createOptimizer(p, model.parameters());
  // MoCo v2's own augmentation adds blur; the SimCLR pipeline (same crops, jitter, grayscale) stands in for it.
  const view = { transform: transformSpecFor(config, 'simclr'), source: 'self' as const };
  const rng = createRng(streamSeed(config, STREAM.moco));
  const state = createMocoState(
    model,
    createPretextContrastiveModel(config, seed),
    p.moco_queue,
    config.model.contrastive_dim,
    rng.fork('queue'),
  );
  const shuffleRng = rng.fork('shuffle-bn');
  return {
    model,
    optimizer,
    views: [view, view],
    step: (b, lr) =>
      mocoStep(
        model,
        state,
        optimizer,
        { view1: b.views[0], view2: b.views[1], shape: b.shape },
        {
          temperature: p.moco_temperature,
          momentum: p.moco_momentum,
          shuffleBnGroups: SHUFFLE_BN_GROUPS,
          microBatch: p.micro_batch,
          lr,
          rng: shuffleRng,
        },
      ),
    features: (x) => model.apply(x, false),
    extraState: () => ({
      tensors: withPrefix('moco/', mocoStateTensors(state)),
      extra: { ptr: state.ptr, rng: shuffleRng.getState() },
    }),
    restoreExtra: (tensors, extra) => {
      const e = extra as { ptr: number; rng: RngState };
      restoreMocoState(state, underPrefix('moco/', tensors), e.ptr);
      shuffleRng.setState(e.rng);
    },
    dispose: () => {
      model.dispose();
      state.key.dispose();
      state.queue.dispose();
      optimizer.dispose();
    },
  };
});
