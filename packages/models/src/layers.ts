// Building blocks written with tfjs-core ops and tf.Variables, matching PyTorch's nn.Conv2d, nn.BatchNorm2d,
// nn.Linear and nn.MaxPool2d numerically. Internal layouts are TF's (NHWC activations, HWIO conv kernels,
// [in, out] linear weights); state dicts convert to PyTorch's layouts (see stateDict.ts).
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@scan-repro/core';
import { batchNormInfer, batchNormTrain } from '@scan-repro/backend';

export type { Rng };

/** PyTorch BatchNorm2d defaults. */
export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

/**
 * The named variables of one module, in PyTorch state-dict order. Names are relative to the module
 * (`layer1.0.conv1.weight`); wrappers add prefixes (`backbone.`).
 */
export class VariableStore {
  readonly parameters = new Map<string, tf.Variable>();
  readonly buffers = new Map<string, tf.Variable>();

  addParameter(name: string, values: Float32Array, shape: number[]): tf.Variable {
    this.assertNew(name);
    // No tf name: tf.Variable names are global to the engine and two models (MoCo key/query encoders,
    // an EMA copy) would collide. Our names live in the maps.
    const v = tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), true)); // tidy frees the initial value
    this.parameters.set(name, v);
    return v;
  }

  addBuffer(name: string, values: Float32Array | Int32Array, shape: number[], dtype: 'float32' | 'int32'): tf.Variable {
    this.assertNew(name);
    const v = tf.tidy(() => tf.variable(tf.tensor(values, shape, dtype), false));
    this.buffers.set(name, v);
    return v;
  }

  dispose(): void {
    for (const v of this.parameters.values()) v.dispose();
    for (const v of this.buffers.values()) v.dispose();
    this.parameters.clear();
    this.buffers.clear();
  }

  private assertNew(name: string): void {
    if (this.parameters.has(name) || this.buffers.has(name)) throw new Error(`duplicate variable name '${name}'`);
  }
}

/** nn.init.kaiming_normal_(w, mode='fan_out', nonlinearity='relu'): N(0, 2 / fan_out), fan_out = out·kh·kw. */
export function kaimingNormalFanOut(rng: Rng, count: number, fanOut: number): Float32Array {
  const std = Math.sqrt(2 / fanOut);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = rng.normal() * std;
  return out;
}

/**
 * PyTorch's default init for nn.Linear / nn.Conv2d: kaiming_uniform_(a=√5) on the weight, which is
 * U(-1/√fan_in, 1/√fan_in), and the bias U(-1/√fan_in, 1/√fan_in).
 */
export function uniformFanIn(rng: Rng, count: number, fanIn: number): Float32Array {
  const bound = 1 / Math.sqrt(fanIn);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = rng.uniform(-bound, bound);
  return out;
}

export type ConvInit = 'kaiming_normal_fan_out' | 'pytorch_default';

export interface Conv2d {
  readonly weight: tf.Variable; // HWIO
  apply(x: tf.Tensor4D): tf.Tensor4D;
}

type Padding4D = [[number, number], [number, number], [number, number], [number, number]];

/**
 * PyTorch's symmetric `padding` as explicit NHWC pads. Never 'same': for stride 2 TF pads asymmetrically (more at
 * the bottom/right), PyTorch pads both sides.
 */
function torchPadding(padding: number): 'valid' | Padding4D {
  return padding === 0
    ? 'valid'
    : [
        [0, 0],
        [padding, padding],
        [padding, padding],
        [0, 0],
      ];
}

/** nn.Conv2d(inC, outC, k, stride, padding, bias=False). Padding is explicit and symmetric, as in PyTorch. */
export function createConv2d(
  store: VariableStore,
  rng: Rng,
  name: string,
  opts: { inChannels: number; outChannels: number; kernel: number; stride: number; padding: number; init: ConvInit },
): Conv2d {
  const { inChannels, outChannels, kernel, stride, padding } = opts;
  const count = kernel * kernel * inChannels * outChannels;
  const paramRng = rng.fork(`${name}.weight`);
  const values =
    opts.init === 'kaiming_normal_fan_out'
      ? kaimingNormalFanOut(paramRng, count, outChannels * kernel * kernel)
      : uniformFanIn(paramRng, count, inChannels * kernel * kernel);
  const weight = store.addParameter(`${name}.weight`, values, [kernel, kernel, inChannels, outChannels]);
  const pad = torchPadding(padding);
  return {
    weight,
    apply: (x) => tf.conv2d(x, weight as tf.Tensor4D, stride, pad),
  };
}

