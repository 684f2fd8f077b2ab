import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@scan-repro/backend';
import { composeConfig, readMetrics, RunFolder } from '@scan-repro/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  cosineLr,
  createOptimizer,
  microBatches,
  restoreVariables,
  runEpochs,
  snapshotVariables,
  trainStep,
} from '../src/index';
import { tempDir } from '@scan-repro/test-utils';

// A small least-squares problem: w* solves X w = y; 3 epochs of 4 mini-batches of SGD with momentum.
const N = 32;
const D = 5;
const X = Float32Array.from({ length: N * D }, (_, i) => Math.sin(1.3 * i + 0.2));
const Y = Float32Array.from({ length: N }, (_, i) => Math.cos(0.7 * i));

async function train(
  dir: string,
  stopAfterEpochs?: number,
): Promise<{ w: number[]; finished: boolean; resumedAt: number; losses: number[] }> {
  const config = composeConfig(['profile=ci']);
  const run = await RunFolder.create({ dir, stage: 'pretext', config });
  const w = tf.variable(tf.zeros([D, 1]));
  const params = new Map([['w', w]]);
  const opt = createOptimizer(
    { optimizer: 'sgd', lr: 0.05, momentum: 0.9, nesterov: false, weight_decay: 1e-3 },
    params,
  );
  try {
    const result = await runEpochs({
      run,
      epochs: 3,
      label: 'lsq',
      stepsPerEpoch: 4,
      checkpointEvery: 1,
      stopAfterEpochs,
      state: () => ({
        tensors: {
          ...snapshotVariables(params, 'model/'),
          ...Object.fromEntries(Object.entries(opt.state()).map(([k, v]) => [`optim/${k}`, v])),
        },
        extra: { note: 'x' },
      }),
      restore: (t, extra) => {
        expect(extra).toEqual({ note: 'x' });
        restoreVariables(params, t, 'model/');
        opt.loadState(
          Object.fromEntries(
            Object.entries(t)
              .filter(([k]) => k.startsWith('optim/'))
              .map(([k, v]) => [k.slice(6), v]),
          ),
        );
      },
      epoch: async (e, { progress }) => {
        let sum = 0;
        for (let b = 0; b < 4; b++) {
          const rows = 8;
          const loss = trainStep({
            params,
            optimizer: opt,
            lr: cosineLr(e, 3, 0.05, 5e-5),
            microBatches: microBatches(rows, 3),
            weightOf: (r) => r.size,
            loss: (r) =>
              tf.tidy(() => {
                const x = tf.tensor2d(X.subarray((b * rows + r.start) * D, (b * rows + r.start + r.size) * D), [
                  r.size,
                  D,
                ]);
                const y = tf.tensor2d(Y.subarray(b * rows + r.start, b * rows + r.start + r.size), [r.size, 1]);
                return tf.mean(tf.square(tf.sub(tf.matMul(x, w), y))) as tf.Scalar;
              }),
          });
          sum += loss;
          progress.tick(1, { loss });
        }
        return { loss: sum / 4 };
      },
    });
    return {
      w: Array.from(w.dataSync()),
      finished: result.finished,
      resumedAt: result.resumedAt,
      losses: result.history.map((h) => h.loss),
    };
  } finally {
    opt.dispose();
    w.dispose();
  }
}

describe('runEpochs + trainStep', () => {
  const root = tempDir('train-loop');
  beforeAll(async () => {
    await initBackend({ name: 'wasm', quiet: true });
  });

  it('an interrupted run resumed from its checkpoint ends exactly where an uninterrupted run does', async () => {
    const whole = await train(join(root, 'whole'));
    expect(whole.finished).toBe(true);
    expect(whole.losses[2]).toBeLessThan(whole.losses[0]);

    const cut = await train(join(root, 'cut'), 1);
    expect(cut.finished).toBe(false);
    const resumed = await train(join(root, 'cut'));
    expect(resumed.resumedAt).toBe(1);
    expect(resumed.finished).toBe(true);
    expect(resumed.w).toEqual(whole.w); // bit-identical
    expect(resumed.losses).toEqual(whole.losses);
    // metrics.jsonl keeps one record per epoch across the two calls
    const records = (await readMetrics(join(root, 'cut'))).filter((r) => r.key === 'loss');
    expect(records.map((r) => r.step)).toEqual([1, 2, 3]);
  });

  it('micro-batch accumulation weighted by size gives the full-batch step, and leaks no tensors', () => {
    const make = () => tf.variable(tf.tensor2d([[0.1], [-0.2], [0.3], [0], [0.5]]));
    const wa = make();
    const wb = make();
    const cfg = { optimizer: 'sgd' as const, lr: 0.1, momentum: 0.9, nesterov: true, weight_decay: 1e-4 };
    const oa = createOptimizer(cfg, new Map([['w', wa]]));
    const ob = createOptimizer(cfg, new Map([['w', wb]]));
    const lossOf = (w: tf.Variable, start: number, size: number) =>
      tf.tidy(() => {
        const x = tf.tensor2d(X.subarray(start * D, (start + size) * D), [size, D]);
        const y = tf.tensor2d(Y.subarray(start, start + size), [size, 1]);
        return tf.mean(tf.square(tf.sub(tf.matMul(x, w), y))) as tf.Scalar;
      });
    let baseline = 0;
    for (let s = 0; s < 4; s++) {
      if (s === 1) baseline = tf.memory().numTensors;
      trainStep({ params: new Map([['w', wa]]), optimizer: oa, microBatches: [0], loss: () => lossOf(wa, 0, N) });
      trainStep({
        params: new Map([['w', wb]]),
        optimizer: ob,
        microBatches: microBatches(N, 5),
        weightOf: (r) => r.size,
        loss: (r) => lossOf(wb, r.start, r.size),
      });
    }
    expect(tf.memory().numTensors).toBe(baseline);
    const a = wa.dataSync();
    const b = wb.dataSync();
    for (let i = 0; i < D; i++) expect(b[i]).toBeCloseTo(a[i], 5);
    oa.dispose();
    ob.dispose();
    tf.dispose([wa, wb]);
  });
});
