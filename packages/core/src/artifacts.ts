// The one home of run artifacts: every file name a run folder holds, and typed readers / writers for the files a
// later stage (or a person) reads. Stages name files only through here. Model weights keep their format in
// @scan-repro/models (saveModel / loadModel at artifactPath(dir, 'model')); the name lives here.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunFolder } from './run-folder';
import { readSafetensors, writeSafetensors, type NamedArray } from './safetensors';

/** What the stages write, by what it is. */
export const ARTIFACTS = {
  /** pretext, scan, selflabel: the model's state dict, PyTorch names and layout. */
  model: 'model.safetensors',
  /** mine: the neighbour tables of the train and val splits (Neighbors). */
  neighbors: 'neighbors.safetensors',
  /** mine: the pretext features the tables were mined on, both kinds, and the labels (MinedFeatures). */
  features: 'features.safetensors',
  /** eval: predictions, probabilities, cluster → class mapping, confusion matrix, prototypes (Predictions). */
  predictions: 'predictions.safetensors',
  /** eval: the final metrics (EvalMetrics). */
  evalMetrics: 'metrics.json',
  /** eval's pictures. */
  confusion: 'confusion.png',
  prototypes: 'prototypes.png',
  curves: 'curves.png',
} as const;
export type ArtifactName = keyof typeof ARTIFACTS;

/** The run folder's own files, written by RunFolder itself. */
export const RUN_FILES = {
  manifest: 'manifest.json',
  config: 'config.yaml',
  metrics: 'metrics.jsonl',
  checkpoint: 'checkpoint.safetensors',
} as const;

/** Where artifact `name` of the run folder `dir` lives. */
export function artifactPath(dir: string, name: ArtifactName): string {
  return join(dir, ARTIFACTS[name]);
}

async function readTensorFile(
  dir: string,
  name: ArtifactName,
): Promise<{ file: string; tensors: Record<string, NamedArray>; metadata: Record<string, string> }> {
  const file = artifactPath(dir, name);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  return { file, ...readSafetensors(bytes, file) };
}

function tensorOf(
  tensors: Record<string, NamedArray>,
  key: string,
  dtype: NamedArray['dtype'],
  rank: number,
  file: string,
  what: string,
): NamedArray {
  const t = tensors[key];
  if (!t) throw new Error(`${file}: tensor '${key}' is missing; expected ${what}`);
  if (t.dtype !== dtype || t.shape.length !== rank)
    throw new Error(`${file}: '${key}' is ${t.dtype} [${t.shape}], expected ${what}`);
  return t;
}

const i32 = (data: Int32Array, shape: number[]): NamedArray => ({ dtype: 'I32', shape, data });
const f32 = (data: Float32Array, shape: number[]): NamedArray => ({ dtype: 'F32', shape, data });

// ---- neighbors.safetensors (mine) ----

/** Row-major [rows, width] split indices: row i is image i itself, then its K = width - 1 nearest neighbours. */
export interface NeighborTable {
  table: Int32Array;
  rows: number;
  width: number;
}

export interface Neighbors {
  train: NeighborTable;
  val: NeighborTable;
  /** Each row's image in the full dataset split (a class-stratified subset's rows are not 0..N-1 there). */
  trainIndices: Int32Array;
  valIndices: Int32Array;
}

export async function writeNeighbors(run: RunFolder, n: Neighbors, metadata: Record<string, string>): Promise<void> {
  await run.writeArtifact(
    ARTIFACTS.neighbors,
    writeSafetensors(
      {
        train: i32(n.train.table, [n.train.rows, n.train.width]),
        val: i32(n.val.table, [n.val.rows, n.val.width]),
        train_indices: i32(n.trainIndices, [n.train.rows]),
        val_indices: i32(n.valIndices, [n.val.rows]),
      },
      metadata,
    ),
  );
}

/** The mine run's neighbour tables, checked: int32 [N, K+1] with every entry a row of the same table. */
export async function readNeighbors(dir: string): Promise<Neighbors & { metadata: Record<string, string> }> {
  const { file, tensors, metadata } = await readTensorFile(dir, 'neighbors');
  const table = (key: 'train' | 'val'): { table: NeighborTable; indices: Int32Array } => {
    const t = tensorOf(tensors, key, 'I32', 2, file, `the mine stage's int32 [N, K+1] ${key} neighbour table`);
    const [rows, width] = t.shape;
    const data = t.data as Int32Array;
    for (let i = 0; i < data.length; i++) {
      if (data[i] < 0 || data[i] >= rows)
        throw new Error(`${file}: '${key}'[${i}] = ${data[i]}, expected an index in [0, ${rows})`);
    }
    const idx = tensorOf(
      tensors,
      `${key}_indices`,
      'I32',
      1,
      file,
      `int32 [${rows}]: each ${key} row's index in the dataset split`,
    );
    if (idx.shape[0] !== rows)
      throw new Error(`${file}: '${key}_indices' has ${idx.shape[0]} entries for ${rows} rows of '${key}'`);
    return { table: { table: data, rows, width }, indices: idx.data as Int32Array };
  };
  const train = table('train');
  const val = table('val');
  return { train: train.table, val: val.table, trainIndices: train.indices, valIndices: val.indices, metadata };
}

// ---- features.safetensors (mine) ----

export type FeatureKind = 'head' | 'backbone';

/** One split's features, row-major [rows, dim] and L2-normalised; head is absent for models without one (RotNet). */
export interface SplitFeatures {
  rows: number;
  labels: Int32Array;
  head?: Float32Array;
  backbone: Float32Array;
}

