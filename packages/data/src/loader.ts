// Batches of augmented views for the training and evaluation loops.
//
// Determinism: the epoch order comes from an rng seeded by (seed, epoch); every sample gets two rngs seeded by
// (seed, epoch, position in the epoch): one draws its neighbour, the other feeds its view transforms. So a
// batch's contents depend only on (seed, epoch, batch index), not on prefetch depth, worker count, timing, or
// where an epoch is resumed.
//
// Parallelism: with `workers > 0` the transforms run in worker threads. The main thread only gathers the raw
// uint8 images of a batch (a memcpy) and posts them with the per-sample seeds; a worker rebuilds the transforms
// from their { name, options } specs and returns the float views (transferred, not copied). On one core the
// SimCLR transform manages a few thousand CIFAR images per second (npm run bench), less than a GPU trains on.
import { Worker } from 'node:worker_threads';
import { createRng, typescriptWorkerEntry } from '@scan-repro/core';
import { createTransform, type ImageTransform, type TransformName, type TransformOptions } from '@scan-repro/augment';
import type { DecodedImage, ImageSplit } from './dataset';

/** A transform by name, rebuilt with createTransform where it runs (needed for worker threads). */
export interface TransformSpec {
  name: TransformName;
  options: TransformOptions;
}

export interface LoaderView {
  /** A transform function (main thread only) or a spec (main thread or workers). */
  transform: ImageTransform | TransformSpec;
  /** 'self': the sample's own image; 'neighbor': a neighbour drawn from its K+1 nearest-neighbour list. */
  source: 'self' | 'neighbor';
}

export interface NeighborTable {
  /** Row-major [split.size, width]: row i lists split indices of image i's nearest neighbours (itself first). */
  table: Int32Array;
  /** Columns per row (K+1 from mining). */
  width: number;
  /** Draw from the first `take` columns only (scan.num_neighbors + 1); default: all. */
  take?: number;
}

export interface LoaderOptions {
  split: ImageSplit;
  /** Split indices to iterate over (default: all 0..size-1). */
  indices?: Int32Array | number[];
  batchSize: number;
  shuffle: boolean;
  seed: number;
  dropLast: boolean;
  views: LoaderView[];
  neighbors?: NeighborTable;
  /** Batches prepared ahead of the consumer (0 = on demand; default 2, at least `workers` when using workers). */
  prefetch?: number;
  /** Worker threads for the transforms (0 = main thread). Views must then be TransformSpecs. */
  workers?: number;
}

export interface Batch {
  /** Split indices of the samples. */
  indices: Int32Array;
  /** The neighbour drawn for each sample (split indices), when the loader has a neighbour table. */
  neighborIndices?: Int32Array;
  /** One NHWC normalised array per view, in the order of `views`. */
  views: Float32Array[];
  shape: [number, number, number, number];
}

export interface Loader {
  /** Samples per epoch (before drop_last). */
  readonly size: number;
  readonly batchesPerEpoch: number;
  /** The batches of epoch `epoch` (0-based), optionally starting at batch `startBatch` (resume). */
  epoch(epoch: number, opts?: { startBatch?: number }): AsyncGenerator<Batch>;
  /** Stops the worker threads (no-op without workers). The loader can still be used; workers restart. */
  close(): Promise<void>;
}

