import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/index';
export { lcgFloats as lcg, relativeError } from '@scan-repro/test-utils';

/** Runs f on the named backend and returns its tensors' values as plain arrays (tensors disposed). */
export async function onBackend(name: 'wasm' | 'cpu' | 'tensorflow', f: () => tf.Tensor[]): Promise<Float32Array[]> {
  await initBackend({ name, quiet: true });
  const ts = tf.tidy(f);
  const values = ts.map((t) => t.dataSync() as Float32Array);
  tf.dispose(ts);
  return values;
}

/** Whether @tensorflow/tfjs-node loads here (tools/native/build.sh); tests of the native path skip otherwise. */
export async function nativeTensorflowLoads(): Promise<boolean> {
  return initBackend({ name: 'tensorflow', quiet: true }).then(
    () => true,
    () => false,
  );
}
