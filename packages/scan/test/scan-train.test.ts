import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '@scan-repro/core';
import { initBackend } from '@scan-repro/backend';
import { createClusterHeads, createClusteringModel } from '@scan-repro/models';
import { createOptimizer } from '@scan-repro/train';
import { argmaxRows, hungarianAccuracy } from '@scan-repro/metrics';
import { evaluateHeads, updateBestHead } from '../src/scan-validate';
import { scanHeadsStep } from '../src/scan-step';
import { scanStep } from '../src';
import { trueNeighbors } from './synthetic-runs';

beforeAll(async () => {
  await initBackend({ name: 'wasm', quiet: true });
});

const adam = (lr: number) => ({ optimizer: 'adam' as const, lr, momentum: 0.9, nesterov: false, weight_decay: 0 });

/** n points per class around C random centres in d dimensions (centres ~N(0, 3²), noise N(0, 1)). */
function gaussianBlobs(c: number, perClass: number, d: number, seed: number): { x: Float32Array; labels: Int32Array } {
  const rng = createRng(seed);
  const centres = Array.from({ length: c }, () => Array.from({ length: d }, () => 3 * rng.normal()));
  const n = c * perClass;
  const x = new Float32Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % c;
    for (let j = 0; j < d; j++) x[i * d + j] = centres[labels[i]][j] + rng.normal();
  }
  return { x, labels };
}

describe('SCAN learning on fixed features (cluster heads only, the update_cluster_head_only step)', () => {
  it('reaches >= 95% Hungarian accuracy on Gaussian blobs with true neighbours', () => {
    const C = 5,
      D = 16,
      K = 10,
      perClass = 60,
      batch = 60;
    const { x, labels } = gaussianBlobs(C, perClass, D, 11);
    const n = labels.length;
    const neighbors = trueNeighbors(labels, K, 12);
    const heads = createClusterHeads(D, C, 1, 13);
    const params = new Map(
      heads.flatMap((h, i) =>
        [...h.parameters()].map(([k, v]) => [`cluster_head.${i}.${k}`, v] as [string, tf.Variable]),
      ),
    );
    const optimizer = createOptimizer(adam(0.01), params);
    const rng = createRng(14);
    const accuracy = () => {
      const probs = tf.tidy(() => tf.softmax(heads[0].apply(tf.tensor2d(x, [n, D]))).dataSync() as Float32Array);
      return hungarianAccuracy(argmaxRows(probs, n), labels, C, C);
    };
    const before = accuracy();
    let last = { entropy: [0] };
    for (let epoch = 0; epoch < 25; epoch++) {
      const order = Array.from({ length: n }, (_, i) => i);
      rng.shuffle(order);
      for (let s = 0; s + batch <= n; s += batch) {
        const a = new Float32Array(batch * D);
        const nb = new Float32Array(batch * D);
        for (let b = 0; b < batch; b++) {
          const i = order[s + b];
          const j = neighbors[i * (K + 1) + rng.int(K + 1)];
          a.set(x.subarray(i * D, (i + 1) * D), b * D);
          nb.set(x.subarray(j * D, (j + 1) * D), b * D);
        }
        const at = tf.tensor2d(a, [batch, D]);
        const nt = tf.tensor2d(nb, [batch, D]);
        last = scanHeadsStep(heads, optimizer, at, nt, { entropyWeight: 5 });
        tf.dispose([at, nt]);
      }
    }
    const after = accuracy();
    console.log(`SCAN learning test: Hungarian accuracy ${(100 * before).toFixed(1)}% -> ${(100 * after).toFixed(1)}%`);
    expect(after).toBeGreaterThanOrEqual(0.95);
    // the entropy term keeps the clusters balanced: batch-mean entropy close to log C
    expect(last.entropy[0]).toBeGreaterThan(Math.log(C) - 0.1);
    optimizer.dispose();
    heads.forEach((h) => h.dispose());
  });
});

