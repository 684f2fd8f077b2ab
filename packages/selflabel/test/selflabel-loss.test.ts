import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@scan-repro/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { confidenceBasedCE } from '../src/selflabel-loss';
import { describeOnBackends, maxAbsDiff } from '@scan-repro/test-utils';

// Made by tools/golden/metrics/make_loss_goldens.py: PyTorch (float64) running the official losses.py
// classes on inputs rounded to 4 decimals; the script writes the JSON beside this file. Do not edit it by hand.
const golden = JSON.parse(readFileSync(new URL('./__goldens__/selflabel-loss.json', import.meta.url), 'utf8'));

describeOnBackends('on the %s backend', initBackend, () => {
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
