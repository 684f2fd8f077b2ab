// Batch normalisation with its own (fused) gradient.
//
// tfjs-core composes batch-norm training from moments + batchNorm, and its batchNorm gradient tiles
// rsqrt(variance) to the full activation shape; on wasm that made batch-norm about a quarter of a ResNet
// training step. Here the gradient is the closed form (per channel, M = values per channel):
//   dbeta = sum(dy), dgamma = sum(dy * xhat), dx = gamma * invStd * (dy - dbeta / M - xhat * dgamma / M)
// which already contains the dependence of the batch statistics on x, so no gradient flows through the
// returned mean/variance (they are for running-average updates only).
//
// On wasm the passes run as plain loops over the wasm heap (2 passes forward, 2 backward, float64 channel
// sums; x is kept for the gradient rather than a normalised copy): wasm's broadcasting binary ops and its reductions over leading axes are several times slower than that.
// On tfjs-node ('tensorflow') TensorFlow's own FusedBatchNormV3 / FusedBatchNormGradV3 ops run (training mode;
// the same closed form). Every other backend uses the same formulas as tf ops.
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

/** The parts of tfjs-node's NodeJSKernelBackend used to run TensorFlow's fused batch-norm ops. */
interface NativeBackend {
  binding: {
    TF_ATTR_TYPE: number;
    TF_ATTR_FLOAT: number;
    TF_ATTR_STRING: number;
    TF_ATTR_BOOL: number;
    TF_FLOAT: number;
  };
  executeMultipleOutputs(
    name: string,
    attrs: { name: string; type: number; value: unknown }[],
    inputs: tf.Tensor[],
    numOutputs: number,
  ): tf.Tensor[];
}

/** tfjs-node's backend, if it is the active one. */
function nativeTensorflow(): NativeBackend | null {
  if (tf.getBackend() !== 'tensorflow') return null;
  const b = tf.backend() as unknown as Partial<NativeBackend>;
  return typeof b.executeMultipleOutputs === 'function' && b.binding ? (b as NativeBackend) : null;
}

function fusedAttrs(b: NativeBackend, epsilon: number) {
  const { TF_ATTR_TYPE, TF_ATTR_FLOAT, TF_ATTR_STRING, TF_ATTR_BOOL, TF_FLOAT } = b.binding;
  return [
    { name: 'T', type: TF_ATTR_TYPE, value: TF_FLOAT },
    { name: 'U', type: TF_ATTR_TYPE, value: TF_FLOAT },
    { name: 'epsilon', type: TF_ATTR_FLOAT, value: epsilon },
    { name: 'data_format', type: TF_ATTR_STRING, value: 'NHWC' },
    { name: 'is_training', type: TF_ATTR_BOOL, value: true },
  ];
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

/** xhat is the normalised input where it was materialised (tf-op path); the heap path recomputes it from x. */
interface ForwardResult {
  y: tf.Tensor;
  xhat: tf.Tensor | null;
  mean: tf.Tensor;
  variance: tf.Tensor;
  invStd: tf.Tensor;
}

function forwardWasm(
  b: WasmHeapBackend,
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon: number,
  count: number,
  channels: number,
): ForwardResult {
  const { tensors, data } = outputs(b, [x.shape, [channels], [channels], [channels]]);
  const [y, mean, variance, invStd] = data as [Float32Array, Float32Array, Float32Array, Float32Array];
  // views only after all allocations: a heap growth detaches earlier ones
  const xv = b.typedArrayFromHeap(x),
    g = b.typedArrayFromHeap(gamma),
    bt = b.typedArrayFromHeap(beta);
  // one pass for both moments, in float64: E[x^2] - E[x]^2 loses nothing that matters at float32 precision
  // unless |mean| / std exceeds ~1e4, far beyond what a network's activations reach
  const sum = new Float64Array(channels),
    sumSq = new Float64Array(channels);
  for (let m = 0, i = 0; m < count; m++) {
    for (let c = 0; c < channels; c++, i++) {
      const v = xv[i]!;
      sum[c]! += v;
      sumSq[c]! += v * v;
    }
  }
  const scale = new Float64Array(channels),
    shift = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    const mu = sum[c]! / count;
    const v = Math.max(0, sumSq[c]! / count - mu * mu);
    const inv = 1 / Math.sqrt(v + epsilon);
    mean[c] = mu;
    variance[c] = v;
    invStd[c] = inv;
    scale[c] = g[c]! * inv; // y = gamma * (x - mu) * inv + beta = x * scale + shift
    shift[c] = bt[c]! - mu * scale[c]!;
  }
  for (let m = 0, i = 0; m < count; m++) {
    for (let c = 0; c < channels; c++, i++) y[i] = xv[i]! * scale[c]! + shift[c]!;
  }
  const [yt, meanT, varianceT, invStdT] = tensors as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
  return { y: yt, xhat: null, mean: meanT, variance: varianceT, invStd: invStdT };
}

