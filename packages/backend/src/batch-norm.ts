// Batch normalisation with its own (fused) gradient.
//
// tfjs-core composes batch-norm training from moments + batchNorm, and its batchNorm gradient tiles
// rsqrt(variance) to the full activation shape; on wasm that made batch-norm about a quarter of a ResNet
// training step. Here the gradient is the closed form (per channel, M = values per channel):
//   dbeta = sum(dy), dgamma = sum(dy * xhat), dx = gamma * invStd * (dy - dbeta / M - xhat * dgamma / M)
// which already contains the dependence of the batch statistics on x, so no gradient flows through the
// returned mean/variance (they are for running-average updates only).
//
// On wasm the passes run as plain loops over the wasm heap (3 passes forward, 2 backward, float64 channel
// sums): wasm's broadcasting binary ops and its reductions over leading axes are several times slower than that.
// Every other backend uses the same formulas as tf ops.
import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';

export interface BatchNormTrainResult<T extends tf.Tensor> {
  /** normalised, scaled and shifted activations, same shape as x */
  y: T;
  /** per-channel batch mean [C] */
  mean: tf.Tensor1D;
  /** per-channel biased batch variance [C] (PyTorch's running_var uses the unbiased one: * M / (M - 1)) */
  variance: tf.Tensor1D;
}

/** The parts of tfjs-backend-wasm's BackendWasm used for the heap loops. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  dataIdMap: { has(dataId: object): boolean };
}

/** The wasm backend, if it is the active one and already holds all these tensors' data. */
function wasmHolding(...ts: tf.Tensor[]): WasmHeapBackend | null {
  if (tf.getBackend() !== 'wasm') return null;
  const b = tf.backend() as unknown as WasmHeapBackend;
  return ts.every((t) => t.dtype === 'float32' && b.dataIdMap.has(t.dataId)) ? b : null;
}

function outputs(b: WasmHeapBackend, shapes: number[][]): { tensors: tf.Tensor[]; data: Float32Array[] } {
  const infos = shapes.map((s) => b.makeOutput(s, 'float32'));
  const tensors = infos.map((info) => tf.engine().makeTensorFromTensorInfo(info));
  return { tensors, data: infos.map((info) => b.typedArrayFromHeap(info)) };
}

interface ForwardResult { y: tf.Tensor; xhat: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor; invStd: tf.Tensor }

function forwardWasm(b: WasmHeapBackend, x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number, count: number, channels: number): ForwardResult {
  const { tensors, data } = outputs(b, [x.shape, x.shape, [channels], [channels], [channels]]);
  const [y, xhat, mean, variance, invStd] = data as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
  // views only after all allocations: a heap growth detaches earlier ones
  const xv = b.typedArrayFromHeap(x), g = b.typedArrayFromHeap(gamma), bt = b.typedArrayFromHeap(beta);
  const sum = new Float64Array(channels);
  for (let m = 0, i = 0; m < count; m++) for (let c = 0; c < channels; c++, i++) sum[c]! += xv[i]!;
  const mu = sum.map((s) => s / count);
  const sq = new Float64Array(channels);
  for (let m = 0, i = 0; m < count; m++) {
    for (let c = 0; c < channels; c++, i++) {
      const d = xv[i]! - mu[c]!;
      sq[c]! += d * d;
    }
  }
  const inv = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    mean[c] = mu[c]!;
    variance[c] = sq[c]! / count;
    inv[c] = 1 / Math.sqrt(sq[c]! / count + epsilon);
    invStd[c] = inv[c]!;
  }
  for (let m = 0, i = 0; m < count; m++) {
    for (let c = 0; c < channels; c++, i++) {
      const h = (xv[i]! - mu[c]!) * inv[c]!;
      xhat[i] = h;
      y[i] = h * g[c]! + bt[c]!;
    }
  }
  const [yt, xhatT, meanT, varianceT, invStdT] = tensors as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
  return { y: yt, xhat: xhatT, mean: meanT, variance: varianceT, invStd: invStdT };
}

function forwardOps(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number, channels: number): ForwardResult {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  const invStd = tf.rsqrt(tf.add(variance, epsilon));
  const xhat = tf.mul(tf.sub(x, mean), invStd);
  const y = tf.add(tf.mul(xhat, gamma), beta);
  return { y, xhat, mean: tf.reshape(mean, [channels]), variance: tf.reshape(variance, [channels]), invStd };
}

/** [dx, dgamma, dbeta] from the closed form in the header comment. */
function backwardWasm(b: WasmHeapBackend, dy: tf.Tensor, xhat: tf.Tensor, gamma: tf.Tensor, invStd: tf.Tensor, count: number, channels: number): tf.Tensor[] {
  const { tensors, data } = outputs(b, [dy.shape, [channels], [channels]]);
  const [dx, dGamma, dBeta] = data as [Float32Array, Float32Array, Float32Array];
  const dyv = b.typedArrayFromHeap(dy), xh = b.typedArrayFromHeap(xhat), g = b.typedArrayFromHeap(gamma), inv = b.typedArrayFromHeap(invStd);
  const sdy = new Float64Array(channels), sdyx = new Float64Array(channels);
  for (let m = 0, i = 0; m < count; m++) {
    for (let c = 0; c < channels; c++, i++) {
      sdy[c]! += dyv[i]!;
      sdyx[c]! += dyv[i]! * xh[i]!;
    }
  }
  const k = new Float64Array(channels), shift = new Float64Array(channels), slope = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    k[c] = g[c]! * inv[c]!;
    shift[c] = sdy[c]! / count;
    slope[c] = sdyx[c]! / count;
    dGamma[c] = sdyx[c]!;
    dBeta[c] = sdy[c]!;
  }
  for (let m = 0, i = 0; m < count; m++) {
    for (let c = 0; c < channels; c++, i++) dx[i] = k[c]! * (dyv[i]! - shift[c]! - xh[i]! * slope[c]!);
  }
  return tensors;
}

