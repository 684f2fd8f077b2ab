// More than one core for the wasm backend. tfjs-backend-wasm's threaded build cannot start under Node (it spawns
// its pthread workers from Blob URLs; tfjs issue #3830), so the parallelism lives one level up: the kernels that
// carry nearly all of a training step (Conv2D and our two conv2d gradient kernels) split the batch between this
// thread and kernel workers, each worker running its own single-threaded wasm backend with our kernels
// (kernel-worker.ts). Each part is the same kernel on a slice of the batch; the forward and input-gradient outputs
// are joined, the filter-gradient parts summed, so results equal the single-threaded ones up to that summation.
//
// The kernel contract is synchronous, so a split kernel hands the workers their slices through shared memory,
// computes its own slice meanwhile (a prefix view of its inputs, no copy), and then blocks on Atomics.wait until
// the workers are done, or one of them fails, dies or stops answering (the step then fails with the reason, and
// that worker is dropped). Kernels called inside a split kernel run unsplit.
import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { backend_util, getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import { typescriptWorkerEntry } from '@scan-repro/core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { CTRL, CTRL_WORDS, WORKER_STATE, type JobInput, type WorkerFault, type WorkerJob } from './kernel-protocol';

type KernelArgs = Parameters<KernelFunc>[0];

interface HeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  disposeData(dataId: object, force?: boolean): boolean;
}

/**
 * minSplitMacs: below this many multiply-adds a kernel runs unsplit, as the copies and the hand-off would cost
 * more than they save (2e7 is about 0.5 ms of XNNPACK convolution). Tunable for tests and benchmarks.
 * hangFloorMs, hangFactor: a worker that has not answered within max(hangFloorMs, hangFactor x the time this
 * thread took for its own slice, which is as large) is reported as hung. While we block we cannot see worker
 * events, so a worker that dies without a word (out of memory, killed) is caught by this bound.
 */
export const wasmThreadTuning = { minSplitMacs: 2e7, hangFloorMs: 20_000, hangFactor: 50 };

/**
 * Test hooks. next: the next job sent to worker `worker` (0-based) fails the given way. lateNotifyMs: this thread
 * pauses between publishing a job and notifying the worker, and the worker for a third of that between finishing a
 * job and waiting for the next, as when they are descheduled there.
 */
export const wasmThreadFaults: { next: { worker: number; fault: WorkerFault } | null; lateNotifyMs: number } = {
  next: null,
  lateNotifyMs: 0,
};
const pause = new Int32Array(new SharedArrayBuffer(4));

let workerIds = 0;