function forwardOps(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number, channels: number): ForwardResult {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  const invStd = tf.rsqrt(tf.add(variance, epsilon));
  const xhat = tf.mul(tf.sub(x, mean), invStd);
  const y = tf.add(tf.mul(xhat, gamma), beta);
  return { y, xhat, mean: tf.reshape(mean, [channels]), variance: tf.reshape(variance, [channels]), invStd };
}

/**
 * [dx, dgamma, dbeta] from the closed form in the header comment, with xhat = (x - mean) * invStd expanded so
 * that two passes over dy and x suffice: sum(dy * xhat) = invStd * (sum(dy * x) - mean * sum(dy)), and dx is a
 * per-channel combination A * dy + B * x + C (float64 sums and coefficients).
 */
function backwardWasm(
  b: WasmHeapBackend,
  dy: tf.Tensor,
  x: tf.Tensor,
  mean: tf.Tensor,
  gamma: tf.Tensor,
  invStd: tf.Tensor,
  count: number,
  channels: number,
): tf.Tensor[] {
  const { tensors, data } = outputs(b, [dy.shape, [channels], [channels]]);
  const [dx, dGamma, dBeta] = data as [Float32Array, Float32Array, Float32Array];
  const dyv = b.typedArrayFromHeap(dy),
    xv = b.typedArrayFromHeap(x),
    mu = b.typedArrayFromHeap(mean);
  const g = b.typedArrayFromHeap(gamma),
    inv = b.typedArrayFromHeap(invStd);
  const sdy = new Float64Array(channels),
    sdyx = new Float64Array(channels);
  for (let m = 0, i = 0; m < count; m++) {
    for (let c = 0; c < channels; c++, i++) {
      const d = dyv[i]!;
      sdy[c]! += d;
      sdyx[c]! += d * xv[i]!;
    }
  }
  const A = new Float64Array(channels),
    B = new Float64Array(channels),
    C = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    const iv = inv[c]!,
      k = g[c]! * iv;
    const dG = iv * (sdyx[c]! - mu[c]! * sdy[c]!); // sum(dy * xhat)
    dGamma[c] = dG;
    dBeta[c] = sdy[c]!;
    // dx = k * (dy - sdy/M - xhat * dG/M), xhat = (x - mu) * iv
    A[c] = k;
    B[c] = (-k * iv * dG) / count;
    C[c] = (-k * sdy[c]!) / count + (k * iv * mu[c]! * dG) / count;
  }
  for (let m = 0, i = 0; m < count; m++) {
    for (let c = 0; c < channels; c++, i++) dx[i] = A[c]! * dyv[i]! + B[c]! * xv[i]! + C[c]!;
  }
  return tensors;
}

function backwardOps(
  dy: tf.Tensor,
  xhat: tf.Tensor,
  gamma: tf.Tensor,
  invStd: tf.Tensor,
  count: number,
  channels: number,
): tf.Tensor[] {
  const axes = dy.shape.slice(0, -1).map((_, i) => i);
  const dBeta = tf.sum(dy, axes);
  const dGamma = tf.sum(tf.mul(dy, xhat), axes);
  const k = tf.mul(gamma, invStd);
  const dx = tf.mul(tf.sub(tf.sub(dy, tf.div(dBeta, count)), tf.mul(xhat, tf.div(dGamma, count))), k);
  return [dx, tf.reshape(dGamma, [channels]), tf.reshape(dBeta, [channels])];
}

type TernaryGradFunc = (
  x: tf.Tensor,
  a: tf.Tensor,
  b: tf.Tensor,
  save: tf.GradSaveFunc,
) => {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];
};

/** tf.customGrad for a function of three tensors (tf's typing only knows variadic Tensor | GradSaveFunc). */
function customGrad3(f: TernaryGradFunc): (x: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) =>
    f(args[0] as tf.Tensor, args[1] as tf.Tensor, args[2] as tf.Tensor, args[3] as tf.GradSaveFunc),
  );
  return (x, a, b) => op(x, a, b);
}