function backwardOps(dy: tf.Tensor, xhat: tf.Tensor, gamma: tf.Tensor, invStd: tf.Tensor, count: number, channels: number): tf.Tensor[] {
  const axes = dy.shape.slice(0, -1).map((_, i) => i);
  const dBeta = tf.sum(dy, axes);
  const dGamma = tf.sum(tf.mul(dy, xhat), axes);
  const k = tf.mul(gamma, invStd);
  const dx = tf.mul(tf.sub(tf.sub(dy, tf.div(dBeta, count)), tf.mul(xhat, tf.div(dGamma, count))), k);
  return [dx, tf.reshape(dGamma, [channels]), tf.reshape(dBeta, [channels])];
}

type TernaryGradFunc = (x: tf.Tensor, a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];
};

/** tf.customGrad for a function of three tensors (tf's typing only knows variadic Tensor | GradSaveFunc). */
function customGrad3(f: TernaryGradFunc): (x: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) =>
    f(args[0] as tf.Tensor, args[1] as tf.Tensor, args[2] as tf.Tensor, args[3] as tf.GradSaveFunc));
  return (x, a, b) => op(x, a, b);
}

function checkChannels(fn: string, x: tf.Tensor, named: [string, tf.Tensor][]): number {
  if (x.rank < 2) throw new Error(`${fn}: x must have rank >= 2 (channels last), got shape [${x.shape}]`);
  const channels = x.shape[x.rank - 1]!;
  for (const [name, t] of named) {
    if (t.size !== channels) throw new Error(`${fn}: ${name} [${t.shape}] must have ${channels} elements (x shape [${x.shape}])`);
  }
  return channels;
}

/**
 * Batch normalisation in training mode over all axes but the last (channels-last: NHWC or [N, C]), with
 * batch statistics, like PyTorch's BatchNorm in train(). Gradients flow to x, gamma and beta.
 * @param x activations, rank >= 2, channels last
 * @param gamma scale [C]; @param beta shift [C]; @param epsilon added to the variance (PyTorch: 1e-5)
 */
export function batchNormTrain<T extends tf.Tensor>(x: T, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon = 1e-5): BatchNormTrainResult<T> {
  const channels = checkChannels('batchNormTrain', x, [['gamma', gamma], ['beta', beta]]);
  const count = x.size / channels;
  if (count < 2) throw new Error(`batchNormTrain: need more than 1 value per channel, got x shape [${x.shape}]`);

  let stats: { mean: tf.Tensor; variance: tf.Tensor } | undefined;
  const forward = customGrad3((xIn, g, b, save) => {
    const wasm = wasmHolding(xIn, g, b);
    const r = wasm ? forwardWasm(wasm, xIn, g, b, epsilon, count, channels) : forwardOps(xIn, g, b, epsilon, channels);
    save([r.xhat, r.invStd, g]);
    // customGrad's forward runs in its own tidy scope: keep the statistics past it (re-owned just below).
    stats = { mean: tf.keep(r.mean), variance: tf.keep(r.variance) };
    return {
      value: r.y,
      gradFunc: (dy, saved) => {
        const [xhat, invStd, gSaved] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const w = wasmHolding(dy, xhat, invStd, gSaved);
        return w ? backwardWasm(w, dy, xhat, gSaved, invStd, count, channels) : backwardOps(dy, xhat, gSaved, invStd, count, channels);
      },
    };
  });
  const y = forward(x, gamma, beta) as T;
  // Re-own the kept statistics in the caller's scope: a clone shares the data, and disposing the kept handle
  // leaves the clone as the only owner, so tf.tidy around the caller cleans them up as usual.
  const kept = stats!;
  const mean = tf.clone(kept.mean) as tf.Tensor1D;
  const variance = tf.clone(kept.variance) as tf.Tensor1D;
  kept.mean.dispose();
  kept.variance.dispose();
  return { y, mean, variance };
}

/**
 * Batch normalisation with fixed statistics (eval mode, or a frozen backbone's running averages) whose
 * gradient broadcasts per-channel factors instead of tiling them. Gradients flow to x, gamma and beta;
 * mean and variance are treated as constants (they are running averages, not parameters).
 */
export function batchNormInfer<T extends tf.Tensor>(
  x: T, mean: tf.Tensor1D, variance: tf.Tensor1D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon = 1e-5,
): T {
  checkChannels('batchNormInfer', x, [['mean', mean], ['variance', variance], ['gamma', gamma], ['beta', beta]]);
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const forward = customGrad3((xIn, g, b, save) => {
    const invStd = tf.rsqrt(tf.add(variance, epsilon));
    const scale = tf.mul(g, invStd);
    save([xIn, scale, invStd]);
    return {
      value: tf.add(tf.mul(xIn, scale), tf.sub(b, tf.mul(mean, scale))),
      gradFunc: (dy, saved) => {
        const [sX, sScale, sInvStd] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const xhat = tf.mul(tf.sub(sX, mean), sInvStd);
        return [tf.mul(dy, sScale), tf.sum(tf.mul(dy, xhat), axes), tf.sum(dy, axes)];
      },
    };
  });
  return forward(x, gamma, beta) as T;
}
