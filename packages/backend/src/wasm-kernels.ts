// Kernels we install on the tfjs 'wasm' backend: fast conv2d gradients and a zero-copy Identity.
//
// Identity: the shipped wasm Identity copies the tensor; tf.clone and customGrad's save() go through it, so every
// saved activation was copied once per step. Tensor data is immutable and the wasm backend reference-counts
// shared data (its Reshape already shares), so Identity can share like the cpu backend's does.
//
// The shipped wasm backend has no Conv2DBackpropFilter kernel at all and a naive Conv2DBackpropInput, so
// training a ResNet on it is ~10x slower than it needs to be. Both gradients can be written as ONE forward
// Conv2D, which runs through XNNPACK's well-optimised convolution:
//
//  * filter gradient: dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*s+kh-pt, ow*s+kw-pl, ci] * dy[n,oh,ow,co].
//    With the input transposed to [Ci, H, W, N] (batch becomes channels) and dy to a [OH, OW, N, Co] filter,
//    this is a stride-1 convolution with dilation = forward stride whose [Ci, KH, KW, Co] output, transposed,
//    is dW. (wasm's Conv3DBackpropFilterV2 is wrong for stride 2, so nothing goes through it.)
//  * input gradient: for forward stride s, the output rows h = s*i + r (phase r) only receive the filter taps
//    kh = s*m + c_r with c_r = (r + pt) mod s. Each phase is a small correlation of dy with a flipped sub-filter;
//    stacking all s*s phases as output channels gives ONE convolution of the un-dilated dy with a
//    [J, J, Co, s*s*Ci] filter, followed by a depth-to-space reshape/transpose. For s = 1 it is the familiar
//    "convolve dy with the flipped, channel-swapped filter".
//
// Kernel funcs here call other wasm kernels directly (not tf ops) so nothing is recorded on the gradient tape.
import { backend_util, getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-wasm's BackendWasm that these kernels use. */
interface WasmBackend {
  incRef(dataId: object): void;
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  disposeData(dataId: object, force?: boolean): boolean;
}

type Pad = 'valid' | 'same' | number | backend_util.ExplicitPadding;

function runWasmKernel(name: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap, backend: WasmBackend): TensorInfo {
  const config = getKernel(name, 'wasm');
  if (config == null) throw new Error(`wasm kernel '${name}' is not registered (needed by the conv2d gradient kernels)`);
  return config.kernelFunc({ inputs, attrs, backend }) as TensorInfo;
}

function transpose(x: TensorInfo, perm: number[], b: WasmBackend): TensorInfo {
  return runWasmKernel('Transpose', { x }, { perm }, b);
}

function slice(x: TensorInfo, begin: number[], size: number[], b: WasmBackend): TensorInfo {
  return runWasmKernel('Slice', { x }, { begin, size }, b);
}

function conv2d(x: TensorInfo, filter: TensorInfo, dilations: [number, number], pad: number[][], b: WasmBackend): TensorInfo {
  return runWasmKernel(
    'Conv2D',
    { x, filter },
    { strides: [1, 1], dilations, pad: pad as unknown as NamedAttrMap[string], dataFormat: 'NHWC', dimRoundingMode: null as unknown as string },
    b,
  );
}

/** A view with another shape on the same data (row-major reshape is free); never dispose it separately. */
function reshaped(x: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: x.dataId, shape, dtype: x.dtype };
}

function free(b: WasmBackend, ...ts: TensorInfo[]): void {
  for (const t of ts) b.disposeData(t.dataId);
}

