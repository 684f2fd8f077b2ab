// Kernels we install on the tfjs 'wasm' backend: fast conv2d gradients and a zero-copy Identity.
//
// Identity: the shipped wasm Identity copies the tensor; tf.clone and customGrad's save() go through it, so every
// saved activation was copied once per step. Tensor data is immutable and the wasm backend reference-counts
// shared data (its Reshape already shares), so Identity can share like the cpu backend's does.
//
// The shipped wasm backend has no Conv2DBackpropFilter kernel at all and a naive Conv2DBackpropInput, so
// training a ResNet on it is ~10x slower than it needs to be. Both gradients run through XNNPACK's
// well-optimised convolution or matrix product:
//
//  * filter gradient: dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*s+kh-pt, ow*s+kw-pl, ci] * dy[n,oh,ow,co], in one of
//    two forms chosen by layer shape (useMatMulFilterGrad):
//    - convolution: with the input transposed to [Ci, H, W, N] (batch becomes channels) and dy to a
//      [OH, OW, N, Co] filter, this is a stride-1 convolution with dilation = forward stride whose
//      [Ci, KH, KW, Co] output, transposed, is dW (one convolution per group of 8 output channels);
//    - matrix products over the transposed im2col of x, per chunk of images (filterGradByMatMul).
//    (wasm's Conv3DBackpropFilterV2 is wrong for stride 2, so nothing goes through it.)
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

function runWasmKernel(
  name: string,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap,
  backend: WasmBackend,
): TensorInfo {
  const config = getKernel(name, 'wasm');
  if (config == null)
    throw new Error(`wasm kernel '${name}' is not registered (needed by the conv2d gradient kernels)`);
  return config.kernelFunc({ inputs, attrs, backend }) as TensorInfo;
}

function transpose(x: TensorInfo, perm: number[], b: WasmBackend): TensorInfo {
  return runWasmKernel('Transpose', { x }, { perm }, b);
}

function slice(x: TensorInfo, begin: number[], size: number[], b: WasmBackend): TensorInfo {
  return runWasmKernel('Slice', { x }, { begin, size }, b);
}

