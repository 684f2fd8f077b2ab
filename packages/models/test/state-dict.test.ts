import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@scan-repro/backend';
import type { NamedArray } from '@scan-repro/core';
import {
  ClusteringModel,
  ContrastiveModel,
  createBackbone,
  createClusterHeads,
  createClusteringModel,
  createContrastiveModel,
  loadModel,
  loadStateDict,
  saveModel,
  stateDict,
} from '../src/index';
import { createContrastiveHead } from '../src/heads';
import { goldenPath, maxAbsDiff, readGolden, toTensor } from './goldens';
import { tempDir } from '@scan-repro/test-utils';

const dir = tempDir('models-test');
beforeAll(async () => {
  await initBackend({ name: 'cpu', quiet: true });
});

const tiny = { name: 'resnet18_cifar' as const, width: 2, blocks: [1, 1, 1, 1] };

describe('stateDict', () => {
  it('uses PyTorch names and layouts (OIHW conv, [out, in] linear, int64 counter)', () => {
    const m = createContrastiveModel(tiny, { hidden: 8, out: 4 }, 0);
    const sd = stateDict(m);
    expect(sd['backbone.conv1.weight'].shape).toEqual([2, 3, 3, 3]);
    expect(sd['backbone.layer2.0.shortcut.0.weight'].shape).toEqual([4, 2, 1, 1]);
    expect(sd['contrastive_head.0.weight'].shape).toEqual([8, 16]);
    expect(sd['contrastive_head.2.bias'].shape).toEqual([4]);
    expect(sd['backbone.bn1.num_batches_tracked']).toEqual({ dtype: 'I64', shape: [], data: BigInt64Array.of(0n) });
    // OIHW element [o=1, i=2, h=0, w=1] is HWIO element [0, 1, 2, 1]
    const hwio = m.backbone.parameters().get('conv1.weight')!.arraySync() as number[][][][];
    const oihw = sd['backbone.conv1.weight'].data as Float32Array;
    expect(oihw[((1 * 3 + 2) * 3 + 0) * 3 + 1]).toBe(hwio[0][1][2][1]);
    // linear [out=3, in=5] is our [in=5, out=3]
    const w = m.contrastiveHead.parameters().get('0.weight')!.arraySync() as number[][];
    expect((sd['contrastive_head.0.weight'].data as Float32Array)[3 * 16 + 5]).toBe(w[5][3]);
    m.dispose();
  });
});

describe('loadStateDict', () => {
  it('round-trips through save/load and restores outputs exactly, with metadata', async () => {
    const a = createClusteringModel(tiny, { numClusters: 3, numHeads: 2 }, 1);
    const b = createClusteringModel(tiny, { numClusters: 3, numHeads: 2 }, 2);
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    tf.dispose(a.apply(x, true)); // moves the running stats away from their init
    const path = join(dir, 'a.safetensors');
    await saveModel(path, a, { best_head: '1' });
    const r = await loadModel(path, b);
    expect(r.metadata.best_head).toBe('1');
    expect(r.missing).toEqual([]);
    expect(r.unexpected).toEqual([]);
    const [ya, yb] = [a.apply(x, false), b.apply(x, false)];
    expect(maxAbsDiff(ya[1].dataSync(), yb[1].dataSync())).toBe(0);
    expect(b.backbone.buffers().get('bn1.num_batches_tracked')!.dataSync()[0]).toBe(1);
    tf.dispose([ya, yb, x]);
    a.dispose();
    b.dispose();
  });

  it('names missing and unexpected keys, and shape mismatches with both shapes; leaves the model unchanged', () => {
    const m = createBackbone(tiny, 0);
    const before = m.parameters().get('conv1.weight')!.dataSync().slice();
    const sd = stateDict({ parameters: () => m.parameters(), buffers: () => m.buffers() });
    const { ['layer1.0.bn1.weight']: _dropped, ...withoutOne } = sd;
    expect(() => loadStateDict(m, withoutOne)).toThrow(/missing keys.*layer1\.0\.bn1\.weight/);
    expect(() => loadStateDict(m, { ...sd, 'fc.weight': sd['bn1.bias'] })).toThrow(/unexpected keys.*fc\.weight/);
    const bad: Record<string, NamedArray> = {
      ...sd,
      'conv1.weight': { dtype: 'F32', shape: [2, 3, 5, 5], data: new Float32Array(150) },
    };
    bad['bn1.weight'] = { dtype: 'F32', shape: [2], data: new Float32Array([9, 9]) };
    expect(() => loadStateDict(m, bad, { source: 'x.safetensors' })).toThrow(
      /x\.safetensors: shape mismatch.*'conv1\.weight': file has \[2, 3, 5, 5\], model expects \[2, 3, 3, 3\]/,
    );
    expect(m.parameters().get('bn1.weight')!.dataSync()[0]).toBe(1);
    expect(Array.from(m.parameters().get('conv1.weight')!.dataSync())).toEqual(Array.from(before));
    const nonStrict = loadStateDict(m, { ...withoutOne, extra: sd['bn1.bias'] }, { strict: false });
    expect(nonStrict.missing).toEqual(['layer1.0.bn1.weight']);
    expect(nonStrict.unexpected).toEqual(['extra']);
    m.dispose();
  });
});

