// State dicts in PyTorch layout: conv weights OIHW, linear weights [out, in], BN vectors as they are,
// num_batches_tracked as an int64 scalar. Our variables hold TF layouts (HWIO, [in, out]); the rank decides
// the conversion (every rank-4 variable is a conv kernel, every rank-2 one a linear weight).
import * as tf from '@tensorflow/tfjs-core';
import type { NamedArray } from '@scan-repro/core';
import type { NamedModule } from './models';

/** HWIO → OIHW and [in, out] → [out, in]. */
const TO_TORCH: Record<number, number[] | null> = { 4: [3, 2, 0, 1], 2: [1, 0] };

function permuteShape(shape: number[], perm: number[] | null | undefined): number[] {
  return perm ? perm.map((p) => shape[p]) : [...shape];
}

/** The PyTorch-layout shape that a variable of TF-layout shape `shape` has in a state dict. */
export function torchShape(shape: readonly number[]): number[] {
  return permuteShape([...shape], TO_TORCH[shape.length]);
}

/**
 * HWIO ↔ OIHW and [in, out] ↔ [out, in] on typed arrays. Plain loops: tfjs's cpu-backend transpose of a
 * ResNet-18's kernels takes tens of seconds, these take milliseconds.
 */
function hwioToOihw(src: Float32Array, [h, w, i, o]: number[]): Float32Array {
  const dst = new Float32Array(src.length);
  for (let a = 0; a < h; a++)
    for (let b = 0; b < w; b++)
      for (let c = 0; c < i; c++) {
        const base = ((a * w + b) * i + c) * o;
        for (let d = 0; d < o; d++) dst[((d * i + c) * h + a) * w + b] = src[base + d];
      }
  return dst;
}

function oihwToHwio(src: Float32Array, [o, i, h, w]: number[]): Float32Array {
  const dst = new Float32Array(src.length);
  for (let d = 0; d < o; d++)
    for (let c = 0; c < i; c++)
      for (let a = 0; a < h; a++)
        for (let b = 0; b < w; b++) dst[((a * w + b) * i + c) * o + d] = src[((d * i + c) * h + a) * w + b];
  return dst;
}

