// Variables <-> NamedArrays (checkpoint tensors), in the variables' own in-memory layout: checkpoints are only
// read back by this code, so no PyTorch transposition is needed (model files use @scan-repro/models' saveModel).
import * as tf from '@tensorflow/tfjs-core';
import type { NamedArray } from '@scan-repro/core';

/** Copies of the variables' values, keyed `${prefix}${name}`. */
export function snapshotVariables(vars: Map<string, tf.Variable>, prefix = ''): Record<string, NamedArray> {
  const out: Record<string, NamedArray> = {};
  for (const [name, v] of vars) {
    const data = v.dataSync();
    if (v.dtype === 'float32')
      out[prefix + name] = { dtype: 'F32', shape: [...v.shape], data: Float32Array.from(data as Float32Array) };
    else if (v.dtype === 'int32')
      out[prefix + name] = { dtype: 'I32', shape: [...v.shape], data: Int32Array.from(data as Int32Array) };
    else throw new Error(`snapshotVariables: variable '${name}' has dtype ${v.dtype}, expected float32 or int32`);
  }
  return out;
}

/** Assigns `${prefix}${name}` from `tensors` to every variable; all must be present with the same shape. */
export function restoreVariables(
  vars: Map<string, tf.Variable>,
  tensors: Record<string, NamedArray>,
  prefix = '',
  source = 'checkpoint',
): void {
  for (const [name, v] of vars) {
    const arr = tensors[prefix + name];
    if (!arr) throw new Error(`${source}: tensor '${prefix + name}' is missing`);
    if (arr.shape.join(',') !== v.shape.join(',')) {
      throw new Error(`${source}: tensor '${prefix + name}' has shape [${arr.shape}], expected [${v.shape}]`);
    }
    const dtype = v.dtype === 'int32' ? 'I32' : 'F32';
    if (arr.dtype !== dtype)
      throw new Error(`${source}: tensor '${prefix + name}' has dtype ${arr.dtype}, expected ${dtype}`);
    tf.tidy(() =>
      v.assign(tf.tensor(arr.data as Float32Array | Int32Array, arr.shape, v.dtype as 'float32' | 'int32')),
    );
  }
}

/** Every variable of a module, parameters and buffers (BN running statistics): what a checkpoint must hold. */
export function allVariables(m: {
  parameters(): Map<string, tf.Variable>;
  buffers(): Map<string, tf.Variable>;
}): Map<string, tf.Variable> {
  return new Map([...m.parameters(), ...m.buffers()]);
}

/** `rec` with every key under `prefix` ('model/', 'optimizer/'): several parts share one checkpoint file. */
export function withPrefix(prefix: string, rec: Record<string, NamedArray>): Record<string, NamedArray> {
  return Object.fromEntries(Object.entries(rec).map(([k, v]) => [prefix + k, v]));
}

/** The entries of `rec` under `prefix`, with the prefix removed: the inverse of withPrefix. */
export function underPrefix(prefix: string, rec: Record<string, NamedArray>): Record<string, NamedArray> {
  return Object.fromEntries(
    Object.entries(rec)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), v]),
  );
}