// murmur3's 32-bit mixing over the parts: well-spread seeds from small consecutive integers.
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    let k = Math.imul(p >>> 0, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const ORDER_STREAM = 0x6f72646e;
const NEIGHBOR_STREAM = 0x6e656967;
const TRANSFORM_STREAM = 0x73616d70;

/** Applies the views to one batch's images; shared by the main thread and the worker threads. */
export function transformBatch(
  transforms: ImageTransform[],
  sources: ('self' | 'neighbor')[],
  seeds: Uint32Array,
  selfImages: DecodedImage[],
  neighborImages: (DecodedImage | null)[],
): Float32Array[] {
  const count = seeds.length;
  const out: Float32Array[] = [];
  let per = -1;
  for (let s = 0; s < count; s++) {
    const rng = createRng(seeds[s]);
    transforms.forEach((t, k) => {
      const x = t(sources[k] === 'self' ? selfImages[s] : neighborImages[s]!, rng);
      if (per < 0) {
        per = x.length;
        const side = Math.round(Math.sqrt(per / 3));
        if (side * side * 3 !== per)
          throw new Error(`loader: view ${k} returned ${per} values; expected a square crop of side^2*3`);
        for (let j = 0; j < transforms.length; j++) out.push(new Float32Array(count * per));
      }
      if (x.length !== per)
        throw new Error(`loader: view ${k} returned ${x.length} values for sample ${s}; view 0 returned ${per}`);
      out[k].set(x, s * per);
    });
  }
  return out;
}

function isSpec(t: ImageTransform | TransformSpec): t is TransformSpec {
  return typeof t !== 'function';
}

interface WorkerJob {
  id: number;
  seeds: Uint32Array;
  /** Packed uint8 images: per sample the self image, then (if any view needs it) the neighbour image. */
  pixels: Uint8Array;
  /** Per packed image: byte offset, height, width. */
  layout: Int32Array;
}

class TransformPool {
  private workers: Worker[] = [];
  private waiting = new Map<number, { resolve: (v: Float32Array[]) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private nextWorker = 0;

  constructor(
    private readonly count: number,
    private readonly views: { spec: TransformSpec; source: 'self' | 'neighbor' }[],
  ) {}

  private start(): void {
    for (let w = 0; w < this.count; w++) {
      const worker = new Worker(typescriptWorkerEntry(new URL('./loader-worker.ts', import.meta.url)), {
        workerData: { views: this.views },
      });
      worker.unref();
      worker.on('message', (m: { id: number; views?: Float32Array[]; error?: string }) => {
        const p = this.waiting.get(m.id);
        if (!p) return;
        this.waiting.delete(m.id);
        if (m.error) p.reject(new Error(m.error));
        else p.resolve(m.views!);
      });
      worker.on('error', (err) => {
        for (const p of this.waiting.values()) p.reject(err);
        this.waiting.clear();
      });
      this.workers.push(worker);
    }
  }

  run(job: Omit<WorkerJob, 'id'>): Promise<Float32Array[]> {
    if (this.workers.length === 0) this.start();
    const id = this.nextId++;
    const worker = this.workers[this.nextWorker++ % this.workers.length];
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, ...job }, [
        job.seeds.buffer as ArrayBuffer,
        job.pixels.buffer as ArrayBuffer,
        job.layout.buffer as ArrayBuffer,
      ]);
    });
  }

  async close(): Promise<void> {
    const ws = this.workers;
    this.workers = [];
    await Promise.all(ws.map((w) => w.terminate()));
  }
}