function conv2d(
  x: TensorInfo,
  filter: TensorInfo,
  dilations: [number, number],
  pad: number[][],
  b: WasmBackend,
): TensorInfo {
  return runWasmKernel(
    'Conv2D',
    { x, filter },
    {
      strides: [1, 1],
      dilations,
      pad: pad as unknown as NamedAttrMap[string],
      dataFormat: 'NHWC',
      dimRoundingMode: null as unknown as string,
    },
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
    strides: [number, number] | number;
    pad: Pad;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  if (dataFormat === 'NCHW')
    throw new Error(`conv2d gradient on wasm: dataFormat 'NCHW' is not supported, expected 'NHWC'`);
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
}

/** dW for y = conv2d(x, W): see the header comment. */
function conv2DBackpropFilterWasm({
  inputs,
  backend,
  attrs,
}: {
  inputs: NamedTensorInfoMap;
  backend: unknown;
  attrs?: NamedAttrMap;
}): TensorInfo {
  const b = backend as WasmBackend;
  const x = inputs.x!,
    dy = inputs.dy!;
  const filterShape = (attrs!.filterShape as number[]).slice();
  const info = convInfo(x.shape, filterShape, attrs!);
  const [n, h, w, ci] = x.shape as [number, number, number, number];
  const {
    filterHeight: kh,
    filterWidth: kw,
    strideHeight: sh,
    strideWidth: sw,
    outHeight: oh,
    outWidth: ow,
    outChannels: co,
  } = info;
  const pt = info.padInfo.top,
    pl = info.padInfo.left;
  // Padding after the input so that the dilated dy "filter" yields exactly KH x KW outputs; negative = crop.
  const pb = kh - 1 + sh * (oh - 1) + 1 - h - pt;
  const pr = kw - 1 + sw * (ow - 1) + 1 - w - pl;

  if (useMatMulFilterGrad(ci, co, kh * kw, n, oh * ow)) return filterGradByMatMul(b, x, dy, info);
  const usedH = h + Math.min(pb, 0),
    usedW = w + Math.min(pr, 0); // rows/columns the convolution reads
  const pads = [
    [0, 0],
    [pt, Math.max(pb, 0)],
    [pl, Math.max(pr, 0)],
    [0, 0],
  ];
  // One convolution per group of g output channels: the conv packs its "filter" (dy, as big as an activation)
  // reading it with a stride of its output-channel count, so narrow filters pack several times faster.
  const groups = filterGradGroups(co);
  const g = co / groups;
  const xT = b.makeOutput([ci, usedH, usedW, n], 'float32');
  const parts = Array.from({ length: groups }, () => b.makeOutput([oh, ow, n, g], 'float32')); // dy per group
  const cat = b.makeOutput([groups, ci, kh * kw, g], 'float32');
  // views only after all allocations: a heap growth detaches earlier ones
  toChannelsFirst(b.typedArrayFromHeap(x), b.typedArrayFromHeap(xT), n, h, w, ci, usedH, usedW);
  splitChannelGroups(
    b.typedArrayFromHeap(dy),
    parts.map((t) => b.typedArrayFromHeap(t)),
    n,
    oh * ow,
    g,
  );
  const outSize = ci * kh * kw * g;
  for (let k = 0; k < groups; k++) {
    const out = conv2d(xT, parts[k]!, [sh, sw], pads, b); // [Ci, KH, KW, g]
    b.typedArrayFromHeap(cat).set(b.typedArrayFromHeap(out), k * outSize); // fresh views: conv2d allocated
    free(b, out, parts[k]!);
  }
  free(b, xT);
  const dW = transpose(cat, [2, 1, 0, 3], b); // [KH*KW, Ci, groups, g]
  free(b, cat);
  return reshaped(dW, [kh, kw, ci, co]);
}

// The layout changes below run as blocked JS loops on the heap: 2-3x faster than wasm's Transpose kernel
// (e.g. 8.6 vs 21.5 ms for a 64x32x32x64 activation), which copies element by element with index arithmetic.

/** dst[c, y, z, n] = src[n, y, z, c] for y < usedH, z < usedW; 8x8 tiles of (n, c) keep both sides in L1. */
function toChannelsFirst(
  src: Float32Array,
  dst: Float32Array,
  n: number,
  h: number,
  w: number,
  c: number,
  usedH: number,
  usedW: number,
): void {
  const T = 8,
    imageStride = h * w * c,
    planeSize = usedH * usedW * n;
  for (let y = 0; y < usedH; y++) {
    for (let z = 0; z < usedW; z++) {
      const srcPixel = (y * w + z) * c,
        dstPixel = (y * usedW + z) * n;
      for (let a0 = 0; a0 < n; a0 += T) {
        const a1 = Math.min(n, a0 + T);
        for (let c0 = 0; c0 < c; c0 += T) {
          const c1 = Math.min(c, c0 + T);
          for (let cc = c0; cc < c1; cc++) {
            let d = cc * planeSize + dstPixel + a0,
              s = a0 * imageStride + srcPixel + cc;
            for (let a = a0; a < a1; a++, d++, s += imageStride) dst[d] = src[s]!;
          }
        }
      }
    }
  }
}

/** dst[c, a, p] = src[a, p, c]: per image a [pixels, c] -> [c, pixels] transpose, 8x8 tiles of (p, c). */
function toChannelsBatchPixels(src: Float32Array, dst: Float32Array, n: number, pixels: number, c: number): void {
  const T = 8;
  for (let a = 0; a < n; a++) {
    for (let p0 = 0; p0 < pixels; p0 += T) {
      const p1 = Math.min(pixels, p0 + T);
      for (let c0 = 0; c0 < c; c0 += T) {
        const c1 = Math.min(c, c0 + T);
        for (let cc = c0; cc < c1; cc++) {
          let d = (cc * n + a) * pixels + p0,
            s = (a * pixels + p0) * c + cc;
          for (let p = p0; p < p1; p++, d++, s += c) dst[d] = src[s]!;
        }
      }
    }
  }
}

/** parts[k][p, a, j] = src[a, p, k*g + j]: dy [N, P, groups*g] -> one [P, N, g] per group (P = OH*OW). */
function splitChannelGroups(src: Float32Array, parts: Float32Array[], n: number, pixels: number, g: number): void {
  const co = parts.length * g;
  for (let p = 0; p < pixels; p++) {
    for (let a = 0; a < n; a++) {
      const s0 = (a * pixels + p) * co,
        d = (p * n + a) * g;
      for (let k = 0; k < parts.length; k++) {
        const part = parts[k]!,
          s = s0 + k * g;
        for (let j = 0; j < g; j++) part[d + j] = src[s + j]!;
      }
    }
  }
}

/**
 * dW as matrix products: dW[(kh,kw,ci), co] = sum_p A[(kh,kw,ci), p] * dy[p, co] over output positions p = (n,oh,ow),
 * with A = the transposed im2col of x, built per chunk of images so that each product's reduction stays short.
 * XNNPACK's matrix product runs at forward-convolution speed up to a reduction of ~16k, where the single
 * convolution above, whose reduction is all of N*OH*OW, is 30-40% slower.
 */
function filterGradByMatMul(b: WasmBackend, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const [n, h, w, ci] = x.shape as [number, number, number, number];
  const {
    filterHeight: kh,
    filterWidth: kw,
    strideHeight: sh,
    strideWidth: sw,
    outHeight: oh,
    outWidth: ow,
    outChannels: co,
  } = info;
  const pt = info.padInfo.top,
    pl = info.padInfo.left;
  const taps = kh * kw,
    pixels = oh * ow;
  const chunk = Math.max(1, Math.min(n, Math.floor(filterGradTuning.maxReduction / pixels)));
  const xCF = b.makeOutput([ci, n, h, w], 'float32');
  const dW = b.makeOutput([kh, kw, ci, co], 'float32');
  toChannelsBatchPixels(b.typedArrayFromHeap(x), b.typedArrayFromHeap(xCF), n, h * w, ci); // [Ci, N, H, W]
  for (let a0 = 0; a0 < n; a0 += chunk) {
    const a1 = Math.min(n, a0 + chunk),
      cols = (a1 - a0) * pixels;
    const im = b.makeOutput([1, taps * ci, cols], 'float32');
    const dyChunk = a0 === 0 && a1 === n ? reshaped(dy, [1, cols, co]) : b.makeOutput([1, cols, co], 'float32');
    if (dyChunk.dataId !== dy.dataId)
      b.typedArrayFromHeap(dyChunk).set(b.typedArrayFromHeap(dy).subarray(a0 * pixels * co, a1 * pixels * co));
    const xv = b.typedArrayFromHeap(xCF),
      iv = b.typedArrayFromHeap(im);
    for (let u = 0; u < kh; u++) {
      for (let v = 0; v < kw; v++) {
        // output columns j whose input column z = j*sw + v - pl lies inside the image: [jLo, jHi)
        const jLo = Math.min(ow, Math.max(0, Math.ceil((pl - v) / sw)));
        const jHi = Math.max(jLo, Math.min(ow, Math.floor((w - 1 + pl - v) / sw) + 1));
        for (let c = 0; c < ci; c++) {
          let d = ((u * kw + v) * ci + c) * cols;
          for (let a = a0; a < a1; a++) {
            const plane = (c * n + a) * h * w;
            for (let i = 0; i < oh; i++) {
              const y = i * sh + u - pt;
              if (y < 0 || y >= h) {
                iv.fill(0, d, d + ow);
                d += ow;
                continue;
              }
              for (let j = 0; j < jLo; j++) iv[d++] = 0;
              for (let j = jLo, s = plane + y * w + jLo * sw + v - pl; j < jHi; j++, s += sw) iv[d++] = xv[s]!;
              for (let j = jHi; j < ow; j++) iv[d++] = 0;
            }
          }
        }
      }
    }
    const out = runWasmKernel('BatchMatMul', { a: im, b: dyChunk }, { transposeA: false, transposeB: false }, b); // [1, taps*Ci, Co]
    const ov = b.typedArrayFromHeap(out),
      dv = b.typedArrayFromHeap(dW);
    if (a0 === 0) dv.set(ov);
    else for (let i = 0; i < ov.length; i++) dv[i]! += ov[i]!;
    free(b, im, out);
    if (dyChunk.dataId !== dy.dataId) free(b, dyChunk);
  }
  free(b, xCF);
  return dW;
}

/** The matrix-product form pays an im2col copy (taps x the input); it wins where the convolution form is slowest. */
function useMatMulFilterGrad(ci: number, co: number, taps: number, n: number, pixels: number): boolean {
  const { method, maxImCol } = filterGradTuning;
  if (method !== 'auto') return method === 'matmul';
  const chunkCols = Math.min(n, Math.max(1, Math.floor(filterGradTuning.maxReduction / pixels))) * pixels;
  // measured per ResNet-18 layer (width 64, batch 64): the matrix form is faster everywhere except at 32x32
  // outputs with 64 input channels (202 vs 177 ms), where its im2col copy is largest
  return (pixels <= 256 || taps * ci <= 64) && taps * ci * chunkCols <= maxImCol;
}

/**
 * Output-channel group width of the filter gradient. Measured on a 2-core EPYC (ResNet-18 width 64, batch 64):
 * groups of 8 (XNNPACK's wasm SIMD tile width) take the 32x32x64 layer from 241 to 191 ms and the stem from 70 to
 * 30 ms; wider layers gain less. Splitting the reduction over dy's rows as well did not help. Tunable for benchmarks.
 */
export const filterGradTuning = {
  groupWidth: 8,
  method: 'auto' as 'auto' | 'conv' | 'matmul',
  maxReduction: 16384,
  maxImCol: 1 << 25,
};
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
function conv2DBackpropInputWasm({
  inputs,
  backend,
  attrs,
}: {
  inputs: NamedTensorInfoMap;
  backend: unknown;
  attrs?: NamedAttrMap;
}): TensorInfo {
  const b = backend as WasmBackend;
  const dy = inputs.dy!,
    filter = inputs.filter!;
  const xShape = (attrs!.inputShape as number[]).slice();
  const info = convInfo(xShape, filter.shape, attrs!);
  const [n, h, w, ci] = xShape as [number, number, number, number];
  const {
    filterHeight: kh,
    filterWidth: kw,
    strideHeight: sh,
    strideWidth: sw,
    outHeight: oh,
    outWidth: ow,
    outChannels: co,
  } = info;
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
  const rh = range(ph, oh),
    rw = range(pw, ow);
  let dyIn = dy;
  if (rh.lo > 0 || rw.lo > 0 || rh.len < oh || rw.len < ow)
    dyIn = slice(dy, [0, rh.lo, rw.lo, 0], [n, rh.len, rw.len, co], b);

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

  const out = conv2d(
    dyIn,
    g,
    [1, 1],
    [
      [0, 0],
      [rh.before, rh.after],
      [rw.before, rw.after],
      [0, 0],
    ],
    b,
  ); // [N, I_h, I_w, S*Ci]
  if (dyIn !== dy) free(b, dyIn);
  free(b, g);
  let dx = out;
  if (phaseCount > 1) {
    // [N*I_h, I_w, sh, sw*Ci] -> [N*I_h, sh, I_w, sw*Ci]: the depth-to-space step, kept at rank 4 (see above)
    dx = transpose(reshaped(out, [n * ph.rows, pw.rows, sh, sw * ci]), [0, 2, 1, 3], b);
    free(b, out);
  }
  const fullH = ph.rows * sh,
    fullW = pw.rows * sw;
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
