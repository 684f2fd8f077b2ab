// Our wasm conv2d gradient kernels against the cpu backend's reference kernels and a naive loop.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { filterGradTuning, wasmKernels } from '../src/wasm-kernels';
import { initBackend, unsplitKernelFunc } from '../src/index';
import { lcg, onBackend, relativeError } from './helpers';

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];
interface Case {
  x: [number, number, number, number];
  k: [number, number];
  cout: number;
  stride: number | [number, number];
  pad: Pad;
}

const cases: Case[] = [];
// every kernel size x stride x padding mode on an odd and an even input, batch 2, Cin != Cout
for (const k of [1, 3, 5, 7]) {
  for (const stride of [1, 2, 3]) {
    for (const pad of [
      'same',
      'valid',
      [
        [0, 0],
        [k >> 1, k >> 1],
        [k >> 1, k >> 1],
        [0, 0],
      ],
    ] as Pad[]) {
      for (const size of [9, 12]) {
        if (pad === 'valid' && size < k) continue;
        cases.push({ x: [2, size, size + 1, 3], k: [k, k], cout: 4, stride, pad });
      }
    }
  }
}
// more than 8 output channels: the filter gradient runs one convolution per group of 8 (see filterGradTuning)
for (const k of [1, 3, 5]) {
  for (const stride of [1, 2, 3]) {
    for (const pad of ['same', 'valid'] as Pad[])
      cases.push({ x: [3, 11, 10, 5], k: [k, k], cout: k === 3 ? 24 : 16, stride, pad });
  }
}
// asymmetric explicit pads, rectangular kernels and strides, a ResNet-like downsampling layer, the 7x7 stem
cases.push({
  x: [2, 7, 9, 4],
  k: [3, 2],
  cout: 6,
  stride: [2, 1],
  pad: [
    [0, 0],
    [1, 0],
    [2, 1],
    [0, 0],
  ],
});
cases.push({
  x: [3, 10, 11, 2],
  k: [5, 3],
  cout: 3,
  stride: [1, 3],
  pad: [
    [0, 0],
    [0, 2],
    [1, 0],
    [0, 0],
  ],
});
cases.push({
  x: [4, 16, 16, 16],
  k: [3, 3],
  cout: 32,
  stride: 2,
  pad: [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ],
});
cases.push({ x: [4, 16, 16, 16], k: [1, 1], cout: 32, stride: 2, pad: 'valid' });
cases.push({
  x: [2, 24, 24, 3],
  k: [7, 7],
  cout: 8,
  stride: 2,
  pad: [
    [0, 0],
    [3, 3],
    [3, 3],
    [0, 0],
  ],
});

function gradsOf(c: Case) {
  const [n, h, w, cin] = c.x;
  const x = tf.tensor4d(lcg(n * h * w * cin, 1), c.x);
  const filter = tf.tensor4d(lcg(c.k[0] * c.k[1] * cin * c.cout, 2), [c.k[0], c.k[1], cin, c.cout]);
  const outShape = tf.conv2d(x, filter, c.stride, c.pad).shape;
  // a random linear functional of the output, so every output element gets a distinct upstream gradient
  const r = tf.tensor(
    lcg(
      outShape.reduce((a, b) => a * b, 1),
      3,
    ),
    outShape,
  );
  const [dx, dW] = tf.grads((...[a, b]: tf.Tensor[]) =>
    tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), r)),
  )([x, filter]);
  return [dx!, dW!];
}

