import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/index';

/** Deterministic values in [-0.5, 0.5) (LCG), so every backend sees identical inputs. */
export function lcg(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}

/** Runs f on the named backend and returns its tensors' values as plain arrays (tensors disposed). */
export async function onBackend(name: 'wasm' | 'cpu' | 'tensorflow', f: () => tf.Tensor[]): Promise<Float32Array[]> {
  await initBackend({ name, quiet: true });
  const ts = tf.tidy(f);
  const values = ts.map((t) => t.dataSync() as Float32Array);
  tf.dispose(ts);
  return values;
}

/** max |a - b| / max |b|: relative to the scale of the reference. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let diff = 0,
    scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return diff / Math.max(scale, 1e-30);
}

/** Whether @tensorflow/tfjs-node loads here (tools/native/build.sh); tests of the native path skip otherwise. */
export async function nativeTensorflowLoads(): Promise<boolean> {
  return initBackend({ name: 'tensorflow', quiet: true }).then(
    () => true,
    () => false,
  );
}
