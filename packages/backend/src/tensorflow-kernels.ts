// Kernels we wrap on tfjs-node's 'tensorflow' backend: explicit (PyTorch-style) padding for the conv2d gradients
// and for max-pooling, and a cheaper Step (below).
//
// tfjs-node's forward Conv2D accepts explicit padding, but its Conv2DBackpropInput/Filter kernels throw
// "TF Backend supports only 'valid' and 'same' padding", and our models pad explicitly (stride-2 3x3 convs pad
// 1/1 like PyTorch, which 'same' does not). A convolution with explicit padding is a 'valid' convolution of
// the zero-padded input, so: filter gradient = original kernel on pad(x) with 'valid'; input gradient =
// original kernel for the padded shape with 'valid', cropped.
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

const BACKEND = 'tensorflow';
type Args = { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap };
type Backend = { disposeData(dataId: object): void };

/** [[top, bottom], [left, right]] when the padding is explicit, else null ('same' / 'valid'; tfjs-node's forward
 * Conv2D rejects numeric padding anyway). */
function explicitPads(pad: unknown, op: string): [[number, number], [number, number]] | null {
  if (Array.isArray(pad)) {
    const p = pad as number[][];
    if (p[0]![0] || p[0]![1] || p[3]![0] || p[3]![1])
      throw new Error(`${op}: explicit padding of batch/channel dims is not supported, got ${JSON.stringify(pad)}`);
    return [
      [p[1]![0]!, p[1]![1]!],
      [p[2]![0]!, p[2]![1]!],
    ];
  }
  return null;
}

function kernel(name: string): KernelFunc {
  const config = getKernel(name, BACKEND);
  if (!config) throw new Error(`tfjs-node kernel '${name}' is not registered`);
  return config.kernelFunc;
}

/**
 * Whether explicit pads are what TensorFlow's 'same' gives: stride and dilation 1, odd kernels, (k-1)/2 on both
 * sides of each spatial dim. These are the 3x3 convolutions that make up most of a ResNet; they then skip the
 * pad/crop copies.
 */
function isSamePadding(pads: [[number, number], [number, number]], args: Args): boolean {
  const ones = (v: unknown) => v == null || v === 1 || (Array.isArray(v) && v.every((d) => d === 1));
  if (!ones(args.attrs?.strides) || !ones(args.attrs?.dilations)) return false;
  const [kh, kw] = (args.attrs?.filterShape ?? args.inputs.filter?.shape) as number[];
  const centred = (k: number, [before, after]: [number, number]) =>
    k % 2 === 1 && before === (k - 1) / 2 && after === before;
  return centred(kh!, pads[0]) && centred(kw!, pads[1]);
}

function wrap(name: 'Conv2DBackpropFilter' | 'Conv2DBackpropInput', original: KernelFunc): KernelConfig {
  const kernelFunc = (args: Args): TensorInfo => {
    const pads = explicitPads(args.attrs?.pad, 'conv2d gradient');
    if (!pads) return original(args as Parameters<KernelFunc>[0]) as TensorInfo;
    if (isSamePadding(pads, args))
      return original({ ...args, attrs: { ...args.attrs, pad: 'same' } } as Parameters<KernelFunc>[0]) as TensorInfo;
    const b = args.backend as Backend;
    const attrs = { ...args.attrs, pad: 'valid' };
    const [[t, bo], [l, r]] = pads;
    if (name === 'Conv2DBackpropFilter') {
      const x = args.inputs.x!;
      const xp = kernel('PadV2')({
        inputs: { x },
        backend: b,
        attrs: {
          paddings: [
            [0, 0],
            [t, bo],
            [l, r],
            [0, 0],
          ],
          constantValue: 0,
        },
      }) as TensorInfo;
      const out = original({ inputs: { x: xp, dy: args.inputs.dy! }, backend: b, attrs }) as TensorInfo;
      b.disposeData(xp.dataId);
      return out;
    }
    const [n, h, w, c] = args.attrs!.inputShape as number[];
    const padded = original({
      inputs: args.inputs,
      backend: b,
      attrs: { ...attrs, inputShape: [n!, h! + t + bo, w! + l + r, c!] },
    }) as TensorInfo;
    const out = kernel('Slice')({
      inputs: { x: padded },
      backend: b,
      attrs: { begin: [0, t, l, 0], size: [n!, h!, w!, c!] },
    }) as TensorInfo;
    b.disposeData(padded.dataId);
    return out;
  };
  return { kernelName: name, backendName: BACKEND, kernelFunc: kernelFunc as KernelFunc };
}

