// batchNormTrain / batchNormInfer against hand-computed values and against tfjs's own composite ops
// (tf.moments + tf.batchNorm differentiated by autograd on the cpu backend).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { batchNormInfer, batchNormTrain, initBackend } from '../src/index';
import { lcg, nativeTensorflowLoads, onBackend, relativeError } from './helpers';

const nativeAvailable = await nativeTensorflowLoads();

const shape: [number, number, number, number] = [3, 5, 4, 6];
const size = shape.reduce((a, b) => a * b, 1);

function inputs() {
  return {
    x: tf.tensor4d(
      Float32Array.from(lcg(size, 11), (v, i) => 3 * v + (i % 6) - 2),
      shape,
    ), // per-channel offsets
    gamma: tf.tensor1d(Float32Array.from(lcg(6, 12), (v) => v + 1)),
    beta: tf.tensor1d(lcg(6, 13)),
    r: tf.tensor4d(lcg(size, 14), shape),
  };
}

function composite() {
  const { x, gamma, beta, r } = inputs();
  const f = (...[a, g, b]: tf.Tensor[]) => {
    const { mean, variance } = tf.moments(a!, [0, 1, 2]);
    return tf.sum(tf.mul(tf.batchNorm(a!, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, 1e-5), r));
  };
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return [tf.batchNorm(x, mean, variance, beta, gamma, 1e-5), mean, variance, ...tf.grads(f)([x, gamma, beta])];
}

function ours() {
  const { x, gamma, beta, r } = inputs();
  const { y, mean, variance } = batchNormTrain(x, gamma, beta, 1e-5);
  const grads = tf.grads((...[a, g, b]: tf.Tensor[]) =>
    tf.sum(tf.mul(batchNormTrain(a!, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5).y, r)),
  )([x, gamma, beta]);
  return [y, mean, variance, ...grads];
}

describe('batchNormTrain', () => {
  test('normalises a hand-computed example', async () => {
    const [y, mean, variance] = await onBackend('cpu', () => {
      const out = batchNormTrain(
        tf.tensor2d([
          [1, 10],
          [3, 10],
          [5, 16],
          [7, 16],
        ]),
        tf.tensor1d([2, 1]),
        tf.tensor1d([0, 1]),
        0,
      );
      return [out.y, out.mean, out.variance];
    });
    // channel 0: mean 4, var 5 -> (x - 4) / sqrt(5) * 2; channel 1: mean 13, var 9 -> (x - 13) / 3 + 1
    const s = 2 / Math.sqrt(5);
    const expected = [-3 * s, 0, -1 * s, 0, 1 * s, 2, 3 * s, 2];
    Array.from(y!).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    expect(Array.from(mean!)).toEqual([4, 13]);
    expect(Array.from(variance!)).toEqual([5, 9]);
  });

  for (const backend of ['cpu', 'wasm', 'tensorflow'] as const) {
    // (tensorflow: TensorFlow's fused training-mode ops, where tfjs-node loads)
    test.skipIf(backend === 'tensorflow' && !nativeAvailable)(
      `output, statistics and gradients match tfjs composite ops (ours on ${backend})`,
      async () => {
        const expected = await onBackend('cpu', composite);
        const actual = await onBackend(backend, ours);
        const names = ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'];
        expected.forEach((e, i) => expect(relativeError(actual[i]!, e), names[i]).toBeLessThan(1e-4));
      },
    );
  }

  test('works on [N, C] and returns statistics that outer tidy scopes clean up', async () => {
    await initBackend({ name: 'wasm', quiet: true });
    const before = tf.memory().numTensors;
    const x = tf.tensor2d(lcg(40, 3), [8, 5]);
    tf.tidy(() => {
      const out = batchNormTrain(x, tf.ones([5]) as tf.Tensor1D, tf.zeros([5]) as tf.Tensor1D);
      expect(out.y.shape).toEqual([8, 5]);
      expect(out.mean.shape).toEqual([5]);
    });
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('rejects mismatched parameters with the shapes in the message', async () => {
    await initBackend({ name: 'cpu', quiet: true });
    expect(() => batchNormTrain(tf.zeros([2, 3]), tf.ones([4]) as tf.Tensor1D, tf.zeros([4]) as tf.Tensor1D)).toThrow(
      /gamma \[4\].*3 elements/,
    );
  });
});

describe('batchNormInfer', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    test(`matches tf.batchNorm and its gradients (ours on ${backend})`, async () => {
      const stats = () => ({
        mean: tf.tensor1d(lcg(6, 21)),
        variance: tf.tensor1d(Float32Array.from(lcg(6, 22), (v) => v + 1)),
      });
      const run = (fn: typeof batchNormInfer) => () => {
        const { x, gamma, beta, r } = inputs();
        const { mean, variance } = stats();
        const f = (...[a, g, b]: tf.Tensor[]) =>
          tf.sum(tf.mul(fn(a!, mean, variance, g as tf.Tensor1D, b as tf.Tensor1D, 1e-3), r));
        return [fn(x, mean, variance, gamma, beta, 1e-3), ...tf.grads(f)([x, gamma, beta])];
      };
      const reference = ((
        x: tf.Tensor,
        mean: tf.Tensor1D,
        variance: tf.Tensor1D,
        gamma: tf.Tensor1D,
        beta: tf.Tensor1D,
        eps: number,
      ) => tf.batchNorm(x, mean, variance, beta, gamma, eps)) as typeof batchNormInfer;
      const expected = await onBackend('cpu', run(reference));
      const actual = await onBackend(backend, run(batchNormInfer));
      expected.forEach((e, i) => expect(relativeError(actual[i]!, e)).toBeLessThan(1e-4));
    });
  }
});