function checkChannels(fn: string, x: tf.Tensor, named: [string, tf.Tensor][]): number {
  if (x.rank < 2) throw new Error(`${fn}: x must have rank >= 2 (channels last), got shape [${x.shape}]`);
  const channels = x.shape[x.rank - 1]!;
  for (const [name, t] of named) {
    if (t.size !== channels)
      throw new Error(`${fn}: ${name} [${t.shape}] must have ${channels} elements (x shape [${x.shape}])`);
  }
  return channels;
}

/**
 * Batch normalisation in training mode over all axes but the last (channels-last: NHWC or [N, C]), with
 * batch statistics, like PyTorch's BatchNorm in train(). Gradients flow to x, gamma and beta.
 * @param x activations, rank >= 2, channels last
 * @param gamma scale [C]; @param beta shift [C]; @param epsilon added to the variance (PyTorch: 1e-5)
 */
export function batchNormTrain<T extends tf.Tensor>(
  x: T,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon = 1e-5,
): BatchNormTrainResult<T> {
  const channels = checkChannels('batchNormTrain', x, [
    ['gamma', gamma],
    ['beta', beta],
  ]);
  const count = x.size / channels;
  if (count < 2) throw new Error(`batchNormTrain: need more than 1 value per channel, got x shape [${x.shape}]`);

  let stats: { mean: tf.Tensor; variance: tf.Tensor } | undefined;
  const forward = customGrad3((xIn, g, b, save) => {
    const native = nativeTensorflow();
    if (native) {
      // TensorFlow's fused training-mode batch norm and its gradient: two ops instead of ~15 (see header)
      const x4 = tf.reshape(xIn, [count, 1, 1, channels]);
      const [y, mean, unbiasedVariance, r1, r2, r3] = native.executeMultipleOutputs(
        'FusedBatchNormV3',
        fusedAttrs(native, epsilon),
        [x4, g, b, tf.tensor1d([]), tf.tensor1d([])],
        6,
      ) as tf.Tensor[];
      save([x4, g, r1!, r2!, r3!]);
      // TensorFlow returns the Bessel-corrected variance (for its running average); ours is the biased one
      stats = { mean: tf.keep(mean!), variance: tf.keep(tf.mul(unbiasedVariance!, (count - 1) / count)) };
      return {
        value: tf.reshape(y!, xIn.shape),
        gradFunc: (dy, saved) => {
          const [sx, sg, s1, s2, s3] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
          const [dx, dGamma, dBeta] = native.executeMultipleOutputs(
            'FusedBatchNormGradV3',
            fusedAttrs(native, epsilon),
            [tf.reshape(dy, sx.shape), sx, sg, s1, s2, s3],
            5,
          ) as tf.Tensor[];
          return [tf.reshape(dx!, dy.shape), dGamma!, dBeta!];
        },
      };
    }
    const wasm = wasmHolding(xIn, g, b);
    const r = wasm ? forwardWasm(wasm, xIn, g, b, epsilon, count, channels) : forwardOps(xIn, g, b, epsilon, channels);
    // the heap path keeps x (an input, alive anyway) instead of a materialised xhat
    save(r.xhat ? [r.xhat, r.invStd, g] : [xIn, r.invStd, g, r.mean]);
    // customGrad's forward runs in its own tidy scope: keep the statistics past it (re-owned just below).
    stats = { mean: tf.keep(r.mean), variance: tf.keep(r.variance) };
    return {
      value: r.y,
      gradFunc: (dy, saved) => {
        const [xOrXhat, invStd, gSaved, mean] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];
        if (mean) {
          const w = wasmHolding(dy, xOrXhat, invStd, gSaved, mean);
          if (w) return backwardWasm(w, dy, xOrXhat, mean, gSaved, invStd, count, channels);
          // (the gradient runs on another backend than the forward did: rebuild xhat from x)
          return backwardOps(dy, tf.mul(tf.sub(xOrXhat, mean), invStd), gSaved, invStd, count, channels);
        }
        return backwardOps(dy, xOrXhat, gSaved, invStd, count, channels);
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
  x: T,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon = 1e-5,
): T {
  checkChannels('batchNormInfer', x, [
    ['mean', mean],
    ['variance', variance],
    ['gamma', gamma],
    ['beta', beta],
  ]);
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
