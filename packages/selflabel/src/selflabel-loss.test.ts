import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@scan-repro/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { confidenceBasedCE } from './selflabel-loss';
import { maxAbsDiff } from '@scan-repro/test-utils';

// Made by tools/golden/metrics/make_loss_goldens.py: PyTorch (float64) running the official losses.py
// classes on inputs rounded to 4 decimals. Regenerate with that script; do not edit by hand.
const golden = {
  b: 10,
  c: 4,
  threshold: 0.9,
  weak: [
    4.4998000000000005, -0.6723, 0.7506, -0.8157, 0.0505, -0.5109, -1.3845, 0.3499, 5.5784, 0.8548, 0.1635, -0.3811,
    4.3243, 0.4448, 0.1837, 0.3633, 0.1245, 0.3075, -0.4658, 0.4882, -0.0051, 5.7764, -1.2558, 0.0256, 0.1964, 0.278,
    5.1389, 0.2495, 0.4077, 0.6935, -0.7494, -0.0771, 0.4398, 0.063, 5.0122, -0.111, 0.2631, 0.2592, 0.1426, 0.2261,
  ],
  strong: [
    -1.0928, 1.5715, -1.7745, -2.8837, -1.8352, -0.0672, -1.793, 4.1853, -0.8535, -1.6659, 0.9958, 2.3947, -0.3436,
    2.9094, 0.2061, -1.4643, 1.4174, 0.2729, 1.8254, -2.0709, -3.2319, 0.0203, -1.1275, -1.7494, 6.331, -1.8452,
    -0.6381, -1.5704, 2.7525, 1.3847, 0.7966, -2.1572, -0.5849, 3.2618, 0.4099, -4.4289, 1.2287, 0.1343, 0.3363, 3.5082,
  ],
  balanced: {
    loss: 2.8632806393584858,
    gradStrong: [
      -0.10417986287475703, 0.09951813786657375, 0.0035055236762380195, 0.0011562013319452525, 0.0, 0.0, 0.0, 0.0,
      -0.10779862523435972, 0.0014700536955095215, 0.021052070738828112, 0.0852765008000221, -0.1072699729843321,
      0.09936189696768084, 0.006655667250575074, 0.0012524087660761702, 0.0, 0.0, 0.0, 0.0, 0.008448815303615525,
      -0.1149556118550052, 0.06929870580607632, 0.03720809074531337, 0.1664017563070058, 4.6803611186110944e-5,
      -0.16651016598556734, 6.160606737541377e-5, 0.0, 0.0, 0.0, 0.0, 0.003296163619002206, 0.15438650833190734,
      -0.15775323555801385, 7.056360710431641e-5, 0.0, 0.0, 0.0, 0.0,
    ],
  },
  unbalanced: {
    loss: 3.3290214321991733,
    gradStrong: [
      -0.15626979431213556, 0.14927720679986062, 0.005258285514357029, 0.0017343019979178787, 0.0, 0.0, 0.0, 0.0,
      -0.16169793785153957, 0.0022050805432642824, 0.03157810610824217, 0.12791475120003315, -0.16090495947649816,
      0.14904284545152127, 0.009983500875862611, 0.0018786131491142553, 0.0, 0.0, 0.0, 0.0, 0.004224407651807763,
      -0.0574778059275026, 0.03464935290303816, 0.018604045372656686, 0.1664017563070058, 4.6803611186110944e-5,
      -0.16651016598556734, 6.160606737541377e-5, 0.0, 0.0, 0.0, 0.0, 0.003296163619002206, 0.15438650833190734,
      -0.15775323555801385, 7.056360710431641e-5, 0.0, 0.0, 0.0, 0.0,
    ],
  },
  mask: [true, false, true, true, false, true, true, false, true, false],
};

// Both backends a run may use without native TensorFlow: the wasm one lacks some gradient kernels.
describe.each(['cpu', 'wasm'] as const)('on the %s backend', (backend) => {
  beforeAll(async () => {
    await initBackend({ name: backend, quiet: true });
  });

  describe('confidenceBasedCE', () => {
    const g = golden;
    let weak: tf.Tensor2D;
    let strong: tf.Tensor2D;
    beforeAll(() => {
      weak = tf.tensor2d(g.weak, [g.b, g.c]);
      strong = tf.tensor2d(g.strong, [g.b, g.c]);
    });

    it.each([
      ['balanced', true],
      ['unbalanced', false],
    ] as const)('matches the official ConfidenceBasedCE (%s) value and gradient', (key, balance) => {
      const out = confidenceBasedCE(weak, strong, g.threshold, balance);
      expect(out.numConfident).toBe(g.mask.filter(Boolean).length);
      expect(out.empty).toBe(false);
      expect(Math.abs(out.loss.dataSync()[0] - g[key].loss)).toBeLessThan(5e-6);
      const grad = tf.grad((s: tf.Tensor) => confidenceBasedCE(weak, s as tf.Tensor2D, g.threshold, balance).loss)(
        strong,
      );
      expect(maxAbsDiff(grad.dataSync(), g[key].gradStrong)).toBeLessThan(1e-6);
    });

    it('class weights are n / count among confident pseudo-labels, 1 for absent classes', () => {
      // confident pseudo-labels in the golden batch: classes 0, 0, 0, 1, 2, 2 (n = 6); class 3 absent
      expect(Array.from(confidenceBasedCE(weak, strong, g.threshold, true).classWeights)).toEqual([2, 6, 3, 1]);
      expect(Array.from(confidenceBasedCE(weak, strong, g.threshold, false).classWeights)).toEqual([1, 1, 1, 1]);
    });

    it('hand case: one confident row gives plain CE of the strong logits', () => {
      const w = tf.tensor2d([
        [10, 0, 0],
        [0, 0, 0],
      ]); // row 0: p ≈ 0.99991 > 0.99; row 1 uniform
      const s = tf.tensor2d([
        [1, 2, 3],
        [5, 5, 5],
      ]);
      const expected = -(1 - Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)));
      expect(confidenceBasedCE(w, s, 0.99, true).loss.dataSync()[0]).toBeCloseTo(expected, 5);
    });

    it('no confident sample: zero loss with zero gradient and empty = true (the official code raises here)', () => {
      const w = tf.zeros([4, 3]) as tf.Tensor2D;
      const s = tf.randomNormal([4, 3], 0, 1, 'float32', 3) as tf.Tensor2D;
      const out = confidenceBasedCE(w, s, 0.99, true);
      expect(out.empty).toBe(true);
      expect(out.numConfident).toBe(0);
      expect(out.loss.dataSync()[0]).toBe(0);
      const grad = tf.grad((x: tf.Tensor) => confidenceBasedCE(w, x as tf.Tensor2D, 0.99, true).loss)(s);
      expect(Array.from(grad.dataSync())).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    });

    it('threshold is strict (max prob must exceed it)', () => {
      const w = tf.log(tf.tensor2d([[0.5, 0.5]])) as tf.Tensor2D;
      expect(confidenceBasedCE(w, tf.zeros([1, 2]), 0.5, false).empty).toBe(true);
    });
  });
});
