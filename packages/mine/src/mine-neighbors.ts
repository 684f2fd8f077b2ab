import * as tf from '@tensorflow/tfjs-core';
import type { ImageSplit } from '@scan-repro/data';
import { neighborAccuracy } from '@scan-repro/metrics';

export interface MineNeighborsOptions {
  /** Query rows per similarity block (default 512). */
  batchSize?: number;
  /** Bank rows per similarity block (default 16384). Memory per block is batchSize × bankBatchSize floats. */
  bankBatchSize?: number;
}

/**
 * Top-k cosine neighbours of every query row among the bank rows, like faiss IndexFlatIP searched with
 * L2-normalised features (the official MemoryBank.mine_nearest_neighbors). Both sides are
 * L2-normalised here. Returns numQuery × k bank indices, most similar first; equal similarities rank
 * the lower bank index first. Similarities come from tf matMul on blocks of
 * batchSize × bankBatchSize, and a running top-k per query row is merged in JS, so the full
 * numQuery × numBank matrix never exists. The caller has initialised a tf backend.
 */
export function mineNeighborsAgainst(
  query: Float32Array,
  bank: Float32Array,
  d: number,
  k: number,
  opts: MineNeighborsOptions = {},
): Int32Array {
  return topKCosine('mineNeighborsAgainst', query, bank, d, k, opts).indices;
}

/**
 * The K nearest neighbours of each of the n rows of `features` (n × d, row-major) among the same rows,
 * as the official topk-*-neighbors.npy: n × (K+1) indices with the sample itself in column 0 followed
 * by its K most similar other samples. faiss puts the sample first because its own cosine (1) is the
 * largest; here that is enforced, so an exact duplicate with a lower index cannot displace it (faiss's
 * order is arbitrary in that case).
 */
export function mineNeighbors(
  features: Float32Array,
  n: number,
  d: number,
  k: number,
  opts: MineNeighborsOptions = {},
): Int32Array {
  if (features.length !== n * d)
    throw new Error(`mineNeighbors: features has ${features.length} entries, expected n × d = ${n} × ${d}`);
  if (!Number.isInteger(k) || k < 1 || k > n - 1)
    throw new Error(`mineNeighbors: k = ${k}, expected an integer in [1, n − 1 = ${n - 1}]`);
  const width = k + 1;
  const { indices } = topKCosine('mineNeighbors', features, features, d, width, opts);
  const out = new Int32Array(n * width);
  for (let i = 0; i < n; i++) {
    const row = indices.subarray(i * width, (i + 1) * width);
    out[i * width] = i;
    let t = 1;
    for (let j = 0; j < width && t < width; j++) if (row[j] !== i) out[i * width + t++] = row[j];
  }
  return out;
}

