// Runs only where @tensorflow/tfjs-node loads (see tools/native/build.sh): its conv2d gradients with
// explicit padding, through our wrapper, against the cpu backend.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { initBackend } from '../src/index';
import { lcg, nativeTensorflowLoads, relativeError } from './helpers';

const nativeAvailable = await nativeTensorflowLoads();

describe.skipIf(!nativeAvailable)('tfjs-node conv2d gradients with explicit padding', () => {
  const cases: [number[], number[], number, [[0, 0], [number, number], [number, number], [0, 0]]][] = [
    [
      [2, 8, 8, 3],
      [3, 3, 3, 4],
      2,
      [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ],
    ],
    [
      [2, 9, 7, 3],
      [3, 3, 3, 4],
      1,
      [
        [0, 0],
        [2, 0],
        [1, 2],
        [0, 0],
      ],
    ],
    [
      [2, 16, 16, 3],
      [7, 7, 3, 5],
      2,
      [
        [0, 0],
        [3, 3],
        [3, 3],
        [0, 0],
      ],
    ],
    // stride 1 with (k-1)/2 on each side: run as TensorFlow's 'same', without the pad/crop copies
    [
      [2, 9, 7, 3],
      [3, 3, 3, 4],
      1,
      [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ],
    ],
    [
      [2, 8, 10, 3],
      [5, 3, 3, 4],
      1,
      [
        [0, 0],
        [2, 2],
        [1, 1],
        [0, 0],
      ],
    ],
  ];
  test.each(cases)('x %j filter %j stride %j pad %j', async (xs, ws, stride, pad) => {
    const run = async (name: 'cpu' | 'tensorflow') => {
      await initBackend({ name, quiet: true });
      return tf.tidy(() => {
        const x = tf.tensor4d(
          lcg(
            xs.reduce((a, b) => a * b),
            1,
          ),
          xs as [number, number, number, number],
        );
        const w = tf.tensor4d(
          lcg(
            ws.reduce((a, b) => a * b),
            2,
          ),
          ws as [number, number, number, number],
        );
        const y = tf.conv2d(x, w, stride, pad);
        const r = tf.tensor(lcg(y.size, 3), y.shape);
        return tf
          .grads((...[a, b]: tf.Tensor[]) =>
            tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad), r)),
          )([x, w])
          .map((g) => g.dataSync());
      });
    };
    const expected = await run('cpu');
    const actual = await run('tensorflow');
    expect(relativeError(actual[0]!, expected[0]!)).toBeLessThan(1e-4);
    expect(relativeError(actual[1]!, expected[1]!)).toBeLessThan(1e-4);
  });
});

describe.skipIf(!nativeAvailable)('tfjs-node max-pooling with explicit padding (nn.MaxPool2d(k, s, p))', () => {
  // the STL-10 ResNet's MaxPool2d(2, 2, 1) on even and odd sides, and ResNet-50's MaxPool2d(3, 2, 1)
  const cases: [number[], number, number][] = [
    [[2, 8, 8, 3], 2, 1],
    [[2, 9, 7, 3], 2, 1],
    [[2, 16, 16, 3], 3, 1],
  ];
  test.each(cases)('x %j kernel %j pad %j, stride 2: output and gradient as on the cpu backend', async (xs, k, p) => {
    const pad: [[0, 0], [number, number], [number, number], [0, 0]] = [
      [0, 0],
      [p, p],
      [p, p],
      [0, 0],
    ];
    const run = async (name: 'cpu' | 'tensorflow') => {
      await initBackend({ name, quiet: true });
      return tf.tidy(() => {
        // all values below zero, so a padded cell would win if it were padded with 0 instead of -inf
        const x = tf.sub(
          tf.tensor4d(
            lcg(
              xs.reduce((a, b) => a * b),
              1,
            ),
            xs as [number, number, number, number],
          ),
          2,
        );
        const y = tf.maxPool(x as tf.Tensor4D, k, 2, pad);
        const r = tf.tensor(lcg(y.size, 3), y.shape);
        const [dx] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, k, 2, pad), r)))([x]);
        return [y.shape, y.dataSync(), dx!.dataSync()] as const;
      });
    };
    const [shape, y, dx] = await run('cpu');
    const [nativeShape, nativeY, nativeDx] = await run('tensorflow');
    expect(nativeShape).toEqual(shape);
    expect(relativeError(nativeY, y)).toBeLessThan(1e-6);
    expect(relativeError(nativeDx, dx)).toBeLessThan(1e-6);
  });
});

describe.skipIf(!nativeAvailable)('tfjs-node Step (the ReLU gradient mask), our four-op version', () => {
  test('is 1 above zero, 0 at or below it, NaN for NaN; alpha != 0 keeps the original kernel', async () => {
    await initBackend({ name: 'tensorflow', quiet: true });
    const x = tf.tensor1d([-2, -0, 0, 1e-30, 3, NaN, Infinity, -Infinity]);
    expect(Array.from(tf.step(x).dataSync())).toEqual([0, 0, 0, 1, 1, NaN, 1, 0]);
    expect(Array.from(tf.step(x, 0.5).dataSync())).toEqual([0.5, 0.5, 0.5, 1, 1, NaN, 1, 0.5]);
    const [dx] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(tf.relu(a), tf.tensor1d([1, 2, 3, 4, 5, 6, 7, 8]))))([
      tf.tensor1d([-1, 2, -3, 4, 0, 6, -7, 8]),
    ]);
    expect(Array.from(dx!.dataSync())).toEqual([0, 2, 0, 4, 0, 6, 0, 8]);
  });
});
