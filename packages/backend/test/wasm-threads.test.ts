// The wasm backend's kernel workers: kernels split over the batch give the single-threaded results.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { initBackend } from '../src/index';
import { setWasmThreads, wasmThreads, wasmThreadTuning } from '../src/wasm-threads';
import { lcg, relativeError } from './helpers';

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];
interface Case {
  x: [number, number, number, number];
  k: number;
  cout: number;
  stride: number;
  pad: Pad;
}

// odd batches (uneven slices), strides 1/2, 1x1/3x3/7x7, valid/same/explicit padding, both filter-gradient forms
const cases: Case[] = [
  { x: [5, 12, 12, 16], k: 3, cout: 24, stride: 1, pad: 'same' },
  {
    x: [3, 32, 32, 16],
    k: 3,
    cout: 16,
    stride: 1,
    pad: [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ],
  },
  {
    x: [7, 16, 15, 8],
    k: 3,
    cout: 16,
    stride: 2,
    pad: [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ],
  },
  { x: [4, 16, 16, 8], k: 1, cout: 16, stride: 2, pad: 'valid' },
  { x: [3, 20, 20, 3], k: 7, cout: 8, stride: 2, pad: 'valid' },
];

/** conv output, dx and dW for a random linear functional of the output. */
function convAndGrads(c: Case): tf.Tensor[] {
  const [n, h, w, cin] = c.x;
  const x = tf.tensor4d(lcg(n * h * w * cin, 1), c.x);
  const filter = tf.tensor4d(lcg(c.k * c.k * cin * c.cout, 2), [c.k, c.k, cin, c.cout]);
  const y = tf.conv2d(x, filter, c.stride, c.pad);
  const r = tf.tensor(lcg(y.size, 3), y.shape);
  const [dx, dW] = tf.grads((...[a, b]: tf.Tensor[]) =>
    tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), r)),
  )([x, filter]);
  return [y, dx!, dW!];
}

async function withThreads(threads: number, f: () => tf.Tensor[]): Promise<Float32Array[]> {
  await setWasmThreads(threads);
  const ts = tf.tidy(f);
  const values = ts.map((t) => t.dataSync() as Float32Array);
  tf.dispose(ts);
  return values;
}

describe('wasm kernel workers', () => {
  beforeAll(async () => {
    await initBackend({ name: 'wasm', quiet: true });
    wasmThreadTuning.minSplitMacs = 0; // split every kernel call, however small
  });
  afterAll(async () => {
    wasmThreadTuning.minSplitMacs = 2e7;
    await setWasmThreads(1);
  });

  test('start and stop on request', async () => {
    await setWasmThreads(3);
    expect(wasmThreads()).toBe(3);
    await setWasmThreads(1);
    expect(wasmThreads()).toBe(1);
    await expect(setWasmThreads(0)).rejects.toThrow(/wasm threads: 0 must be a positive integer/);
  });

  test.each(cases.map((c) => [JSON.stringify(c), c] as const))(
    'conv2d and its gradients match one thread: %s',
    async (_, c) => {
      const [y1, dx1, dW1] = await withThreads(1, () => convAndGrads(c));
      const [y3, dx3, dW3] = await withThreads(3, () => convAndGrads(c));
      // forward and input gradient: the same kernel on each batch slice, joined; filter gradient: slices summed
      expect(relativeError(y3!, y1!)).toBeLessThan(1e-6);
      expect(relativeError(dx3!, dx1!)).toBeLessThan(1e-6);
      expect(relativeError(dW3!, dW1!)).toBeLessThan(1e-5);
    },
  );

  test('a given thread count is deterministic: two runs give identical bits', async () => {
    const c = cases[0]!;
    const first = await withThreads(3, () => convAndGrads(c));
    const second = await withThreads(3, () => convAndGrads(c));
    first.forEach((values, i) => expect(Buffer.from(second[i]!.buffer).equals(Buffer.from(values.buffer))).toBe(true));
  });

  test('initBackend takes the thread count from its option and from SCAN_WASM_THREADS', async () => {
    await initBackend({ name: 'wasm', threads: 2, quiet: true });
    expect(wasmThreads()).toBe(2);
    await initBackend({ name: 'cpu', quiet: true });
    process.env.SCAN_WASM_THREADS = 'two';
    await expect(initBackend({ name: 'wasm', quiet: true })).rejects.toThrow(
      /SCAN_WASM_THREADS: 'two' is not a positive integer/,
    );
    process.env.SCAN_WASM_THREADS = '3';
    await initBackend({ name: 'wasm', quiet: true });
    expect(wasmThreads()).toBe(3);
    delete process.env.SCAN_WASM_THREADS;
  });
});
