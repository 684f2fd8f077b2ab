// The kernel workers under stress: many split kernels over random shapes give the single-threaded results, and a
// worker that throws, exits or hangs fails its step within seconds, with the reason, instead of a silent wait.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { initBackend } from '../src/index';
import { setWasmThreads, wasmThreads, wasmThreadFaults, wasmThreadTuning } from '../src/wasm-threads';
import { lcg, relativeError } from './helpers';

const THREADS = 4; // more threads than this machine's cores: workers get descheduled at every point

/** conv output, dx and dW for a random linear functional of the output, for a random small layer. */
function randomCase(i: number) {
  const v = lcg(8, 1000 + i).map((u) => u + 0.5);
  const n = 2 + Math.floor(v[0]! * 7),
    h = 3 + Math.floor(v[1]! * 10),
    cin = 1 + Math.floor(v[2]! * 8);
  const cout = 1 + Math.floor(v[3]! * 8),
    k = [1, 3, 5][Math.floor(v[4]! * 3)]!,
    stride = 1 + Math.floor(v[5]! * 2);
  return () => {
    const x = tf.tensor4d(lcg(n * h * h * cin, 2 * i + 1), [n, h, h, cin]);
    const filter = tf.tensor4d(lcg(k * k * cin * cout, 2 * i + 2), [k, k, cin, cout]);
    const y = tf.conv2d(x, filter, stride, 'same');
    const r = tf.tensor(lcg(y.size, 3), y.shape);
    const [dx, dW] = tf.grads((...[a, b]: tf.Tensor[]) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, 'same'), r)),
    )([x, filter]);
    return [y, dx!, dW!];
  };
}

function values(f: () => tf.Tensor[]): Float32Array[] {
  const ts = tf.tidy(f);
  const out = ts.map((t) => t.dataSync() as Float32Array);
  tf.dispose(ts);
  return out;
}

/** Runs one split conv step expecting it to fail; returns the message and how long the failure took. */
function failingStep(): { message: string; ms: number } {
  const started = Date.now();
  try {
    values(randomCase(0));
  } catch (err) {
    return { message: (err as Error).message, ms: Date.now() - started };
  }
  throw new Error('the step did not fail');
}

describe('wasm kernel workers under stress and faults', () => {
  beforeAll(async () => {
    await initBackend({ name: 'wasm', quiet: true });
    wasmThreadTuning.minSplitMacs = 0; // split every kernel call, however small
    wasmThreadTuning.hangFloorMs = 2000;
  });
  afterAll(async () => {
    Object.assign(wasmThreadTuning, { minSplitMacs: 2e7, hangFloorMs: 20_000 });
    wasmThreadFaults.next = null;
    await setWasmThreads(1);
  });

  test('hundreds of split steps over random shapes match one thread', async () => {
    const count = 400;
    await setWasmThreads(1);
    const expected = Array.from({ length: count }, (_, i) => values(randomCase(i)));
    await setWasmThreads(THREADS);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < count; i++) {
        const got = values(randomCase(i));
        got.forEach((v, j) => expect(relativeError(v, expected[i]![j]!), `case ${i} output ${j}`).toBeLessThan(1e-5));
      }
    }
    expect(wasmThreads()).toBe(THREADS);
  }, 600_000);

  test('a notify that lands after the worker has already taken its job and waits again loses nothing', async () => {
    await setWasmThreads(THREADS);
    const expected = values(randomCase(2));
    wasmThreadFaults.lateNotifyMs = 3; // the worker finishes a small job before it is told about it
    try {
      for (let i = 0; i < 30; i++)
        values(randomCase(2)).forEach((v, j) => expect(relativeError(v, expected[j]!)).toBeLessThan(1e-5));
    } finally {
      wasmThreadFaults.lateNotifyMs = 0;
    }
    expect(wasmThreads()).toBe(THREADS);
  }, 120_000);

  test.each([
    ['throw', /worker \d+ died during Conv2D: Error: injected fault: uncaught exception in the worker loop/],
    ['exit', /worker \d+ died during Conv2D: the worker exited \(code 7\)/],
    ['hang', /worker \d+ stopped answering: Conv2D not done after \d+\.\d s/],
  ] as const)(
    'a worker that faults (%s) fails the step promptly, with the reason; the others carry on',
    async (fault, reason) => {
      await setWasmThreads(THREADS);
      const reference = values(randomCase(1));
      wasmThreadFaults.next = { worker: 1, fault };
      const failure = failingStep();
      expect(failure.message).toMatch(reason);
      expect(failure.message).toMatch(`(the worker is stopped; ${THREADS - 1} threads remain)`);
      expect(failure.ms).toBeLessThan(fault === 'hang' ? 10_000 : 3000);
      expect(wasmThreads()).toBe(THREADS - 1);
      // the next steps run on the remaining workers, with the right numbers
      for (let i = 0; i < 20; i++) values(randomCase(i));
      values(randomCase(1)).forEach((v, j) => expect(relativeError(v, reference[j]!)).toBeLessThan(1e-5));
    },
    120_000,
  );
});
