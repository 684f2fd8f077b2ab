import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@scan-repro/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { scanLoss, scanValidationLoss } from './scan-loss';
import { maxAbsDiff } from '@scan-repro/test-utils';

// Made by tools/golden/metrics/make_loss_goldens.py: PyTorch (float64) running the official losses.py
// classes on inputs rounded to 4 decimals. Regenerate with that script; do not edit by hand.
const golden = {
  b: 6,
  c: 5,
  entropyWeight: 5.0,
  anchors: [
    1.5251, -3.2604, 1.0793, 2.6293, 4.0001, -0.0512, -2.1678, 1.7787, 0.4618, -1.6885, -1.0988, 1.6824, 0.9128,
    -1.1414, 3.0126, -0.8404, -0.449, 2.9148, -2.6682, -2.6209, -1.4202, -1.572, -0.4558, 1.7258, -2.6616, -0.1201,
    0.4963, -0.1609, 1.7236, 0.4359,
  ],
  neighbors: [
    0.8097, -3.592, 1.4929, -1.8056, -0.6946, -0.4848, 1.8971, -0.5636, -2.0427, 1.1302, 1.6748, 1.165, 1.9894, -0.3641,
    0.331, -2.9926, 2.5117, 0.7396, 2.3258, 0.0795, 0.7555, -1.0429, -1.9698, 2.5946, 1.8436, -0.0948, -0.9478, 0.9873,
    -0.4149, -0.6027,
  ],
  total: -5.055966743502548,
  consistency: 2.03968457109193,
  entropy: 1.4191302629188955,
  gradAnchors: [
    -0.09943145900622821, -0.0004518708792460904, -0.026618615604794962, 0.04707051604770193, 0.07943142944256733,
    -0.13953843321518714, -0.034943477011229705, 0.14239123591731415, 0.0449069516984932, -0.012816277389390453,
    -0.015597387790045578, -0.181916200456703, -0.0009137102144514843, 0.004357663098866893, 0.1940696353623332,
    -0.027371810842634875, -0.06097920782689477, 0.09020944451075695, -0.001930021764171422, 7.159592294416172e-5,
    -0.042481071636616005, -0.028986436256796304, 0.030325315150400798, 0.04025882511401904, 0.0008833676289923967,
    -0.09468711358497635, -0.12401172405300653, -0.0013180280992839122, 0.17743864437290793, 0.04257822136435887,
  ],
  gradNeighbors: [
    0.01819470510399126, 0.0006179894390672679, 0.0591761815573191, -0.003463289850447875, -0.07452558624992972,
    -0.008475642035168552, 0.07717062557171327, -0.09364152059505007, -0.004288910355147548, 0.02923544741365296,
    0.045075931445826264, -0.013908628355454838, 0.021764641563072153, 0.005892085610355015, -0.05882403026379858,
    0.00024792068850322714, 0.051951257682635345, -0.1225641018620241, 0.06364476328191233, 0.006720160208973189,
    0.014764085414653164, 0.0024705847214023763, 0.0008479756542343939, -0.06428245484290121, 0.0461998090526113,
    0.012970958756918343, -0.0003719992589570719, 0.04019195726136346, -0.05332681507685439, 0.0005358983175296838,
  ],
};

// Both backends a run may use without native TensorFlow: the wasm one lacks some gradient kernels.
describe.each(['cpu', 'wasm'] as const)('on the %s backend', (backend) => {
  beforeAll(async () => {
    await initBackend({ name: backend, quiet: true });
  });

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
