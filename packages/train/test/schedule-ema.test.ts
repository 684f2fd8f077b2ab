import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@scan-repro/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { cosineLr, Ema, warmupFactor } from '../src/index';

describe('cosineLr (official adjust_learning_rate, cosine branch)', () => {
  it('starts at lr, ends near lr_min, and is lr_min + (lr - lr_min)/2 half way', () => {
    // lr 0.4, eta_min = 0.4 * 0.1^3 = 4e-4, 500 epochs (configs/pretext/simclr_cifar10.yml)
    expect(cosineLr(0, 500, 0.4, 4e-4)).toBeCloseTo(0.4, 12);
    expect(cosineLr(250, 500, 0.4, 4e-4)).toBeCloseTo(4e-4 + (0.4 - 4e-4) / 2, 12);
    // epoch 499 (the last one trained): 4e-4 + 0.3996 * (1 + cos(pi * 499/500)) / 2, computed by hand
    expect(cosineLr(499, 500, 0.4, 4e-4)).toBeCloseTo(4e-4 + (0.3996 * (1 + Math.cos(Math.PI * 0.998))) / 2, 12);
    expect(cosineLr(499, 500, 0.4, 4e-4)).toBeCloseTo(0.00040394, 7);
    expect(cosineLr(1, 4, 1, 0)).toBeCloseTo((1 + Math.SQRT1_2) / 2, 12); // 0.853553...
  });
  it('is constant when lr_min = lr', () => {
    expect(cosineLr(7, 10, 1e-4, 1e-4)).toBe(1e-4);
  });
});

describe('warmupFactor (linear warmup per step)', () => {
  it('ramps (step + 1) / warmupSteps over the warmup, then stays 1', () => {
    expect([0, 1, 2, 3, 4, 100].map((step) => warmupFactor(step, 4))).toEqual([0.25, 0.5, 0.75, 1, 1, 1]);
  });
  it('is 1 without warmup and rejects a negative step', () => {
    expect(warmupFactor(0, 0)).toBe(1);
    expect(() => warmupFactor(-1, 4)).toThrow('warmupFactor: step = -1, expected >= 0');
  });
});

describe('Ema (official utils/ema.py: update_params then apply_shadow)', () => {
  beforeAll(async () => {
    await initBackend({ name: 'wasm', quiet: true });
  });

  it('averages parameters into the shadow, loads it back, and resets the buffers to their creation values', () => {
    const w = tf.variable(tf.tensor1d([1, 1]));
    const runningMean = tf.variable(tf.tensor1d([0.5]), false);
    const ema = new Ema(new Map([['w', w]]), 0.9, new Map([['bn.running_mean', runningMean]]));
    // "optimizer step": w -> [2, 0]; BN stats drift
    w.assign(tf.tensor1d([2, 0]));
    runningMean.assign(tf.tensor1d([3]));
    ema.update();
    // shadow = 0.9 * [1, 1] + 0.1 * [2, 0] = [1.1, 0.9]; the model takes the shadow
    expect(Array.from(w.dataSync())).toEqual([expect.closeTo(1.1, 6), expect.closeTo(0.9, 6)]);
    expect(runningMean.dataSync()[0]).toBe(0.5);
    // second step from the shadow: w -> [1.1 + 1, 0.9]; shadow = [1.1 + 0.1, 0.9]
    w.assign(tf.tensor1d([2.1, 0.9]));
    ema.update();
    expect(Array.from(w.dataSync())).toEqual([expect.closeTo(1.2, 6), expect.closeTo(0.9, 6)]);

    const saved = ema.state();
    expect(Object.keys(saved).sort()).toEqual(['buffer/bn.running_mean', 'shadow/w']);
    ema.dispose();
    tf.dispose([w, runningMean]);
  });

  it('keeps the running statistics with resetBuffers: false', () => {
    const w = tf.variable(tf.tensor1d([0]));
    const rv = tf.variable(tf.tensor1d([1]), false);
    const ema = new Ema(new Map([['w', w]]), 0.5, new Map([['rv', rv]]), { resetBuffers: false });
    rv.assign(tf.tensor1d([4]));
    w.assign(tf.tensor1d([2]));
    ema.update();
    expect(w.dataSync()[0]).toBeCloseTo(1, 6);
    expect(rv.dataSync()[0]).toBe(4);
    ema.dispose();
    tf.dispose([w, rv]);
  });
});
