import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@scan-repro/backend';
import { composeConfig } from '@scan-repro/core';
import { createOptimizer } from '@scan-repro/train';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMocoState, createPretextContrastiveModel, mocoStep, simclrStep } from '../src/index';
import { createRotnetModel, rot90, rotnetStep } from '../src/rotnet';
import { shuffleBnPieces } from '../src/moco';
import { ntXentLoss } from '../src/losses';
import { createRng } from '@scan-repro/core';

const config = composeConfig(['profile=ci', 'backbone.width=4']);
const SGD = { optimizer: 'sgd' as const, lr: 0.1, momentum: 0.9, nesterov: false, weight_decay: 1e-4 };
const B = 8;
const shape: [number, number, number, number] = [B, 8, 8, 3];
const view1 = Float32Array.from({ length: B * 8 * 8 * 3 }, (_, i) => Math.sin(0.37 * i));
const view2 = Float32Array.from({ length: B * 8 * 8 * 3 }, (_, i) => Math.cos(0.11 * i + 1));

function values(m: Map<string, tf.Variable>): Map<string, Float32Array> {
  return new Map([...m].map(([k, v]) => [k, Float32Array.from(v.dataSync())]));
}

describe('pretext training steps (wasm)', () => {
  beforeAll(async () => {
    await initBackend({ name: 'wasm', quiet: true });
  });

  it('SimCLR with micro-batches (gradient caching) equals one tape over the same micro-batch forwards', () => {
    // Reference: NT-Xent over embeddings computed per micro-batch (so BN sees the same groups), all under one tape.
    const micro = 3;
    const a = createPretextContrastiveModel(config, 7);
    const b = createPretextContrastiveModel(config, 7);
    const oa = createOptimizer(SGD, a.parameters());
    const ob = createOptimizer(SGD, b.parameters());
    const per = 8 * 8 * 3;
    for (let step = 0; step < 2; step++) {
      const lossA = simclrStep(a, oa, { view1, view2, shape }, { temperature: 0.1, microBatch: micro, lr: 0.1 });
      const { value, grads } = tf.variableGrads(() => {
        const z1: tf.Tensor2D[] = [];
        const z2: tf.Tensor2D[] = [];
        for (let s = 0; s < B; s += micro) {
          const n = Math.min(micro, B - s);
          const x = tf.concat([
            tf.tensor4d(view1.subarray(s * per, (s + n) * per), [n, 8, 8, 3]),
            tf.tensor4d(view2.subarray(s * per, (s + n) * per), [n, 8, 8, 3]),
          ]);
          const z = b.apply(x, true);
          z1.push(tf.slice(z, [0, 0], [n, -1]));
          z2.push(tf.slice(z, [n, 0], [n, -1]));
        }
        return ntXentLoss(tf.concat(z1), tf.concat(z2), 0.1);
      }, [...b.parameters().values()]);
      ob.step(grads, 0.1);
      expect(lossA).toBeCloseTo(value.dataSync()[0], 5);
      tf.dispose([value, ...Object.values(grads)]);
    }
    const pa = values(new Map([...a.parameters(), ...a.buffers()]));
    const pb = values(new Map([...b.parameters(), ...b.buffers()]));
    for (const [k, v] of pa) {
      const w = pb.get(k)!;
      // relative to the tensor's scale: BN running variances are O(10) here, weights O(0.1)
      let diff = 0;
      let scale = 1;
      for (let i = 0; i < v.length; i++) {
        diff = Math.max(diff, Math.abs(v[i] - w[i]));
        scale = Math.max(scale, Math.abs(w[i]));
      }
      expect(diff / scale, k).toBeLessThan(2e-5);
    }
    a.dispose();
    b.dispose();
    oa.dispose();
    ob.dispose();
  });

  it('SimCLR, MoCo and RotNet steps leak no tensors across steps', () => {
    const model = createPretextContrastiveModel(config, 1);
    const opt = createOptimizer(SGD, model.parameters());
    const key = createPretextContrastiveModel(config, 1);
    const moco = createMocoState(model, key, 16, config.model.contrastive_dim, createRng(3));
    const rot = createRotnetModel({ name: config.backbone.name, width: 4 }, 2);
    const ropt = createOptimizer(SGD, rot.parameters());
    const rng = createRng(5);
    const counts: number[] = [];
    for (let s = 0; s < 4; s++) {
      simclrStep(model, opt, { view1, view2, shape }, { temperature: 0.1, microBatch: 0, lr: 0.1 });
      simclrStep(model, opt, { view1, view2, shape }, { temperature: 0.1, microBatch: 3, lr: 0.1 });
      mocoStep(
        model,
        moco,
        opt,
        { view1, view2, shape },
        { temperature: 0.2, momentum: 0.99, shuffleBnGroups: 2, microBatch: 0, lr: 0.1, rng },
      );
      mocoStep(
        model,
        moco,
        opt,
        { view1, view2, shape },
        { temperature: 0.2, momentum: 0.99, shuffleBnGroups: 2, microBatch: 2, lr: 0.1, rng },
      );
      rotnetStep(rot, ropt, { view: view1, shape }, { microBatch: 5, lr: 0.1 });
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts.slice(1)).size).toBe(1);
    // queue pointer wraps after 16 / 8 = 2 steps
    expect(moco.ptr).toBe(0);
    model.dispose();
    key.dispose();
    moco.queue.dispose();
    opt.dispose();
    rot.dispose();
    ropt.dispose();
  });

  it('MoCo pieces: shuffle-BN groups of ceil(B / groups), each cut by micro_batch (0 = not cut, as everywhere)', () => {
    const spans = (count: number, groups: number, micro: number) =>
      shuffleBnPieces(count, groups, micro).map((r) => [r.start, r.start + r.size]);
    expect(spans(8, 2, 0)).toEqual([
      [0, 4],
      [4, 8],
    ]);
    expect(spans(7, 2, 0)).toEqual([
      [0, 4],
      [4, 7],
    ]);
    expect(spans(8, 2, 3)).toEqual([
      [0, 3],
      [3, 4],
      [4, 7],
      [7, 8],
    ]);
    expect(spans(8, 1, 0)).toEqual([[0, 8]]);
    expect(spans(8, 2, 8)).toEqual([
      [0, 4],
      [4, 8],
    ]);
  });

  it('rot90 turns an image a quarter counter-clockwise (and 4 quarters are the identity)', () => {
    // 2x2 single-channel image [[1, 2], [3, 4]] → counter-clockwise [[2, 4], [1, 3]]
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    expect(Array.from(rot90(x, 1).dataSync())).toEqual([2, 4, 1, 3]);
    expect(Array.from(rot90(x, 4).dataSync())).toEqual([1, 2, 3, 4]);
    x.dispose();
  });

  it('MoCo: key encoder follows the query encoder by momentum and the queue holds the newest keys', () => {
    const q = createPretextContrastiveModel(config, 11);
    const k = createPretextContrastiveModel(config, 12); // different init: createMocoState must copy q into k
    const opt = createOptimizer(SGD, q.parameters());
    const moco = createMocoState(q, k, 16, config.model.contrastive_dim, createRng(1));
    const name = 'contrastive_head.2.bias';
    expect(Array.from(k.parameters().get(name)!.dataSync())).toEqual(Array.from(q.parameters().get(name)!.dataSync()));
    const kBefore = Float32Array.from(k.parameters().get(name)!.dataSync());
    mocoStep(
      q,
      moco,
      opt,
      { view1, view2, shape },
      { temperature: 0.2, momentum: 0.9, shuffleBnGroups: 2, microBatch: 0, lr: 0.5, rng: createRng(2) },
    );
    const qAfter = q.parameters().get(name)!.dataSync();
    const kAfter = k.parameters().get(name)!.dataSync();
    for (let i = 0; i < kAfter.length; i++) expect(kAfter[i]).toBeCloseTo(0.9 * kBefore[i] + 0.1 * qAfter[i], 5);
    // queue columns 0..7 are unit-norm keys now
    const norms = tf.tidy(() => tf.norm(tf.slice(moco.queue, [0, 0], [-1, B]), 'euclidean', 0).dataSync());
    for (const n of norms) expect(n).toBeCloseTo(1, 4);
    expect(moco.ptr).toBe(B);
    q.dispose();
    k.dispose();
    opt.dispose();
    moco.queue.dispose();
  });
});