class KernelWorker {
  readonly id = ++workerIds;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(4 * CTRL_WORDS));
  private data = new Float32Array(new SharedArrayBuffer(4 * (1 << 20)));
  private seq = 0;
  private sentBuffer: SharedArrayBuffer | null = null;
  readonly ready: Promise<void>;

  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(typescriptWorkerEntry(new URL('./kernel-worker.ts', import.meta.url)), {
      workerData: { ctrl: this.ctrl.buffer, port: port2 },
      transferList: [port2],
    });
    this.worker.unref();
    this.port.unref();
    const failed: { error?: Error } = {};
    this.worker.on('error', (err) => {
      failed.error = err;
    });
    this.ready = (async () => {
      const started = Date.now();
      while (Atomics.load(this.ctrl, CTRL.STATE) !== WORKER_STATE.READY) {
        if (failed.error || Atomics.load(this.ctrl, CTRL.STATE) === WORKER_STATE.DEAD) {
          throw new Error(`wasm kernel worker failed to start: ${failed.error?.message ?? this.fatalReason()}`);
        }
        if (Date.now() - started > 120_000) throw new Error('wasm kernel worker did not start within 120 s');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
  }

  /** Shared buffer with room for `size` floats (replaced, and sent along with the next job, when too small). */
  buffer(size: number): Float32Array {
    if (size > this.data.length) this.data = new Float32Array(new SharedArrayBuffer(4 * Math.ceil(size * 1.25)));
    return this.data;
  }

  submit(
    kernel: string,
    inputs: JobInput[],
    attrs: NamedAttrMap,
    outOffset: number,
    outCapacity: number,
    fault?: WorkerFault,
  ): void {
    const buffer = this.sentBuffer === this.data.buffer ? undefined : (this.data.buffer as SharedArrayBuffer);
    const job: WorkerJob = {
      seq: ++this.seq,
      kernel,
      inputs,
      attrs,
      outOffset,
      outCapacity,
      buffer,
      fault,
      lateWaitMs: wasmThreadFaults.lateNotifyMs / 3,
    };
    this.port.postMessage(job);
    this.sentBuffer = this.data.buffer as SharedArrayBuffer;
    Atomics.add(this.ctrl, CTRL.REQ, 1);
    if (wasmThreadFaults.lateNotifyMs > 0) Atomics.wait(pause, 0, 0, wasmThreadFaults.lateNotifyMs);
    Atomics.notify(this.ctrl, CTRL.REQ);
  }

  /**
   * Blocks until the last submitted job is done; returns its output shape. Throws, within `limitMs`, if the
   * job failed, the worker died, or it stopped answering.
   */
  wait(kernel: string, limitMs: number): number[] {
    const started = Date.now();
    for (;;) {
      const done = Atomics.load(this.ctrl, CTRL.DONE);
      if (done === this.seq) break;
      if (Atomics.load(this.ctrl, CTRL.STATE) === WORKER_STATE.DEAD) {
        throw new Error(`wasm kernel worker ${this.id} died during ${kernel}: ${this.fatalReason()}`);
      }
      if (Date.now() - started > limitMs) {
        throw new Error(
          `wasm kernel worker ${this.id} stopped answering: ${kernel} not done after ${((Date.now() - started) / 1000).toFixed(1)} s`,
        );
      }
      Atomics.wait(this.ctrl, CTRL.DONE, done, 100);
    }
    // replies of jobs whose wait was abandoned come first; the one with our number is ours
    for (;;) {
      const reply = receiveMessageOnPort(this.port)?.message as
        | { seq?: number; shape?: number[]; error?: string }
        | undefined;
      if (reply === undefined) throw new Error(`wasm kernel worker ${this.id} finished ${kernel} without a reply`);
      if (reply.seq !== this.seq) continue;
      if (reply.error) throw new Error(`wasm kernel worker ${this.id} failed in ${kernel}: ${reply.error}`);
      return reply.shape!;
    }
  }

  /** The reason a dead worker sent (its `fatal` message), skipping any replies before it. */
  private fatalReason(): string {
    for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) {
      const fatal = (m.message as { fatal?: string }).fatal;
      if (fatal) return fatal;
    }
    return 'no reason given';
  }

  stop(): Promise<number> {
    this.port.postMessage({ stop: true });
    Atomics.add(this.ctrl, CTRL.REQ, 1);
    Atomics.notify(this.ctrl, CTRL.REQ);
    return this.worker.terminate();
  }

  terminate(): void {
    this.worker.terminate().catch(() => undefined);
  }
}

let workers: KernelWorker[] = [];

/** Removes a failed worker from the pool and ends its thread (a hung one cannot be asked to stop). */
function dropWorker(worker: KernelWorker): void {
  workers = workers.filter((w) => w !== worker);
  worker.terminate();
}

function takeFault(worker: number): WorkerFault | undefined {
  const next = wasmThreadFaults.next;
  if (next == null || next.worker !== worker) return undefined;
  wasmThreadFaults.next = null;
  return next.fault;
}
const originals = new Map<string, KernelFunc>();
let insideSplit = false;