function topKCosine(
  what: string,
  query: Float32Array,
  bank: Float32Array,
  d: number,
  k: number,
  opts: MineNeighborsOptions,
): { indices: Int32Array; similarities: Float32Array } {
  if (!Number.isInteger(d) || d < 1)
    throw new Error(`${what}: d = ${d}, expected a positive integer feature dimension`);
  const numQuery = query.length / d;
  const numBank = bank.length / d;
  if (!Number.isInteger(numQuery))
    throw new Error(`${what}: query has ${query.length} entries, not a multiple of d = ${d}`);
  if (!Number.isInteger(numBank) || numBank < 1)
    throw new Error(`${what}: bank has ${bank.length} entries, expected numBank × d with d = ${d}`);
  if (!Number.isInteger(k) || k < 1 || k > numBank)
    throw new Error(`${what}: k = ${k}, expected an integer in [1, numBank = ${numBank}]`);
  const batchSize = opts.batchSize ?? 512;
  const bankBatchSize = opts.bankBatchSize ?? 16384;
  for (const [key, v] of [
    ['batchSize', batchSize],
    ['bankBatchSize', bankBatchSize],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${what}: ${key} = ${v}, expected a positive integer`);
  }
  for (const [name, arr] of [
    ['query', query],
    ['bank', bank],
  ] as const) {
    for (let i = 0; i < arr.length; i++)
      if (!Number.isFinite(arr[i])) throw new Error(`${what}: ${name}[${i}] = ${arr[i]}, expected a finite number`);
  }

  // Normalised bank blocks stay on the backend for the whole search (the same memory as the input),
  // stored transposed ([d, rows]): the wasm backend's matMul is ~10× slower with transposeB = true.
  const bankBlocks: { start: number; rows: number; t: tf.Tensor2D }[] = [];
  const indices = new Int32Array(numQuery * k);
  const similarities = new Float32Array(numQuery * k);
  try {
    for (let start = 0; start < numBank; start += bankBatchSize) {
      const rows = Math.min(bankBatchSize, numBank - start);
      bankBlocks.push({
        start,
        rows,
        t: tf.tidy(() =>
          tf.transpose(l2NormalizeRows(tf.tensor2d(bank.subarray(start * d, (start + rows) * d), [rows, d]))),
        ),
      });
    }
    for (let qStart = 0; qStart < numQuery; qStart += batchSize) {
      const qRows = Math.min(batchSize, numQuery - qStart);
      const q = tf.tidy(() =>
        l2NormalizeRows(tf.tensor2d(query.subarray(qStart * d, (qStart + qRows) * d), [qRows, d])),
      );
      const topVal = similarities.subarray(qStart * k, (qStart + qRows) * k).fill(-Infinity);
      const topIdx = indices.subarray(qStart * k, (qStart + qRows) * k).fill(-1);
      try {
        for (const block of bankBlocks) {
          const sim = tf.matMul(q, block.t);
          const s = sim.dataSync() as Float32Array;
          sim.dispose();
          mergeTopK(s, qRows, block.rows, block.start, k, topVal, topIdx);
        }
      } finally {
        q.dispose();
      }
    }
  } finally {
    for (const b of bankBlocks) b.t.dispose();
  }
  return { indices, similarities };
}

/**
 * Streams a qRows × cols similarity block into per-row top-k lists kept sorted by descending value.
 * Columns arrive in increasing bank index, so a strict `>` keeps the lower index first on ties.
 */
function mergeTopK(
  s: Float32Array,
  qRows: number,
  cols: number,
  colOffset: number,
  k: number,
  topVal: Float32Array,
  topIdx: Int32Array,
): void {
  for (let r = 0; r < qRows; r++) {
    const base = r * k;
    let worst = topVal[base + k - 1];
    const rowOff = r * cols;
    for (let c = 0; c < cols; c++) {
      const v = s[rowOff + c];
      if (!(v > worst)) continue;
      let pos = base + k - 1;
      while (pos > base && v > topVal[pos - 1]) {
        topVal[pos] = topVal[pos - 1];
        topIdx[pos] = topIdx[pos - 1];
        pos--;
      }
      topVal[pos] = v;
      topIdx[pos] = colOffset + c;
      worst = topVal[base + k - 1];
    }
  }
}

/** Row-wise x / max(‖x‖, 1e-12), as torch.nn.functional.normalize. */
function l2NormalizeRows(x: tf.Tensor2D): tf.Tensor2D {
  return tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12));
}

/** Neighbour counts reported for the Fig. 2 curve (those <= K). */
export const NEIGHBOR_CURVE_KS = [1, 5, 20, 50, 100];

function hasLabels(split: ImageSplit): boolean {
  return split.labels.every((l) => l >= 0);
}

/** Mines a split's neighbours among itself and reports the share with the anchor's label at k and the curve's ks. */
export function mineSplit(
  features: Float32Array,
  split: ImageSplit,
  k: number,
  batchSize: number,
  prefix: string,
): { table: Int32Array; metrics: Record<string, number> } {
  const n = split.size;
  const dim = features.length / n;
  if (k > n - 1)
    throw new Error(
      `mine: ${prefix} k = ${k} neighbours needs more than ${n} images in ${split.dataset}/${split.split}`,
    );
  const table = mineNeighbors(features, n, dim, k, { batchSize });
  const metrics: Record<string, number> = {};
  if (hasLabels(split)) {
    metrics[`${prefix}_neighbor_accuracy`] = neighborAccuracy(table, split.labels);
    for (const kk of NEIGHBOR_CURVE_KS)
      if (kk <= k) metrics[`${prefix}_neighbor_accuracy_at_${kk}`] = neighborAccuracy(table, split.labels, { k: kk });
  }
  return { table, metrics };
}