describe('converted PyTorch checkpoints (tools/convert/pth_to_safetensors.py fixtures)', () => {
  const expected = readGolden('converted_expected');

  it('MoCo v2 encoder_q → ContrastiveModel(resnet50) gives PyTorch outputs', async () => {
    const m = new ContrastiveModel(
      createBackbone({ name: 'resnet50', width: 2, blocks: [1, 1, 1, 1] }, 0),
      createContrastiveHead(64, 64, 16, 0),
    );
    const r = await loadModel(goldenPath('converted_moco_r50_w2'), m, { strict: true });
    expect(r.metadata.layout).toBe('moco');
    const x = toTensor(expected.tensors.input_r50) as tf.Tensor4D;
    const y = m.apply(x, false);
    expect(maxAbsDiff(y.dataSync(), expected.tensors.moco_out_eval.data as Float32Array)).toBeLessThan(1e-5);
    tf.dispose([x, y]);
    m.dispose();
  });

  it('SCAN clustering checkpoint with module. prefixes → ClusteringModel, best head in metadata', async () => {
    const m = new ClusteringModel(createBackbone(tiny, 0), createClusterHeads(16, 5, 3, 0));
    const r = await loadModel(goldenPath('converted_scan_clustering_cifar_w2'), m);
    expect(r.metadata.best_head).toBe('1');
    const x = toTensor(expected.tensors.input_cifar) as tf.Tensor4D;
    const ys = m.apply(x, false);
    ys.forEach((y, i) =>
      expect(maxAbsDiff(y.dataSync(), expected.tensors[`clustering_out_eval.${i}`].data as Float32Array)).toBeLessThan(
        1e-5,
      ),
    );
    tf.dispose([x, ...ys]);
    m.dispose();
  });

  it('SCAN pretext → ClusteringModel: strict load fails, allowUnexpected(contrastive_head) + allowMissing(cluster_head) loads the backbone', async () => {
    const m = new ClusteringModel(createBackbone(tiny, 0), createClusterHeads(16, 5, 1, 0));
    const path = goldenPath('converted_scan_pretext_cifar_w2');
    await expect(loadModel(path, m)).rejects.toThrow(
      /missing keys.*cluster_head\.0\.weight.*unexpected keys.*contrastive_head\.0\.weight/,
    );
    const r = await loadModel(path, m, {
      allowUnexpected: (k) => k.startsWith('contrastive_head.'),
      allowMissing: (k) => k.startsWith('cluster_head.'),
    });
    expect(r.unexpected.sort()).toEqual([
      'contrastive_head.0.bias',
      'contrastive_head.0.weight',
      'contrastive_head.2.bias',
      'contrastive_head.2.weight',
    ]);
    expect(r.missing.sort()).toEqual(['cluster_head.0.bias', 'cluster_head.0.weight']);
    const x = toTensor(expected.tensors.input_cifar) as tf.Tensor4D;
    const f = m.frozenFeatures(x);
    expect(maxAbsDiff(f.dataSync(), expected.tensors.pretext_features_eval.data as Float32Array)).toBeLessThan(1e-5);
    tf.dispose([x, f]);
    m.dispose();
  });
});

describe('frozen backbone (update_cluster_head_only)', () => {
  it('trains only the heads and leaves backbone weights and BN statistics untouched', () => {
    const m = createClusteringModel(tiny, { numClusters: 3, numHeads: 2 }, 3);
    const x = tf.randomNormal([4, 8, 8, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const snapshot = stateDict(m);
    m.setBackboneTrainable(false);
    const features = m.frozenFeatures(x);
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.square(tf.concat(m.applyHeads(features), 1))) as tf.Scalar,
    );
    const headVarNames = new Set(m.clusterHeads.flatMap((h) => [...h.parameters().values()].map((v) => v.name)));
    expect(new Set(Object.keys(grads))).toEqual(headVarNames);
    const after = stateDict(m);
    for (const k of Object.keys(snapshot)) expect(after[k].data, k).toEqual(snapshot[k].data);
    m.setBackboneTrainable(true);
    tf.dispose([value, grads, features, x]);
    m.dispose();
  });
});

describe('heads', () => {
  it('contrastive head output is L2-normalised; cluster heads follow nn.Linear init bounds', () => {
    const h = createContrastiveHead(16, 8, 4, 0);
    const y = h.apply(tf.randomNormal([3, 16], 0, 1, 'float32', 3) as tf.Tensor2D);
    const norms = tf.norm(y, 'euclidean', 1).dataSync();
    for (const n of norms) expect(n).toBeCloseTo(1, 5);
    const heads = createClusterHeads(100, 10, 2, 0);
    const w = heads[0].parameters().get('weight')!.dataSync();
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(0.1); // 1/sqrt(100)
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.09);
    expect(Array.from(w)).not.toEqual(Array.from(heads[1].parameters().get('weight')!.dataSync()));
    tf.dispose(y);
    h.dispose();
    heads.forEach((x) => x.dispose());
  });
});