/** Splits `total` rows into one contiguous range per thread (this one first), proportional and non-empty. */
function rowRanges(total: number, threads: number): [number, number][] {
  const parts = Math.min(threads, total);
  const ranges: [number, number][] = [];
  for (let k = 0; k < parts; k++) ranges.push([Math.round((k * total) / parts), Math.round(((k + 1) * total) / parts)]);
  return ranges;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const withRows = (shape: number[], rows: number) => [rows, ...shape.slice(1)];

interface SplitPlan {
  /** inputs cut along their first axis (all with the same batch size) */
  split: string[];
  /** the output's values per batch row ('sum' outputs: its whole size) */
  outRowSize: number;
  /** 'concat': output rows follow the input rows; 'sum': the parts' outputs are added */
  combine: 'concat' | 'sum';
  /** attributes for a slice of `rows` batch rows */
  attrsFor(rows: number): NamedAttrMap;
}

/** Runs the kernel on batch slices in parallel (see the header comment) and combines the parts. */
function runSplit(kernel: string, args: KernelArgs, rows: number, plan: SplitPlan): TensorInfo {
  const backend = args.backend as unknown as HeapBackend;
  const ranges = rowRanges(rows, workers.length + 1);
  const names = Object.keys(args.inputs);
  const jobs: { worker: KernelWorker; range: [number, number]; outOffset: number; data: Float32Array }[] = [];
  const ownRows = ranges[0]![1];
  let own!: TensorInfo;
  let ownMs = 0;
  try {
    for (let k = 1; k < ranges.length; k++) {
      const worker = workers[k - 1]!,
        range = ranges[k]!,
        count = range[1] - range[0];
      const layout: JobInput[] = [];
      let offset = 0;
      for (const name of names) {
        const info = args.inputs[name]!;
        const shape = plan.split.includes(name) ? withRows(info.shape, count) : info.shape;
        layout.push({ name, shape, offset });
        offset += size(shape);
      }
      const outCapacity = plan.combine === 'concat' ? count * plan.outRowSize : plan.outRowSize;
      const data = worker.buffer(offset + outCapacity);
      for (const input of layout) {
        const src = backend.typedArrayFromHeap(args.inputs[input.name]!);
        const rowSize = size(input.shape.slice(1));
        data.set(
          plan.split.includes(input.name) ? src.subarray(range[0] * rowSize, range[1] * rowSize) : src,
          input.offset,
        );
      }
      worker.submit(kernel, layout, plan.attrsFor(count), offset, outCapacity, takeFault(k - 1));
      jobs.push({ worker, range, outOffset: offset, data });
    }
    // this thread's slice: prefix views of the split inputs
    const ownInputs = Object.fromEntries(
      names.map((name) => {
        const info = args.inputs[name]!;
        return [
          name,
          plan.split.includes(name)
            ? { dataId: info.dataId, shape: withRows(info.shape, ownRows), dtype: info.dtype }
            : info,
        ];
      }),
    );
    const started = Date.now();
    insideSplit = true;
    try {
      own = originals.get(kernel)!({
        inputs: ownInputs,
        attrs: plan.attrsFor(ownRows),
        backend: args.backend,
      }) as TensorInfo;
    } finally {
      insideSplit = false;
      ownMs = Date.now() - started;
    }
  } finally {
    // never leave a worker running on buffers we may reuse; a worker that failed is stopped and dropped
    const limitMs = Math.max(wasmThreadTuning.hangFloorMs, wasmThreadTuning.hangFactor * ownMs);
    const failures: string[] = [];
    for (const job of jobs) {
      try {
        job.worker.wait(kernel, limitMs);
      } catch (err) {
        failures.push((err as Error).message);
        dropWorker(job.worker);
      }
    }
    if (failures.length > 0) {
      if (own) backend.disposeData(own.dataId);
      throw new Error(
        `${failures.join('; ')} (the worker is stopped; ${wasmThreads()} thread${wasmThreads() > 1 ? 's' : ''} remain)`,
      );
    }
  }
  const outShape = plan.combine === 'concat' ? withRows(own.shape, rows) : own.shape;
  const out = backend.makeOutput(outShape, 'float32');
  const dst = backend.typedArrayFromHeap(out); // views after the allocation
  const mine = backend.typedArrayFromHeap(own);
  if (mine.length !== (plan.combine === 'concat' ? ownRows * plan.outRowSize : plan.outRowSize)) {
    throw new Error(`wasm threads: ${kernel} gave [${own.shape}], not the planned size`);
  }
  dst.set(mine, 0);
  for (const job of jobs) {
    if (plan.combine === 'concat') {
      const n = (job.range[1] - job.range[0]) * plan.outRowSize;
      dst.set(job.data.subarray(job.outOffset, job.outOffset + n), job.range[0] * plan.outRowSize);
    } else {
      const part = job.data.subarray(job.outOffset, job.outOffset + plan.outRowSize);
      for (let i = 0; i < part.length; i++) dst[i]! += part[i]!;
    }
  }
  backend.disposeData(own.dataId);
  return out;
}

function convInfoOf(xShape: number[], filterShape: number[], attrs: NamedAttrMap) {
  const { strides, pad, dilations, dimRoundingMode } = attrs as unknown as {
    strides: number | [number, number];
    pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
    dilations?: number | [number, number];
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    dilations ?? 1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
}

/** Whether a kernel call is worth splitting: workers exist, not nested, a batch to cut, enough work. */
function worthSplitting(args: KernelArgs, batch: number, macs: number): boolean {
  if (workers.length === 0 || insideSplit || batch < 2 || macs < wasmThreadTuning.minSplitMacs) return false;
  if (args.attrs?.dataFormat === 'NCHW') return false;
  return Object.values(args.inputs).every((t) => t!.dtype === 'float32');
}

function conv2DSplit(args: KernelArgs): TensorInfo {
  const x = args.inputs.x!,
    filter = args.inputs.filter!;
  const info = convInfoOf(x.shape, filter.shape, args.attrs!);
  const outRowSize = info.outHeight * info.outWidth * info.outChannels;
  const macs = x.shape[0]! * outRowSize * info.filterHeight * info.filterWidth * info.inChannels;
  if (!worthSplitting(args, x.shape[0]!, macs)) return originals.get('Conv2D')!(args) as TensorInfo;
  return runSplit('Conv2D', args, x.shape[0]!, {
    split: ['x'],
    outRowSize,
    combine: 'concat',
    attrsFor: () => args.attrs!,
  });
}

function conv2DBackpropInputSplit(args: KernelArgs): TensorInfo {
  const dy = args.inputs.dy!,
    filter = args.inputs.filter!;
  const inputShape = args.attrs!.inputShape as number[];
  const info = convInfoOf(inputShape, filter.shape, args.attrs!);
  const macs = size(dy.shape) * info.filterHeight * info.filterWidth * info.inChannels;
  if (!worthSplitting(args, dy.shape[0]!, macs)) return originals.get('Conv2DBackpropInput')!(args) as TensorInfo;
  return runSplit('Conv2DBackpropInput', args, dy.shape[0]!, {
    split: ['dy'],
    outRowSize: size(inputShape.slice(1)),
    combine: 'concat',
    attrsFor: (rows) => ({ ...args.attrs, inputShape: withRows(inputShape, rows) }),
  });
}

function conv2DBackpropFilterSplit(args: KernelArgs): TensorInfo {
  const x = args.inputs.x!,
    dy = args.inputs.dy!;
  const filterShape = args.attrs!.filterShape as number[];
  const macs = size(dy.shape) * filterShape[0]! * filterShape[1]! * filterShape[2]!;
  if (!worthSplitting(args, x.shape[0]!, macs)) return originals.get('Conv2DBackpropFilter')!(args) as TensorInfo;
  return runSplit('Conv2DBackpropFilter', args, x.shape[0]!, {
    split: ['x', 'dy'],
    outRowSize: size(filterShape),
    combine: 'sum',
    attrsFor: () => args.attrs!,
  });
}

const splitters: Record<string, KernelFunc> = {
  Conv2D: conv2DSplit as KernelFunc,
  Conv2DBackpropInput: conv2DBackpropInputSplit as KernelFunc,
  Conv2DBackpropFilter: conv2DBackpropFilterSplit as KernelFunc,
};

/** The kernel function behind a (possibly) split kernel, e.g. to check which implementation is installed. */
export function unsplitKernelFunc(name: string): KernelFunc | undefined {
  const current = getKernel(name, 'wasm')?.kernelFunc;
  return current != null && current === splitters[name] ? originals.get(name) : current;
}

/** Threads the wasm backend uses: this one plus its kernel workers. */
export function wasmThreads(): number {
  return workers.length + 1;
}

/**
 * Uses `threads` threads for the wasm backend's heavy kernels (1 = this thread only; default: all cores).
 * Call after our wasm kernels are registered (registerWasmKernels); safe to call again with another count.
 */
export async function setWasmThreads(threads: number = availableParallelism()): Promise<void> {
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`wasm threads: ${threads} must be a positive integer`);
  for (const name of Object.keys(splitters)) {
    const current = getKernel(name, 'wasm');
    if (current == null) throw new Error(`wasm threads: kernel '${name}' is not registered for wasm`);
    if (current.kernelFunc !== splitters[name]) {
      originals.set(name, current.kernelFunc);
      unregisterKernel(name, 'wasm');
      registerKernel({ ...(current as KernelConfig), kernelFunc: splitters[name]! });
    }
  }
  while (workers.length > threads - 1) await workers.pop()!.stop();
  const started: KernelWorker[] = [];
  while (workers.length + started.length < threads - 1) started.push(new KernelWorker());
  await Promise.all(started.map((w) => w.ready));
  workers.push(...started);
}
