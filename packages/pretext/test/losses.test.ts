import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@scan-repro/backend';
import { describe, expect, it } from 'vitest';
import { ntXentLoss, rotnetLoss } from '../src/losses';
import { describeOnBackends, maxAbsDiff } from '@scan-repro/test-utils';

// Made by tools/golden/metrics/make_loss_goldens.py: PyTorch (float64) running the official losses.py
// classes on inputs rounded to 4 decimals; the script writes the JSON beside this file. Do not edit it by hand.
const golden = JSON.parse(readFileSync(new URL('./__goldens__/losses.json', import.meta.url), 'utf8'));

describeOnBackends('on the %s backend', initBackend, () => {
  describe('ntXentLoss', () => {
    it('matches the official PyTorch SimCLRLoss value and gradients', () => {
      const g = golden.simclr;
      const z1 = tf.tensor2d(g.z1, [g.b, g.d]);
      const z2 = tf.tensor2d(g.z2, [g.b, g.d]);
      expect(Math.abs(ntXentLoss(z1, z2, g.temperature).dataSync()[0] - g.loss)).toBeLessThan(5e-6);
      const [g1, g2] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        ntXentLoss(a as tf.Tensor2D, b as tf.Tensor2D, g.temperature),
      )([z1, z2]);
      expect(maxAbsDiff(g1.dataSync(), g.gradZ1)).toBeLessThan(1e-6);
      expect(maxAbsDiff(g2.dataSync(), g.gradZ2)).toBeLessThan(1e-6);
    });

    it('equals a hand computation on 2 pairs of 2-d vectors', () => {
      // z1 = [e1, e2], z2 = [e1, e1]; τ = 0.5. Anchor 0: sims to [z1_0, z1_1, z2_0, z2_1] = [1, 0, 1, 1] (self excluded)
      // anchor 1: sims = [0, 1, 0, 0].
      const tau = 0.5;
      const l0 = -(1 / tau) + Math.log(Math.exp(0) + Math.exp(1 / tau) + Math.exp(1 / tau));
      const l1 = -(0 / tau) + Math.log(Math.exp(0) + Math.exp(0) + Math.exp(0));
      const loss = ntXentLoss(
        tf.tensor2d([
          [3, 0],
          [0, 2],
        ]),
        tf.tensor2d([
          [1, 0],
          [5, 0],
        ]),
        tau,
      );
      expect(loss.dataSync()[0]).toBeCloseTo((l0 + l1) / 2, 5);
    });
  });

  describe('rotnetLoss', () => {
    it('matches torch cross_entropy and its gradient', () => {
      const g = golden.rotnet;
      const logits = tf.tensor2d(g.logits, [g.labels.length, 4]);
      expect(Math.abs(rotnetLoss(logits, g.labels).dataSync()[0] - g.loss)).toBeLessThan(5e-6);
      const grad = tf.grad((x: tf.Tensor) => rotnetLoss(x as tf.Tensor2D, g.labels))(logits);
      expect(maxAbsDiff(grad.dataSync(), g.grad)).toBeLessThan(1e-6);
    });

    it('is log 4 for uniform logits and rejects a label outside 0..3', () => {
      expect(rotnetLoss(tf.zeros([3, 4]), [0, 1, 3]).dataSync()[0]).toBeCloseTo(Math.log(4), 6);
      expect(() => rotnetLoss(tf.zeros([2, 4]), [0, 4])).toThrow(/rotations\[1\] = 4/);
    });
  });
});
