// Accumulated micro-batch gradients equal full-batch gradients for a model without batch-norm.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { accumulateGradients, initBackend, microBatchRanges } from '../src/index';
import { lcg, relativeError } from './helpers';

describe('accumulateGradients', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    test(`size-weighted accumulation equals the full-batch gradient (conv + dense, ${backend})`, async () => {
      await initBackend({ name: backend, quiet: true });
      const n = 10;
      const images = tf.tensor4d(lcg(n * 8 * 8 * 3, 31), [n, 8, 8, 3]);
      const targets = tf.tensor2d(lcg(n * 4, 32), [n, 4]);
      const conv = tf.variable(tf.tensor4d(lcg(3 * 3 * 3 * 5, 33), [3, 3, 3, 5]), true, `acc-${backend}-conv`);
      const dense = tf.variable(tf.tensor2d(lcg(4 * 4 * 5 * 4, 34), [4 * 4 * 5, 4]), true, `acc-${backend}-dense`);
      const bias = tf.variable(tf.zeros([4]), true, `acc-${backend}-bias`);
      const vars = [conv, dense, bias];
      const loss = (start: number, size: number) => {
        const x = tf.slice(images, [start, 0, 0, 0], [size, 8, 8, 3]);
        const h = tf.relu(tf.conv2d(x, conv, 2, 'same'));
        const out = tf.add(tf.matMul(tf.reshape(h, [size, -1]), dense), bias);
        return tf.mean(tf.square(tf.sub(out, tf.slice(targets, [start, 0], [size, 4])))) as tf.Scalar;
      };
      const before = tf.memory().numTensors;
      const full = tf.variableGrads(() => loss(0, n), vars);
      const ranges = microBatchRanges(n, 4); // 4 + 4 + 2: unequal sizes
      expect(ranges).toEqual([
        { start: 0, size: 4 },
        { start: 4, size: 4 },
        { start: 8, size: 2 },
      ]);
      const acc = accumulateGradients(ranges, (r) => loss(r.start, r.size), vars, { weightOf: (r) => r.size });
      expect(relativeError(acc.value.dataSync(), full.value.dataSync())).toBeLessThan(1e-5);
      for (const v of vars)
        expect(relativeError(acc.grads[v.name]!.dataSync(), full.grads[v.name]!.dataSync()), v.name).toBeLessThan(1e-5);

      // unweighted (the default) is the plain mean of the micro-batch gradients: differs here (sizes 4, 4, 2)
      const plain = accumulateGradients(ranges, (r) => loss(r.start, r.size), vars);
      expect(relativeError(plain.grads[dense.name]!.dataSync(), full.grads[dense.name]!.dataSync())).toBeGreaterThan(
        1e-3,
      );

      tf.dispose([
        full.value,
        acc.value,
        plain.value,
        ...Object.values(full.grads),
        ...Object.values(acc.grads),
        ...Object.values(plain.grads),
      ]);
      expect(tf.memory().numTensors).toBe(before); // nothing from the micro-batches is left behind
      tf.dispose([images, targets, ...vars]);
    });
  }

  test('rejects bad input with the offending value in the message', async () => {
    await initBackend({ name: 'cpu', quiet: true });
    const v = tf.variable(tf.scalar(1), true, 'acc-bad');
    expect(() => accumulateGradients([], () => tf.square(v), [v])).toThrow(/no micro-batches/);
    expect(() => accumulateGradients([1], () => tf.square(v), [v], { weightOf: () => 0 })).toThrow(
      /micro-batch 0 is 0/,
    );
    expect(() => microBatchRanges(8, 0)).toThrow(/microBatchSize 0/);
    v.dispose();
  });
});