function transpose2d(src: Float32Array, [rows, cols]: number[]): Float32Array {
  const dst = new Float32Array(src.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
  return dst;
}

/** Our layout (shape `shape`) → PyTorch layout. */
function toTorchLayout(values: Float32Array, shape: number[]): Float32Array {
  if (shape.length === 4) return hwioToOihw(values, shape);
  if (shape.length === 2) return transpose2d(values, shape);
  return Float32Array.from(values);
}

/** PyTorch layout (shape `shape`) → our layout. */
function fromTorchLayout(values: Float32Array, shape: number[]): Float32Array {
  if (shape.length === 4) return oihwToHwio(values, shape);
  if (shape.length === 2) return transpose2d(values, shape);
  return values;
}

function isCounter(name: string): boolean {
  return name.endsWith('num_batches_tracked');
}

/** Parameters then buffers, in PyTorch layout, copied out of the variables. */
export function stateDict(model: NamedModule): Record<string, NamedArray> {
  const out: Record<string, NamedArray> = {};
  const all = [...model.parameters(), ...model.buffers()];
  for (const [name, v] of all) {
    if (isCounter(name)) {
      const count = (v.dataSync() as Int32Array)[0];
      out[name] = { dtype: 'I64', shape: [], data: BigInt64Array.of(BigInt(count)) };
      continue;
    }
    out[name] = {
      dtype: 'F32',
      shape: torchShape(v.shape),
      data: toTorchLayout(v.dataSync() as Float32Array, v.shape),
    };
  }
  return out;
}

export interface LoadStateDictOptions {
  /** true (default): missing or unexpected keys are errors unless allowed below. false: they are reported only. */
  strict?: boolean;
  /** Keys in the file that the model lacks but that may be ignored (e.g. contrastive_head.* when a pretext
   *  checkpoint is loaded into a ClusteringModel, which the official code does non-strictly). */
  allowUnexpected?: (name: string) => boolean;
  /** Model keys the file may lack (they keep their current values), e.g. cluster_head.* for pretext → scan. */
  allowMissing?: (name: string) => boolean;
  /** Where the tensors came from, for error messages. */
  source?: string;
}

export interface LoadStateDictReport {
  loaded: string[];
  missing: string[];
  unexpected: string[];
}

function toFloat32(name: string, a: NamedArray, source: string): Float32Array {
  if (a.dtype === 'F32') return a.data as Float32Array;
  if (a.dtype === 'F64') return Float32Array.from(a.data as Float64Array);
  throw new Error(`${source}: '${name}' has dtype ${a.dtype}, expected F32 (or F64)`);
}

function toCount(name: string, a: NamedArray, source: string): number {
  if (a.data.length !== 1)
    throw new Error(`${source}: '${name}' should be a scalar counter, got shape [${a.shape.join(', ')}]`);
  if (a.dtype === 'I64') return Number((a.data as BigInt64Array)[0]);
  if (a.dtype === 'I32' || a.dtype === 'F32' || a.dtype === 'F64') return Number(a.data[0]);
  throw new Error(`${source}: '${name}' has dtype ${a.dtype}, expected I64 or I32`);
}

/**
 * Copies PyTorch-layout tensors into the model's variables. Everything is checked before anything is
 * assigned, so a failed load leaves the model unchanged.
 */
export function loadStateDict(
  model: NamedModule,
  tensors: Record<string, NamedArray>,
  opts: LoadStateDictOptions = {},
): LoadStateDictReport {
  const strict = opts.strict ?? true;
  const source = opts.source ?? 'state dict';
  const vars = new Map([...model.parameters(), ...model.buffers()]);
  const missing = [...vars.keys()].filter((k) => !(k in tensors));
  const unexpected = Object.keys(tensors).filter((k) => !vars.has(k));

  if (strict) {
    const badMissing = missing.filter((k) => !opts.allowMissing?.(k));
    const badUnexpected = unexpected.filter((k) => !opts.allowUnexpected?.(k));
    if (badMissing.length || badUnexpected.length) {
      const parts: string[] = [];
      if (badMissing.length) parts.push(`missing keys (in the model, not in the file): ${badMissing.join(', ')}`);
      if (badUnexpected.length)
        parts.push(`unexpected keys (in the file, not in the model): ${badUnexpected.join(', ')}`);
      throw new Error(`${source}: state dict does not match the model; ${parts.join('; ')}`);
    }
  }

  const mismatches: string[] = [];
  for (const [name, v] of vars) {
    const a = tensors[name];
    if (!a) continue;
    const expected = torchShape(v.shape);
    if (a.shape.length !== expected.length || a.shape.some((d: number, i: number) => d !== expected[i])) {
      mismatches.push(`'${name}': file has [${a.shape.join(', ')}], model expects [${expected.join(', ')}]`);
    }
  }
  if (mismatches.length) throw new Error(`${source}: shape mismatch (PyTorch layout) for ${mismatches.join('; ')}`);

  // Convert everything first (dtype errors throw here), then assign.
  const converted: [tf.Variable, tf.Tensor][] = [];
  try {
    for (const [name, v] of vars) {
      const a = tensors[name];
      if (!a) continue;
      if (isCounter(name)) {
        converted.push([v, tf.scalar(toCount(name, a, source), 'int32')]);
        continue;
      }
      const values = fromTorchLayout(toFloat32(name, a, source), a.shape);
      converted.push([v, tf.tensor(values, v.shape, 'float32')]);
    }
  } catch (e) {
    for (const [, t] of converted) t.dispose();
    throw e;
  }
  const loaded: string[] = [];
  for (const [v, t] of converted) {
    v.assign(t);
    t.dispose();
  }
  for (const name of vars.keys()) if (name in tensors) loaded.push(name);
  return { loaded, missing, unexpected };
}