/** x padded by pads on the spatial dims with `value` (a new tensor: the caller disposes it). */
function padSpatial(x: TensorInfo, pads: [[number, number], [number, number]], value: number, b: Backend): TensorInfo {
  return kernel('PadV2')({
    inputs: { x },
    backend: b,
    attrs: { paddings: [[0, 0], pads[0], pads[1], [0, 0]], constantValue: value },
  }) as TensorInfo;
}

/**
 * Max-pooling with explicit pads (nn.MaxPool2d(k, s, p): the STL-10 ResNet's and ResNet-50's stems), which
 * tfjs-node's MaxPool and MaxPoolGrad reject like the conv2d gradients. PyTorch pads with -inf, so padded cells
 * never win: forward = the 'valid' pool of the -inf-padded input; gradient = the 'valid' gradient for that padded
 * input (its output is the same), cropped back to the input's shape.
 */
function wrapMaxPool(name: 'MaxPool' | 'MaxPoolGrad', original: KernelFunc): KernelConfig {
  const kernelFunc = (args: Args): TensorInfo => {
    const pads = explicitPads(args.attrs?.pad, name);
    if (!pads) return original(args as Parameters<KernelFunc>[0]) as TensorInfo;
    const b = args.backend as Backend;
    const attrs = { ...args.attrs, pad: 'valid' };
    if (name === 'MaxPool') {
      const xp = padSpatial(args.inputs.x!, pads, Number.NEGATIVE_INFINITY, b);
      const out = original({ inputs: { x: xp }, backend: b, attrs }) as TensorInfo;
      b.disposeData(xp.dataId);
      return out;
    }
    const input = args.inputs.input!;
    const xp = padSpatial(input, pads, Number.NEGATIVE_INFINITY, b);
    const padded = original({ inputs: { ...args.inputs, input: xp }, backend: b, attrs }) as TensorInfo;
    b.disposeData(xp.dataId);
    const [n, h, w, c] = input.shape;
    const out = kernel('Slice')({
      inputs: { x: padded },
      backend: b,
      attrs: { begin: [0, pads[0][0], pads[1][0], 0], size: [n!, h!, w!, c!] },
    }) as TensorInfo;
    b.disposeData(padded.dataId);
    return out;
  };
  return { kernelName: name, backendName: BACKEND, kernelFunc: kernelFunc as KernelFunc };
}

/** The parts of tfjs-node's NodeJSKernelBackend used to run a TensorFlow op directly. */
interface NativeBackend {
  binding: { TF_ATTR_TYPE: number; TF_FLOAT: number };
  executeSingleOutput(
    name: string,
    attrs: { name: string; type: number; value: unknown }[],
    inputs: TensorInfo[],
  ): TensorInfo & { dispose(): void };
}

/**
 * Step (the ReLU gradient's mask): tfjs-node builds it from six full-size ops (isNaN, greater, ones, fill, where,
 * Select), about a sixth of a ResNet training step; for alpha 0 it is Sign(Relu(x)), NaN kept: four cheaper ops.
 */
function wrapStep(original: KernelFunc): KernelConfig {
  const kernelFunc = (args: Args): TensorInfo => {
    const x = args.inputs.x!;
    if ((args.attrs?.alpha ?? 0) !== 0 || x.dtype !== 'float32')
      return original(args as Parameters<KernelFunc>[0]) as TensorInfo;
    const b = args.backend as NativeBackend;
    const T = [{ name: 'T', type: b.binding.TF_ATTR_TYPE, value: b.binding.TF_FLOAT }];
    const relu = b.executeSingleOutput('Relu', T, [x]);
    const sign = b.executeSingleOutput('Sign', T, [relu]);
    const nan = b.executeSingleOutput('IsNan', T, [x]);
    const out = b.executeSingleOutput('Select', T, [nan, x, sign]);
    for (const t of [relu, sign, nan]) t.dispose();
    return out;
  };
  return { kernelName: 'Step', backendName: BACKEND, kernelFunc: kernelFunc as KernelFunc };
}

const installed = new Map<string, KernelConfig>();

/**
 * Wraps tfjs-node's conv2d gradient, max-pool and Step kernels (call after importing @tensorflow/tfjs-node;
 * idempotent).
 */
export function registerTensorflowKernels(): void {
  for (const name of ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPool', 'MaxPoolGrad', 'Step'] as const) {
    const current = getKernel(name, BACKEND);
    if (!current || current === installed.get(name)) continue;
    const wrapped =
      name === 'Step'
        ? wrapStep(current.kernelFunc)
        : name === 'MaxPool' || name === 'MaxPoolGrad'
          ? wrapMaxPool(name, current.kernelFunc)
          : wrap(name, current.kernelFunc);
    unregisterKernel(name, BACKEND);
    registerKernel(wrapped);
    installed.set(name, wrapped);
  }
}
