import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ARTIFACTS,
  artifactPath,
  readEvalMetrics,
  readFeatures,
  readNeighbors,
  readPredictions,
  writeEvalMetrics,
  writeFeatures,
  writeNeighbors,
  writePredictions,
  type Neighbors,
} from '../src/artifacts';
import { composeConfig, readSafetensors, RunFolder, writeSafetensors } from '../src/index';
import { tempDir } from '@scan-repro/test-utils';

const root = tempDir('scan-artifacts');
const cfg = composeConfig(['profile=ci'], { env: {} });
const run = (name: string, stage: 'mine' | 'eval') => RunFolder.create({ dir: join(root, name), stage, config: cfg });

// 3 train images (K = 1) and 2 val images (K = 1); the train rows are images 4, 7, 9 of the full split
const neighbors: Neighbors = {
  train: { table: Int32Array.of(0, 2, 1, 0, 2, 1), rows: 3, width: 2 },
  val: { table: Int32Array.of(0, 1, 1, 0), rows: 2, width: 2 },
  trainIndices: Int32Array.of(4, 7, 9),
  valIndices: Int32Array.of(0, 1),
};

describe('run artifacts', () => {
  it('every name lives in ARTIFACTS; artifactPath joins it to a run folder', () => {
    expect(artifactPath('/runs/x', 'neighbors')).toBe(join('/runs/x', ARTIFACTS.neighbors));
    expect(new Set(Object.values(ARTIFACTS)).size).toBe(Object.keys(ARTIFACTS).length);
  });

  it('neighbours: written through the run folder (recorded in its manifest) and read back as written', async () => {
    const mine = await run('mine', 'mine');
    await writeNeighbors(mine, neighbors, { k: '1' });
    const back = await readNeighbors(mine.dir);
    expect(back).toEqual({ ...neighbors, metadata: { k: '1' } });
    const m = await mine.complete({ metrics: {}, artifacts: [ARTIFACTS.neighbors], backend: 'cpu' });
    expect(Object.keys(m.artifacts)).toEqual([ARTIFACTS.neighbors]);
  });

  it('neighbours: a file without the row indices, or with an entry outside the table, is refused with its key', async () => {
    const mine = await run('mine-old', 'mine');
    const file = artifactPath(mine.dir, 'neighbors');
    const i32 = (data: Int32Array, shape: number[]) => ({ dtype: 'I32' as const, shape, data });
    await mine.writeArtifact(
      ARTIFACTS.neighbors,
      writeSafetensors({ train: i32(neighbors.train.table, [3, 2]), val: i32(neighbors.val.table, [2, 2]) }),
    );
    await expect(readNeighbors(mine.dir)).rejects.toThrow(`${file}: tensor 'train_indices' is missing`);
    await mine.writeArtifact(
      ARTIFACTS.neighbors,
      writeSafetensors({
        train: i32(Int32Array.of(0, 3, 1, 0, 2, 1), [3, 2]),
        val: i32(neighbors.val.table, [2, 2]),
        train_indices: i32(neighbors.trainIndices, [3]),
        val_indices: i32(neighbors.valIndices, [2]),
      }),
    );
    await expect(readNeighbors(mine.dir)).rejects.toThrow(`${file}: 'train'[1] = 3, expected an index in [0, 3)`);
    await expect(readNeighbors(join(root, 'nowhere'))).rejects.toThrow(
      `cannot read ${artifactPath(join(root, 'nowhere'), 'neighbors')}`,
    );
  });

  it('features: both kinds, or backbone only, with the mined kind', async () => {
    const mine = await run('mine-features', 'mine');
    const train = {
      rows: 2,
      labels: Int32Array.of(0, 1),
      head: Float32Array.of(1, 0, 0, 1),
      backbone: Float32Array.of(0.6, 0.8, 0, 1),
    };
    const val = { rows: 1, labels: Int32Array.of(1), head: Float32Array.of(0, 1), backbone: Float32Array.of(1, 0) };
    await writeFeatures(mine, { train, val, mined: 'head' }, { dataset: 'x' });
    const back = await readFeatures(mine.dir);
    expect(back).toEqual({ train, val, mined: 'head', metadata: { dataset: 'x', mined: 'head' } });
    // the tensor names and shapes of the file
    const raw = readSafetensors(readFileSync(artifactPath(mine.dir, 'features')), 'features').tensors;
    expect(Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v.shape]))).toEqual({
      'train.labels': [2],
      'val.labels': [1],
      'train.head': [2, 2],
      'val.head': [1, 2],
      'train.backbone': [2, 2],
      'val.backbone': [1, 2],
    });
    await writeFeatures(
      mine,
      { train: { ...train, head: undefined }, val: { ...val, head: undefined }, mined: 'backbone' },
      {},
    );
    const noHead = await readFeatures(mine.dir);
    expect(noHead.train.head).toBeUndefined();
    expect(noHead.mined).toBe('backbone');
  });

  it('predictions and eval metrics round-trip', async () => {
    const ev = await run('eval', 'eval');
    const p = {
      pred: Int32Array.of(0, 1, 1),
      probs: Float32Array.of(0.9, 0.1, 0.2, 0.8, 0.4, 0.6),
      target: Int32Array.of(0, 1, 0),
      clusterToClass: Int32Array.of(0, 1),
      confusion: Int32Array.of(1, 1, 0, 1),
      numClasses: 2,
      prototypes: Int32Array.of(0, 1),
    };
    await writePredictions(ev, p, { evaluated: 'scan' });
    expect(await readPredictions(ev.dir)).toEqual({ ...p, metadata: { evaluated: 'scan' } });
    await writeEvalMetrics(ev, { evaluated: 'scan', mapping: 'hungarian', metrics: { acc: 2 / 3 } });
    expect(await readEvalMetrics(ev.dir)).toEqual({ evaluated: 'scan', mapping: 'hungarian', metrics: { acc: 2 / 3 } });
  });
});