export interface MinedFeatures {
  train: SplitFeatures;
  val: SplitFeatures;
  /** The kind the neighbours were mined on. */
  mined: FeatureKind;
}

export async function writeFeatures(run: RunFolder, f: MinedFeatures, metadata: Record<string, string>): Promise<void> {
  const tensors: Record<string, NamedArray> = {
    'train.labels': i32(f.train.labels, [f.train.rows]),
    'val.labels': i32(f.val.labels, [f.val.rows]),
  };
  for (const kind of ['head', 'backbone'] as const) {
    const a = f.train[kind];
    const b = f.val[kind];
    if (a && b) {
      tensors[`train.${kind}`] = f32(a, [f.train.rows, a.length / f.train.rows]);
      tensors[`val.${kind}`] = f32(b, [f.val.rows, b.length / f.val.rows]);
    }
  }
  await run.writeArtifact(ARTIFACTS.features, writeSafetensors(tensors, { ...metadata, mined: f.mined }));
}

export async function readFeatures(dir: string): Promise<MinedFeatures & { metadata: Record<string, string> }> {
  const { file, tensors, metadata } = await readTensorFile(dir, 'features');
  const split = (s: 'train' | 'val'): SplitFeatures => {
    const labels = tensorOf(tensors, `${s}.labels`, 'I32', 1, file, `int32 [N] ${s} labels`);
    const rows = labels.shape[0];
    const matrix = (kind: FeatureKind) => {
      const t = tensorOf(tensors, `${s}.${kind}`, 'F32', 2, file, `float32 [${rows}, dim] ${s} ${kind} features`);
      if (t.shape[0] !== rows) throw new Error(`${file}: '${s}.${kind}' has ${t.shape[0]} rows for ${rows} labels`);
      return t.data as Float32Array;
    };
    return {
      rows,
      labels: labels.data as Int32Array,
      backbone: matrix('backbone'),
      ...(tensors[`${s}.head`] ? { head: matrix('head') } : {}),
    };
  };
  const mined = metadata.mined;
  if (mined !== 'head' && mined !== 'backbone')
    throw new Error(`${file}: metadata mined = '${mined}', expected head or backbone`);
  return { train: split('train'), val: split('val'), mined, metadata };
}

// ---- predictions.safetensors and metrics.json (eval) ----

export interface Predictions {
  /** Cluster of each val image, and its probabilities, row-major [rows, clusters]. */
  pred: Int32Array;
  probs: Float32Array;
  /** The val labels. */
  target: Int32Array;
  /** Cluster → class (-1: none). */
  clusterToClass: Int32Array;
  /** Row-major [numClasses, numClasses]: rows = true class, columns = mapped prediction. */
  confusion: Int32Array;
  numClasses: number;
  /** Per cluster: the val image that is its prototype (-1: empty cluster). */
  prototypes: Int32Array;
}

export async function writePredictions(
  run: RunFolder,
  p: Predictions,
  metadata: Record<string, string>,
): Promise<void> {
  const n = p.pred.length;
  const clusters = p.clusterToClass.length;
  await run.writeArtifact(
    ARTIFACTS.predictions,
    writeSafetensors(
      {
        pred: i32(p.pred, [n]),
        probs: f32(p.probs, [n, clusters]),
        target: i32(p.target, [n]),
        cluster_to_class: i32(p.clusterToClass, [clusters]),
        confusion: i32(p.confusion, [p.numClasses, p.numClasses]),
        prototypes: i32(p.prototypes, [clusters]),
      },
      metadata,
    ),
  );
}

export async function readPredictions(dir: string): Promise<Predictions & { metadata: Record<string, string> }> {
  const { file, tensors, metadata } = await readTensorFile(dir, 'predictions');
  const int = (key: string, rank: number) => tensorOf(tensors, key, 'I32', rank, file, `int32 rank-${rank} '${key}'`);
  const confusion = int('confusion', 2);
  return {
    pred: int('pred', 1).data as Int32Array,
    probs: tensorOf(tensors, 'probs', 'F32', 2, file, "float32 [N, clusters] 'probs'").data as Float32Array,
    target: int('target', 1).data as Int32Array,
    clusterToClass: int('cluster_to_class', 1).data as Int32Array,
    confusion: confusion.data as Int32Array,
    numClasses: confusion.shape[0],
    prototypes: int('prototypes', 1).data as Int32Array,
    metadata,
  };
}

export interface EvalMetrics {
  /** Which model was evaluated: selflabel's when there is one, else SCAN's. */
  evaluated: string;
  /** The mapping rule ACC used (majority whenever clusters outnumber classes). */
  mapping: string;
  metrics: Record<string, number>;
}

export async function writeEvalMetrics(run: RunFolder, m: EvalMetrics): Promise<void> {
  await run.writeArtifact(
    ARTIFACTS.evalMetrics,
    JSON.stringify({ evaluated: m.evaluated, mapping: m.mapping, metrics: m.metrics }, null, 2) + '\n',
  );
}

export async function readEvalMetrics(dir: string): Promise<EvalMetrics> {
  const file = artifactPath(dir, 'evalMetrics');
  const m = JSON.parse(await readFile(file, 'utf8')) as EvalMetrics;
  if (typeof m.metrics !== 'object' || m.metrics === null) throw new Error(`${file}: no 'metrics' object`);
  return m;
}
