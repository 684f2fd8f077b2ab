// Reading the upstream stages' outputs that the SCAN stage needs.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readSafetensors, type NamedArray } from '@scan-repro/core';
import type { ImageSplit } from '@scan-repro/data';

export interface NeighborTables {
  train: Int32Array;
  /** Columns of `train`: K + 1 (the sample itself first). */
  trainWidth: number;
  val: Int32Array;
  valWidth: number;
}

function intTable(tensors: Record<string, NamedArray>, key: string, rows: number, file: string): { table: Int32Array; width: number } {
  const t = tensors[key];
  if (!t) throw new Error(`${file}: tensor '${key}' is missing; expected the mine stage's [N, K+1] int32 neighbour table`);
  if (t.dtype !== 'I32' || t.shape.length !== 2) throw new Error(`${file}: '${key}' is ${t.dtype} [${t.shape}], expected int32 [N, K+1]`);
  if (t.shape[0] !== rows) {
    throw new Error(`${file}: '${key}' has ${t.shape[0]} rows but the ${key} split has ${rows} images; the mine run used other data (dataset / max_train / max_val / seed)`);
  }
  const table = t.data as Int32Array;
  for (let i = 0; i < table.length; i++) {
    if (table[i] < 0 || table[i] >= rows) throw new Error(`${file}: '${key}'[${i}] = ${table[i]}, expected an index in [0, ${rows})`);
  }
  return { table, width: t.shape[1] };
}

/** When the mine stage stored which dataset images its rows are, they must be the ones this stage loaded. */
function checkOriginalIndices(tensors: Record<string, NamedArray>, key: string, split: ImageSplit, file: string): void {
  const stored = tensors[`${key}_indices`] ?? tensors[`${key}_original_indices`];
  if (!stored) return;
  const ours = split.originalIndices;
  const same = stored.data.length === split.size && Array.from(stored.data as Int32Array).every((v, i) => Number(v) === (ours ? ours[i] : i));
  if (!same) throw new Error(`${file}: the ${key} rows are other dataset images than the ${key} split loaded here (subset seed / max_${key === 'train' ? 'train' : 'val'} differ)`);
}

/** neighbors.safetensors of a mine run, checked against the splits. */
export async function readNeighborTables(mineDir: string, train: ImageSplit, val: ImageSplit): Promise<NeighborTables> {
  const file = join(mineDir, 'neighbors.safetensors');
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (e) {
    throw new Error(`cannot read the mine stage's neighbour file ${file}: ${(e as Error).message}`);
  }
  const { tensors } = readSafetensors(bytes, file);
  checkOriginalIndices(tensors, 'train', train, file);
  checkOriginalIndices(tensors, 'val', val, file);
  const t = intTable(tensors, 'train', train.size, file);
  const v = intTable(tensors, 'val', val.size, file);
  return { train: t.table, trainWidth: t.width, val: v.table, valWidth: v.width };
}
