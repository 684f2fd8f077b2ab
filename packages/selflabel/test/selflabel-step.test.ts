import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@scan-repro/backend';
import { ClusteringModel, createClusterHeads, type Backbone } from '@scan-repro/models';
import type { Optimizer } from '@scan-repro/train';
import { expect, it } from 'vitest';
import { confidenceBasedCE } from '../src/selflabel-loss';
import { selflabelStep } from '../src/selflabel-step';
import { describeOnBackends } from '@scan-repro/test-utils';

const FEATURES = 6;
const CLASSES = 3;

/** A BN-free backbone (flatten, linear, relu): without batch statistics a micro-batched step can equal the whole-batch one exactly. */
function linearBackbone(inputs: number): Backbone {
  const w = tf.variable(tf.randomNormal([inputs, FEATURES], 0, 0.5, 'float32', 11));
  return {
    name: 'resnet18_cifar',
    featureDim: FEATURES,
    apply: (x) => tf.tidy(() => tf.relu(tf.matMul(tf.reshape(x, [x.shape[0], inputs]), w)) as tf.Tensor2D),
    parameters: () => new Map([['w', w]]),
    buffers: () => new Map(),
    dispose: () => w.dispose(),
  };
}

/** Records the gradients of one step instead of applying them. */
function recordingOptimizer(): Optimizer & { grads: Record<string, Float32Array> } {
  const grads: Record<string, Float32Array> = {};
  return {
    grads,
    steps: 0,
    step(g) {
      for (const [k, t] of Object.entries(g)) grads[k] = t.dataSync() as Float32Array;
    },
    state: () => ({}),
    loadState: () => undefined,
    dispose: () => undefined,
  };
}

function maxAbsDiff(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  let m = 0;
  for (const k of Object.keys(a)) for (let i = 0; i < a[k].length; i++) m = Math.max(m, Math.abs(a[k][i] - b[k][i]));
  return m;
}

describeOnBackends('selflabelStep on the %s backend', initBackend, () => {
  it.each([true, false])('a micro-batched step has the whole-batch gradient (class balance %s)', (classBalance) => {
    const shape: [number, number, number, number] = [12, 2, 2, 3];
    const model = new ClusteringModel(linearBackbone(12), createClusterHeads(FEATURES, CLASSES, 1, 5));
    const weak = tf.randomNormal(shape, 0, 1, 'float32', 1) as tf.Tensor4D;
    const strong = tf.randomNormal(shape, 0, 1, 'float32', 2) as tf.Tensor4D;
    // threshold 0: every row is confident, so the chunks hold different mixes of pseudo-labels
    const opts = { threshold: 0, classBalance };
    const whole = recordingOptimizer();
    const r = selflabelStep(model, whole, weak, strong, { ...opts, microBatch: 0 });
    const chunked = recordingOptimizer();
    const rc = selflabelStep(model, chunked, weak, strong, { ...opts, microBatch: 5 });
    expect(rc.numConfident).toBe(12);
    expect(Math.abs(rc.loss - r.loss)).toBeLessThan(1e-5);
    expect(maxAbsDiff(chunked.grads, whole.grads)).toBeLessThan(1e-6);

    if (classBalance) {
      // Balancing within each chunk (what the step did before) gives another gradient: the test above can fail.
      const weakLogits = model.apply(weak, true)[0];
      const perChunk = tf.variableGrads(() => {
        const parts = [
          [0, 5],
          [5, 5],
          [10, 2],
        ].map(([s, n]) => {
          const out = confidenceBasedCE(
            tf.slice(weakLogits, [s, 0], [n, -1]),
            model.apply(tf.slice(strong, [s, 0, 0, 0], [n, -1, -1, -1]), true)[0],
            0,
            true,
          );
          return tf.mul(out.loss, n);
        });
        return tf.div(tf.addN(parts), 12) as tf.Scalar;
      });
      const local = Object.fromEntries(
        Object.entries(perChunk.grads).map(([k, t]) => [k, t.dataSync() as Float32Array]),
      );
      expect(maxAbsDiff(local, whole.grads)).toBeGreaterThan(1e-3);
    }
    tf.dispose([weak, strong]);
    model.dispose();
  });
});