export interface BatchNorm2d {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  readonly numBatchesTracked: tf.Variable;
  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D;
}

/**
 * nn.BatchNorm2d(C) with PyTorch semantics. Training: normalise with the batch mean and the biased batch
 * variance, and update running_mean / running_var with momentum 0.1 using the UNBIASED variance
 * (n / (n-1) correction), num_batches_tracked += 1. Eval: normalise with the running statistics.
 */
export function createBatchNorm2d(store: VariableStore, name: string, channels: number): BatchNorm2d {
  const weight = store.addParameter(`${name}.weight`, new Float32Array(channels).fill(1), [channels]);
  const bias = store.addParameter(`${name}.bias`, new Float32Array(channels), [channels]);
  const runningMean = store.addBuffer(`${name}.running_mean`, new Float32Array(channels), [channels], 'float32');
  const runningVar = store.addBuffer(`${name}.running_var`, new Float32Array(channels).fill(1), [channels], 'float32');
  const numBatchesTracked = store.addBuffer(`${name}.num_batches_tracked`, new Int32Array(1), [], 'int32');
  return {
    weight,
    bias,
    runningMean,
    runningVar,
    numBatchesTracked,
    apply(x, training) {
      if (!training) {
        // Gradients (if any) flow to x, γ and β; the running statistics are constants.
        return batchNormInfer(
          x,
          runningMean as tf.Tensor1D,
          runningVar as tf.Tensor1D,
          weight as tf.Tensor1D,
          bias as tf.Tensor1D,
          BN_EPS,
        );
      }
      const n = x.size / channels;
      if (n <= 1) {
        throw new Error(
          `${name}: batch-norm in training mode needs more than 1 value per channel, got input shape [${x.shape.join(', ')}]`,
        );
      }
      // The backend's fused-gradient batch-norm: batch mean and biased variance for normalising; its
      // gradient already accounts for the statistics' dependence on x.
      const { y, mean, variance } = batchNormTrain(x, weight as tf.Tensor1D, bias as tf.Tensor1D, BN_EPS);
      // Side effect on the buffers. tidy disposes the intermediates; assign() keeps the new value alive
      // and releases the old one, so the tensor count does not grow from step to step.
      tf.tidy(() => {
        const m = BN_MOMENTUM;
        runningMean.assign(tf.add(tf.mul(runningMean, 1 - m), tf.mul(mean, m)));
        runningVar.assign(tf.add(tf.mul(runningVar, 1 - m), tf.mul(variance, (m * n) / (n - 1))));
        numBatchesTracked.assign(tf.add(numBatchesTracked, tf.scalar(1, 'int32')));
      });
      mean.dispose();
      variance.dispose();
      return y;
    },
  };
}

export interface Linear {
  readonly weight: tf.Variable; // [in, out]
  readonly bias: tf.Variable;
  apply(x: tf.Tensor2D): tf.Tensor2D;
}

/** nn.Linear(inF, outF) with PyTorch's default init. */
export function createLinear(
  store: VariableStore,
  rng: Rng,
  name: string,
  inFeatures: number,
  outFeatures: number,
): Linear {
  const w = uniformFanIn(rng.fork(`${name}.weight`), inFeatures * outFeatures, inFeatures);
  const b = uniformFanIn(rng.fork(`${name}.bias`), outFeatures, inFeatures);
  const weight = store.addParameter(`${name}.weight`, w, [inFeatures, outFeatures]);
  const bias = store.addParameter(`${name}.bias`, b, [outFeatures]);
  return {
    weight,
    bias,
    apply: (x) => tf.add(tf.matMul(x, weight as tf.Tensor2D), bias) as tf.Tensor2D,
  };
}

/** nn.MaxPool2d(k, s, p): padded positions never win (PyTorch pads with -inf), floor rounding. */
export function maxPool2d(x: tf.Tensor4D, kernel: number, stride: number, padding: number): tf.Tensor4D {
  const pad = torchPadding(padding);
  return tf.maxPool(x, kernel, stride, pad);
}

/** F.normalize(x, dim=1): x / max(‖x‖₂, 1e-12). */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const norm = tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12);
    return tf.div(x, norm) as tf.Tensor2D;
  });
}