describe('wasm conv2d gradient kernels', () => {
  test('replace the shipped wasm kernels once initBackend ran', async () => {
    await initBackend({ name: 'wasm', quiet: true });
    // (the conv kernels may be wrapped by the thread splitter, which runs ours on each slice)
    for (const config of wasmKernels) expect(unsplitKernelFunc(config.kernelName)).toBe(config.kernelFunc);
  });

  // the filter gradient has two forms (one convolution per channel group, or chunked matrix products over an
  // im2col copy) chosen by layer shape: every case runs through each of them
  const methods = ['conv', 'matmul'] as const;
  test.each(methods.flatMap((m) => cases.map((c) => [m, JSON.stringify(c), c] as const)))(
    'match cpu (%s): %s',
    async (method, _, c) => {
      Object.assign(filterGradTuning, { method, maxReduction: 64 }); // a tiny reduction chunk: several chunks per case
      const [dxW, dWW] = await onBackend('wasm', () => gradsOf(c)).finally(() =>
        Object.assign(filterGradTuning, { method: 'auto', maxReduction: 16384 }),
      );
      const [dxC, dWC] = await onBackend('cpu', () => gradsOf(c));
      expect(relativeError(dxW!, dxC!)).toBeLessThan(1e-4);
      expect(relativeError(dWW!, dWC!)).toBeLessThan(1e-4);
    },
  );

  test('match a naive loop (stride 2, asymmetric padding)', async () => {
    const [n, h, w, cin, kh, kw, cout, s, pt, pl] = [2, 7, 6, 2, 3, 3, 3, 2, 1, 0];
    const pad: Pad = [
      [0, 0],
      [pt, 0],
      [pl, 1],
      [0, 0],
    ];
    const oh = Math.floor((h + pt - kh) / s) + 1,
      ow = Math.floor((w + pl + 1 - kw) / s) + 1;
    const xv = lcg(n * h * w * cin, 4),
      wv = lcg(kh * kw * cin * cout, 5),
      rv = lcg(n * oh * ow * cout, 6);
    const dx = new Float64Array(xv.length),
      dW = new Float64Array(wv.length);
    for (let b = 0; b < n; b++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++)
          for (let o = 0; o < cout; o++) {
            const g = rv[((b * oh + i) * ow + j) * cout + o]!;
            for (let u = 0; u < kh; u++)
              for (let v = 0; v < kw; v++) {
                const y = i * s + u - pt,
                  z = j * s + v - pl;
                if (y < 0 || y >= h || z < 0 || z >= w) continue;
                for (let c = 0; c < cin; c++) {
                  const xi = ((b * h + y) * w + z) * cin + c,
                    wi = ((u * kw + v) * cin + c) * cout + o;
                  dx[xi]! += g * wv[wi]!;
                  dW[wi]! += g * xv[xi]!;
                }
              }
          }
    const [dxW, dWW] = await onBackend('wasm', () => {
      const x = tf.tensor4d(xv, [n, h, w, cin]),
        f = tf.tensor4d(wv, [kh, kw, cin, cout]),
        r = tf.tensor4d(rv, [n, oh, ow, cout]);
      return tf.grads((...[a, b]: tf.Tensor[]) =>
        tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad), r)),
      )([x, f]);
    });
    expect(relativeError(dxW!, dx)).toBeLessThan(1e-5);
    expect(relativeError(dWW!, dW)).toBeLessThan(1e-5);
  });

  test('conv2dTranspose (same kernel) matches cpu', async () => {
    const run = () => [
      tf.conv2dTranspose(
        tf.tensor4d(lcg(2 * 5 * 5 * 4, 7), [2, 5, 5, 4]),
        tf.tensor4d(lcg(3 * 3 * 3 * 4, 8), [3, 3, 3, 4]),
        [2, 10, 10, 3],
        2,
        'same',
      ),
    ];
    const [w] = await onBackend('wasm', run);
    const [c] = await onBackend('cpu', run);
    expect(relativeError(w!, c!)).toBeLessThan(1e-4);
  });

  test('leave no tensors behind', async () => {
    await initBackend({ name: 'wasm', quiet: true });
    const before = tf.memory().numTensors;
    const dataBefore = tf.engine().backend.numDataIds();
    tf.dispose(tf.tidy(() => gradsOf(cases[cases.length - 3]!)));
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.engine().backend.numDataIds()).toBe(dataBefore);
  });
});
