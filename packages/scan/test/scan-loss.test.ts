import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@scan-repro/backend';
import { describe, expect, it } from 'vitest';
import { scanLoss, scanValidationLoss } from '../src/scan-loss';
import { describeOnBackends, maxAbsDiff } from '@scan-repro/test-utils';

// Made by tools/golden/metrics/make_loss_goldens.py: PyTorch (float64) running the official losses.py
// classes on inputs rounded to 4 decimals; the script writes the JSON beside this file. Do not edit it by hand.
const golden = JSON.parse(readFileSync(new URL('./__goldens__/scan-loss.json', import.meta.url), 'utf8'));

describeOnBackends('on the %s backend', initBackend, () => {
  describe('scanLoss', () => {
    it('uniform predictions: entropy = log C and consistency = log C', () => {
      const c = 7;
      const { total, consistency, entropy } = scanLoss(tf.zeros([4, c]), tf.zeros([4, c]), 5);
      expect(entropy.dataSync()[0]).toBeCloseTo(Math.log(c), 5);
      // ⟨u, u⟩ = 1/C for uniform u, so −log = log C
      expect(consistency.dataSync()[0]).toBeCloseTo(Math.log(c), 5);
      expect(total.dataSync()[0]).toBeCloseTo(Math.log(c) - 5 * Math.log(c), 4);
    });

    it('identical confident one-hot predictions: consistency 0, entropy of the cluster histogram', () => {
      // 3 anchors in clusters 0, 0, 2 (logits ±60 so softmax is one-hot in float32)
      const logits = tf.tensor2d([
        [60, -60, -60],
        [60, -60, -60],
        [-60, -60, 60],
      ]);
      const { consistency, entropy } = scanLoss(logits, logits, 5);
      expect(consistency.dataSync()[0]).toBeCloseTo(0, 6);
      // mean = [2/3, 0→clamped 1e-8, 1/3]
      const expected = -(2 / 3) * Math.log(2 / 3) - (1 / 3) * Math.log(1 / 3) - 1e-8 * Math.log(1e-8);
      expect(entropy.dataSync()[0]).toBeCloseTo(expected, 6);
    });

    it('a 2×3 case computed by hand', () => {
      // softmax(log p) = p, so logits = log of the wanted probabilities
      const pa = [
        [0.5, 0.3, 0.2],
        [0.1, 0.1, 0.8],
      ];
      const pn = [
        [0.6, 0.2, 0.2],
        [0.2, 0.2, 0.6],
      ];
      const a = tf.log(tf.tensor2d(pa));
      const n = tf.log(tf.tensor2d(pn));
      const dot0 = 0.5 * 0.6 + 0.3 * 0.2 + 0.2 * 0.2; // 0.40
      const dot1 = 0.1 * 0.2 + 0.1 * 0.2 + 0.8 * 0.6; // 0.52
      const consistency = -(Math.log(dot0) + Math.log(dot1)) / 2;
      const mean = [0.3, 0.2, 0.5];
      const entropy = -mean.reduce((s, p) => s + p * Math.log(p), 0);
      const out = scanLoss(a as tf.Tensor2D, n as tf.Tensor2D, 2);
      expect(out.consistency.dataSync()[0]).toBeCloseTo(consistency, 6);
      expect(out.entropy.dataSync()[0]).toBeCloseTo(entropy, 6);
      expect(out.total.dataSync()[0]).toBeCloseTo(consistency - 2 * entropy, 5);
    });

    it('matches the official PyTorch SCANLoss values and gradients on random logits', () => {
      const g = golden;
      const a = tf.tensor2d(g.anchors, [g.b, g.c]);
      const n = tf.tensor2d(g.neighbors, [g.b, g.c]);
      const out = scanLoss(a, n, g.entropyWeight);
      const diffs = {
        total: Math.abs(out.total.dataSync()[0] - g.total),
        consistency: Math.abs(out.consistency.dataSync()[0] - g.consistency),
        entropy: Math.abs(out.entropy.dataSync()[0] - g.entropy),
      };
      expect(diffs.total).toBeLessThan(5e-6);
      expect(diffs.consistency).toBeLessThan(5e-6);
      expect(diffs.entropy).toBeLessThan(5e-6);
      const grads = tf.grads(
        (x: tf.Tensor, y: tf.Tensor) => scanLoss(x as tf.Tensor2D, y as tf.Tensor2D, g.entropyWeight).total,
      )([a, n]);
      expect(maxAbsDiff(grads[0].dataSync(), g.gradAnchors)).toBeLessThan(1e-6);
      expect(maxAbsDiff(grads[1].dataSync(), g.gradNeighbors)).toBeLessThan(1e-6);
    });

    it('has finite gradients even for orthogonal one-hot predictions (log clamped at −100)', () => {
      const a = tf.tensor2d([
        [200, -200],
        [-200, 200],
      ]);
      const n = tf.tensor2d([
        [-200, 200],
        [200, -200],
      ]);
      const out = scanLoss(a, n, 5);
      expect(out.consistency.dataSync()[0]).toBeCloseTo(100, 3);
      const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) => scanLoss(x as tf.Tensor2D, y as tf.Tensor2D, 5).total)([
        a,
        n,
      ]);
      for (const gr of grads) for (const v of gr.dataSync()) expect(Number.isFinite(v)).toBe(true);
    });

    it('leaks no tensors and rejects mismatched shapes', () => {
      const a = tf.randomNormal([8, 4], 0, 1, 'float32', 1) as tf.Tensor2D;
      const before = tf.memory().numTensors;
      const out = scanLoss(a, a, 5);
      expect(tf.memory().numTensors).toBe(before + 3);
      tf.dispose([out.total, out.consistency, out.entropy]);
      expect(() => scanLoss(a, tf.zeros([8, 5]), 5)).toThrow(/must have the same shape/);
    });
  });

  describe('scanValidationLoss', () => {
    it('averages the BCE over every (anchor, neighbour) pair and uses entropy weight 1', () => {
      const probs = [0.5, 0.5, /**/ 1, 0, /**/ 0.2, 0.8];
      const neighbors = [0, 1, /**/ 1, 2, /**/ 2, 0]; // K+1 = 2 with self first
      const pairs = [
        [0, 0],
        [0, 1],
        [1, 1],
        [1, 2],
        [2, 2],
        [2, 0],
      ];
      const dot = (i: number, j: number) => probs[2 * i] * probs[2 * j] + probs[2 * i + 1] * probs[2 * j + 1];
      const consistency = -pairs.reduce((s, [i, j]) => s + Math.log(dot(i, j)), 0) / 6;
      const mean = [(0.5 + 1 + 0.2) / 3, (0.5 + 0 + 0.8) / 3];
      const entropy = -mean.reduce((s, p) => s + p * Math.log(p), 0);
      const out = scanValidationLoss(probs, neighbors, 3);
      expect(out.consistency).toBeCloseTo(consistency, 12);
      expect(out.entropy).toBeCloseTo(entropy, 12);
      expect(out.total).toBeCloseTo(consistency - entropy, 12);
    });
  });
});