function convInfo(xShape: number[], filterShape: number[], attrs: NamedAttrMap) {
  const { strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as {
    strides: [number, number] | number; pad: Pad; dataFormat: 'NHWC' | 'NCHW'; dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  if (dataFormat === 'NCHW') throw new Error(`conv2d gradient on wasm: dataFormat 'NCHW' is not supported, expected 'NHWC'`);
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape as [number, number, number, number],
    strides, 1, pad, dimRoundingMode, false, 'channelsLast',
  );
}

/** dW for y = conv2d(x, W): see the header comment. */
function conv2DBackpropFilterWasm({ inputs, backend, attrs }: { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const b = backend as WasmBackend;
  const x = inputs.x!, dy = inputs.dy!;
  const filterShape = (attrs!.filterShape as number[]).slice();
  const info = convInfo(x.shape, filterShape, attrs!);
  const [n, h, w, ci] = x.shape as [number, number, number, number];
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const pt = info.padInfo.top, pl = info.padInfo.left;
  // Padding after the input so that the dilated dy "filter" yields exactly KH x KW outputs; negative = crop.
  const pb = kh - 1 + sh * (oh - 1) + 1 - h - pt;
  const pr = kw - 1 + sw * (ow - 1) + 1 - w - pl;

  let xT = transpose(x, [3, 1, 2, 0], b); // [Ci, H, W, N]
  if (pb < 0 || pr < 0) {
    const cropped = slice(xT, [0, 0, 0, 0], [ci, h + Math.min(pb, 0), w + Math.min(pr, 0), n], b);
    free(b, xT);
    xT = cropped;
  }
  const pads = [[0, 0], [pt, Math.max(pb, 0)], [pl, Math.max(pr, 0)], [0, 0]];
  // One convolution per group of g output channels: the conv packs its "filter" (dy, as big as an activation)
  // reading it with a stride of its output-channel count, so narrow filters pack several times faster.
  const groups = filterGradGroups(co);
  const g = co / groups;
  // (wasm's Transpose is fast up to rank 4 and very slow above it, so dy's spatial dims are merged)
  const dyG = transpose(reshaped(dy, [n, oh * ow, groups, g]), [2, 1, 0, 3], b); // [groups, OH*OW, N, g]
  const partSize = oh * ow * n * g;
  const outSize = ci * kh * kw * g;
  const cat = b.makeOutput([groups, ci, kh * kw, g], 'float32');
  for (let k = 0; k < groups; k++) {
    const part = groups === 1 ? reshaped(dyG, [oh, ow, n, g]) : b.makeOutput([oh, ow, n, g], 'float32');
    if (groups > 1) b.typedArrayFromHeap(part).set(b.typedArrayFromHeap(dyG).subarray(k * partSize, (k + 1) * partSize));
    const out = conv2d(xT, part, [sh, sw], pads, b); // [Ci, KH, KW, g]
    b.typedArrayFromHeap(cat).set(b.typedArrayFromHeap(out), k * outSize); // views after the allocations above
    free(b, out);
    if (groups > 1) free(b, part);
  }
  free(b, xT, dyG);
  const dW = transpose(cat, [2, 1, 0, 3], b); // [KH*KW, Ci, groups, g]
  free(b, cat);
  return reshaped(dW, [kh, kw, ci, co]);
}

/**
 * Output-channel group width of the filter gradient. Measured on a 2-core EPYC (ResNet-18 width 64, batch 64):
 * groups of 8 (XNNPACK's wasm SIMD tile width) take the 32x32x64 layer from 241 to 191 ms and the stem from 70 to
 * 30 ms; wider layers gain less. Splitting the reduction over dy's rows as well did not help. Tunable for benchmarks.
 */
export const filterGradTuning = { groupWidth: 8 };
function filterGradGroups(co: number): number {
  const { groupWidth } = filterGradTuning;
  return co > groupWidth && co % groupWidth === 0 ? co / groupWidth : 1;
}

/** Per spatial dimension: how the forward taps split over the stride phases of the input gradient. */
interface PhasePlan {
  stride: number;
  /** per phase r: first filter tap residue c_r, offset t_r, number of taps M_r */
  phases: { c: number; t: number; m: number }[];
  /** padding (may be negative = crop) of dy in the combined convolution and its kernel size */
  pad: number;
  kernel: number;
  /** rows per phase in the combined output (ceil(inputSize / stride)) */
  rows: number;
}

function planPhases(k: number, s: number, padBefore: number, inputSize: number): PhasePlan {
  const phases = [];
  for (let r = 0; r < s; r++) {
    const c = (r + padBefore) % s;
    const t = Math.floor((r + padBefore) / s);
    phases.push({ c, t, m: c < k ? Math.ceil((k - c) / s) : 0 });
  }
  const used = phases.filter((p) => p.m > 0);
  const pad = Math.max(...used.map((p) => p.m - 1 - p.t));
  const kernel = Math.max(...used.map((p) => p.t + pad)) + 1;
  return { stride: s, phases, pad, kernel, rows: Math.ceil(inputSize / s) };
}

/** Tap of the forward filter that combined-kernel position j uses for phase r, or -1 for none. */
function tapFor(plan: PhasePlan, r: number, j: number): number {
  const { c, t, m } = plan.phases[r]!;
  const mm = t + plan.pad - j;
  return mm >= 0 && mm < m ? plan.stride * mm + c : -1;
}

/** dx for y = conv2d(x, W): see the header comment. */
function conv2DBackpropInputWasm({ inputs, backend, attrs }: { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const b = backend as WasmBackend;
  const dy = inputs.dy!, filter = inputs.filter!;
  const xShape = (attrs!.inputShape as number[]).slice();
  const info = convInfo(xShape, filter.shape, attrs!);
  const [n, h, w, ci] = xShape as [number, number, number, number];
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const ph = planPhases(kh, sh, info.padInfo.top, h);
  const pw = planPhases(kw, sw, info.padInfo.left, w);
  const phaseCount = sh * sw;

  // Crop dy to the rows/columns the combined convolution reads; the rest of its padding is zeros.
  const range = (plan: PhasePlan, size: number) => {
    const lo = Math.max(-plan.pad, 0);
    const lastNeeded = plan.rows + plan.kernel - 2 - plan.pad;
    const hi = Math.min(size - 1, lastNeeded);
    return { lo, len: hi - lo + 1, before: plan.pad + lo, after: lastNeeded - hi };
  };
  const rh = range(ph, oh), rw = range(pw, ow);
  let dyIn = dy;
  if (rh.lo > 0 || rw.lo > 0 || rh.len < oh || rw.len < ow) dyIn = slice(dy, [0, rh.lo, rw.lo, 0], [n, rh.len, rw.len, co], b);

  // Combined filter G[jh, jw, co, (rh*sw + rw)*Ci + ci] = W[tap_h, tap_w, ci, co], zero where a phase has no tap.
  const g = b.makeOutput([ph.kernel, pw.kernel, co, phaseCount * ci], 'float32');
  const gData = b.typedArrayFromHeap(g); // after all allocations: a heap growth would detach earlier views
  const wData = b.typedArrayFromHeap(filter);
  gData.fill(0);
  const outCh = phaseCount * ci;
  for (let jh = 0; jh < ph.kernel; jh++) {
    for (let jw = 0; jw < pw.kernel; jw++) {
      for (let rH = 0; rH < sh; rH++) {
        const th = tapFor(ph, rH, jh);
        if (th < 0) continue;
        for (let rW = 0; rW < sw; rW++) {
          const tw = tapFor(pw, rW, jw);
          if (tw < 0) continue;
          const gBase = (jh * pw.kernel + jw) * co * outCh + (rH * sw + rW) * ci;
          const wBase = (th * kw + tw) * ci * co;
          for (let c = 0; c < ci; c++) {
            const wRow = wBase + c * co;
            for (let o = 0; o < co; o++) gData[gBase + o * outCh + c] = wData[wRow + o]!;
          }
        }
      }
    }
  }

  const out = conv2d(dyIn, g, [1, 1], [[0, 0], [rh.before, rh.after], [rw.before, rw.after], [0, 0]], b); // [N, I_h, I_w, S*Ci]
  if (dyIn !== dy) free(b, dyIn);
  free(b, g);
  let dx = out;
  if (phaseCount > 1) {
    // [N*I_h, I_w, sh, sw*Ci] -> [N*I_h, sh, I_w, sw*Ci]: the depth-to-space step, kept at rank 4 (see above)
    dx = transpose(reshaped(out, [n * ph.rows, pw.rows, sh, sw * ci]), [0, 2, 1, 3], b);
    free(b, out);
  }
  const fullH = ph.rows * sh, fullW = pw.rows * sw;
  if (fullH !== h || fullW !== w) {
    const cropped = slice(reshaped(dx, [n, fullH, fullW, ci]), [0, 0, 0, 0], [n, h, w, ci], b);
    free(b, dx);
    return cropped;
  }
  return reshaped(dx, [n, h, w, ci]);
}

function identitySharing({ inputs, backend }: { inputs: NamedTensorInfoMap; backend: unknown }): TensorInfo {
  const x = inputs.x!;
  (backend as WasmBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export const wasmKernels: KernelConfig[] = [
  { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2DBackpropFilterWasm as KernelFunc },
  { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: conv2DBackpropInputWasm as KernelFunc },
  { kernelName: 'Identity', backendName: 'wasm', kernelFunc: identitySharing as KernelFunc },
];

/** Installs our kernels for the wasm backend, replacing the shipped ones (idempotent). */
export function registerWasmKernels(): void {
  for (const config of wasmKernels) {
    const existing = getKernel(config.kernelName, config.backendName);
    if (existing === config) continue;
    if (existing != null) unregisterKernel(config.kernelName, config.backendName);
    registerKernel(config);
  }
}