describe('best-head selection', () => {
  it('picks the head with the lowest validation SCAN loss (consistent one-hot head beats a uniform and a collapsed head)', () => {
    const C = 4,
      n = 40,
      kv = 3;
    const labels = Int32Array.from({ length: n }, (_, i) => i % C);
    const nb = trueNeighbors(labels, kv, 5);
    const onehot = new Float32Array(n * C);
    const uniform = new Float32Array(n * C).fill(1 / C);
    const collapsed = new Float32Array(n * C);
    for (let i = 0; i < n; i++) {
      onehot[i * C + ((labels[i] + 1) % C)] = 1; // a permutation of the classes: perfect clustering
      collapsed[i * C] = 1;
    }
    const ev = evaluateHeads([uniform, collapsed, onehot], nb, labels, C);
    // hand values: uniform: consistency log C, entropy log C -> 0; collapsed: consistency 0, entropy ~0;
    // consistent one-hot: consistency 0, entropy log C -> -log C
    expect(ev.loss[0]).toBeCloseTo(0, 6);
    expect(ev.loss[1]).toBeCloseTo(0, 5); // the 1e-8 clamp of empty clusters gives 3·1e-8·18.4
    expect(ev.loss[2]).toBeCloseTo(-Math.log(C), 6);
    expect(ev.accuracy[2]).toBe(1);
    const { best } = updateBestHead(null, ev.loss, 1);
    expect(best).toEqual({ head: 2, epoch: 1, loss: ev.loss[2] });
    // a later epoch with a higher lowest loss does not replace it; a lower one does
    expect(updateBestHead(best, [0.5, -0.1], 2).improved).toBe(false);
    const next = updateBestHead(best, [-1, -Math.log(C) - 0.01], 3);
    expect(next.best).toEqual({ head: 1, epoch: 3, loss: -Math.log(C) - 0.01 });
  });
});

describe('scanStep', () => {
  const x = () => tf.randomNormal([6, 8, 8, 3], 0, 1, 'float32', 3) as tf.Tensor4D;

  it('update_cluster_head_only: backbone weights and BN running statistics unchanged, heads changed', () => {
    const model = createClusteringModel({ name: 'resnet18_cifar', width: 4 }, { numClusters: 3, numHeads: 2 }, 1);
    model.setBackboneTrainable(false);
    const heads = new Map([...model.parameters()].filter(([k]) => k.startsWith('cluster_head.')));
    const optimizer = createOptimizer(adam(0.05), heads);
    const snap = (m: Map<string, tf.Variable>) => new Map([...m].map(([k, v]) => [k, Array.from(v.dataSync())]));
    const all = new Map([...model.parameters(), ...model.buffers()]);
    const before = snap(all);
    const a = x();
    const b = tf.add(a, 0.1) as tf.Tensor4D;
    for (let s = 0; s < 3; s++)
      scanStep(model, optimizer, a, b, { entropyWeight: 5, microBatch: 4, updateClusterHeadOnly: true });
    const after = snap(all);
    let headsChanged = 0;
    for (const [k, v] of before) {
      if (k.startsWith('cluster_head.')) headsChanged += v.some((u, i) => u !== after.get(k)![i]) ? 1 : 0;
      else expect(after.get(k), k).toEqual(v);
    }
    expect(headsChanged).toBe(4); // weight + bias of both heads
    tf.dispose([a, b]);
    optimizer.dispose();
    model.dispose();
  });

  it('full network: backbone and BN statistics change; no tensor leaks across steps', () => {
    const model = createClusteringModel({ name: 'resnet18_cifar', width: 4 }, { numClusters: 3, numHeads: 1 }, 2);
    const optimizer = createOptimizer({ ...adam(0.01), weight_decay: 1e-4 }, model.parameters());
    const a = x();
    const b = tf.mul(a, 0.9) as tf.Tensor4D;
    const conv = model.parameters().get('backbone.conv1.weight')!;
    const rm = model.buffers().get('backbone.bn1.running_mean')!;
    const conv0 = Array.from(conv.dataSync());
    const rm0 = Array.from(rm.dataSync());
    const counts: number[] = [];
    for (let s = 0; s < 4; s++) {
      const r = scanStep(model, optimizer, a, b, { entropyWeight: 5, microBatch: 3, updateClusterHeadOnly: false });
      expect(Number.isFinite(r.total)).toBe(true);
      counts.push(tf.memory().numTensors);
    }
    expect(Array.from(conv.dataSync())).not.toEqual(conv0);
    expect(Array.from(rm.dataSync())).not.toEqual(rm0);
    // step 1 creates the optimizer's slots; from then on the count must not grow
    expect(counts[3]).toBe(counts[1]);
    for (let s = 0; s < 2; s++)
      scanStep(model, optimizer, a, b, { entropyWeight: 5, microBatch: 0, updateClusterHeadOnly: true });
    const frozenCount = tf.memory().numTensors;
    scanStep(model, optimizer, a, b, { entropyWeight: 5, microBatch: 0, updateClusterHeadOnly: true });
    expect(tf.memory().numTensors).toBe(frozenCount);
    tf.dispose([a, b]);
    optimizer.dispose();
    model.dispose();
  });
});