export function createLoader(opts: LoaderOptions): Loader {
  const { split, batchSize, views } = opts;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`loader: batchSize must be a positive integer, got ${batchSize}`);
  if (views.length === 0) throw new Error('loader: views is empty; give at least one { transform, source }');
  const base = opts.indices ? Int32Array.from(opts.indices) : Int32Array.from({ length: split.size }, (_, i) => i);
  for (const i of base)
    if (!Number.isInteger(i) || i < 0 || i >= split.size)
      throw new RangeError(`loader: index ${i} out of range for ${split.dataset}/${split.split} (size ${split.size})`);
  const nb = opts.neighbors;
  const needNeighbor = views.some((v) => v.source === 'neighbor');
  if (nb) {
    if (!(nb.width >= 1) || nb.table.length !== split.size * nb.width)
      throw new Error(
        `loader: neighbour table has ${nb.table.length} entries; expected ${split.size} rows x ${nb.width} columns for ${split.dataset}/${split.split}`,
      );
    if (nb.take !== undefined && (!Number.isInteger(nb.take) || nb.take < 1 || nb.take > nb.width))
      throw new Error(`loader: neighbors.take must be in [1, ${nb.width}], got ${nb.take}`);
  } else if (needNeighbor) {
    throw new Error("loader: a view has source 'neighbor' but no neighbour table was given");
  }
  const workers = Math.max(0, Math.floor(opts.workers ?? 0));
  if (workers > 0 && !views.every((v) => isSpec(v.transform)))
    throw new Error('loader: workers need every view transform as a { name, options } spec, not a function');
  const transforms = views.map((v) =>
    isSpec(v.transform) ? createTransform(v.transform.name, v.transform.options) : v.transform,
  );
  const sources = views.map((v) => v.source);
  const pool =
    workers > 0
      ? new TransformPool(
          workers,
          views.map((v) => ({ spec: v.transform as TransformSpec, source: v.source })),
        )
      : null;

  const take = nb ? (nb.take ?? nb.width) : 0;
  const n = base.length;
  const batchesPerEpoch = opts.dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
  const prefetch = Math.max(workers, Math.floor(opts.prefetch ?? 2), 0);

  function epochOrder(epoch: number): Int32Array {
    const order = base.slice();
    if (opts.shuffle) createRng(mixSeed(opts.seed, epoch, ORDER_STREAM)).shuffle(order);
    return order;
  }

  // The part of a batch that is cheap and sequential: which images, which neighbours, which seeds.
  function planBatch(order: Int32Array, epoch: number, b: number) {
    const start = b * batchSize;
    const count = Math.min(batchSize, n - start);
    const indices = order.slice(start, start + count);
    const neighborIndices = nb ? new Int32Array(count) : undefined;
    const seeds = new Uint32Array(count);
    for (let s = 0; s < count; s++) {
      if (nb)
        neighborIndices![s] =
          nb.table[indices[s] * nb.width + createRng(mixSeed(opts.seed, epoch, start + s, NEIGHBOR_STREAM)).int(take)];
      seeds[s] = mixSeed(opts.seed, epoch, start + s, TRANSFORM_STREAM);
    }
    return { indices, neighborIndices, seeds, count };
  }

  function finish(plan: ReturnType<typeof planBatch>, out: Float32Array[]): Batch {
    const per = out[0].length / plan.count;
    const side = Math.round(Math.sqrt(per / 3));
    return {
      indices: plan.indices,
      neighborIndices: plan.neighborIndices,
      views: out,
      shape: [plan.count, side, side, 3],
    };
  }

  function makeBatchHere(order: Int32Array, epoch: number, b: number): Batch {
    const plan = planBatch(order, epoch, b);
    const selfImages = Array.from(plan.indices, (i) => split.image(i));
    const nbrImages = Array.from(plan.indices, (_, s) => (needNeighbor ? split.image(plan.neighborIndices![s]) : null));
    return finish(plan, transformBatch(transforms, sources, plan.seeds, selfImages, nbrImages));
  }

  async function makeBatchInWorker(order: Int32Array, epoch: number, b: number): Promise<Batch> {
    const plan = planBatch(order, epoch, b);
    const images: DecodedImage[] = [];
    for (let s = 0; s < plan.count; s++) {
      images.push(split.image(plan.indices[s]));
      if (needNeighbor) images.push(split.image(plan.neighborIndices![s]));
    }
    let total = 0;
    for (const im of images) total += im.data.length;
    const pixels = new Uint8Array(total);
    const layout = new Int32Array(images.length * 3);
    let off = 0;
    images.forEach((im, k) => {
      pixels.set(im.data, off);
      layout[3 * k] = off;
      layout[3 * k + 1] = im.height;
      layout[3 * k + 2] = im.width;
      off += im.data.length;
    });
    const seeds = plan.seeds.slice();
    return finish(plan, await pool!.run({ seeds, pixels, layout }));
  }

  async function* epoch(epochIndex: number, eopts: { startBatch?: number } = {}): AsyncGenerator<Batch> {
    const order = epochOrder(epochIndex);
    let next = Math.max(0, eopts.startBatch ?? 0);
    if (prefetch === 0) {
      for (; next < batchesPerEpoch; next++) yield makeBatchHere(order, epochIndex, next);
      return;
    }
    // Batches are built ahead of the consumer: in macrotasks on the main thread (while it awaits its own
    // backend work), or in the worker threads.
    const queue: Promise<Batch>[] = [];
    const fill = (): void => {
      while (queue.length < prefetch && next < batchesPerEpoch) {
        const b = next++;
        const p = pool
          ? makeBatchInWorker(order, epochIndex, b)
          : new Promise<Batch>((resolve, reject) =>
              setImmediate(() => {
                try {
                  resolve(makeBatchHere(order, epochIndex, b));
                } catch (err) {
                  reject(err);
                }
              }),
            );
        p.catch(() => {}); // awaited in order below; this only stops an early failure counting as unhandled
        queue.push(p);
      }
    };
    fill();
    while (queue.length > 0) {
      const batch = await queue.shift()!;
      fill();
      yield batch;
    }
  }

  return { size: n, batchesPerEpoch, epoch, close: async () => pool?.close() };
}
