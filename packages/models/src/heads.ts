// Heads from the official SCAN `models/models.py`.
import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '@scan-repro/core';
import { createLinear, l2Normalize, VariableStore, type Linear } from './layers';

/** nn.Sequential(Linear(in, hidden), ReLU, Linear(hidden, out)) followed by F.normalize(dim=1). */
export interface ContrastiveHead {
  readonly inDim: number;
  readonly outDim: number;
  apply(features: tf.Tensor2D): tf.Tensor2D;
  /** `0.weight`, `0.bias`, `2.weight`, `2.bias` (Sequential indices; weights [in, out] here). */
  parameters(): Map<string, tf.Variable>;
  dispose(): void;
}

export function createContrastiveHead(inDim: number, hidden: number, out: number, seed: number): ContrastiveHead {
  for (const [key, v] of [
    ['inDim', inDim],
    ['hidden', hidden],
    ['out', out],
  ] as const) {
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`createContrastiveHead: ${key} must be a positive integer, got ${String(v)}`);
  }
  const rng = createRng(seed);
  const store = new VariableStore();
  const fc1 = createLinear(store, rng, '0', inDim, hidden);
  const fc2 = createLinear(store, rng, '2', hidden, out);
  return {
    inDim,
    outDim: out,
    apply: (features) => tf.tidy(() => l2Normalize(fc2.apply(tf.relu(fc1.apply(features))))),
    parameters: () => new Map(store.parameters),
    dispose: () => store.dispose(),
  };
}

/** One nn.Linear(inDim, numClusters) per head; outputs are logits (softmax is the loss's job). */
export interface ClusterHead {
  readonly inDim: number;
  readonly numClusters: number;
  apply(features: tf.Tensor2D): tf.Tensor2D;
  /** `weight` ([in, out] here), `bias`. */
  parameters(): Map<string, tf.Variable>;
  dispose(): void;
}

export function createClusterHeads(inDim: number, numClusters: number, numHeads: number, seed: number): ClusterHead[] {
  for (const [key, v] of [
    ['inDim', inDim],
    ['numClusters', numClusters],
    ['numHeads', numHeads],
  ] as const) {
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`createClusterHeads: ${key} must be a positive integer, got ${String(v)}`);
  }
  const rng = createRng(seed);
  const heads: ClusterHead[] = [];
  for (let i = 0; i < numHeads; i++) {
    const store = new VariableStore();
    const linear: Linear = createLinear(store, rng.fork(`cluster_head.${i}`), '', inDim, numClusters);
    // createLinear names its variables `<name>.weight`; a bare head is just `weight` / `bias`.
    const params = new Map([...store.parameters].map(([k, v]) => [k.replace(/^\./, ''), v]));
    heads.push({
      inDim,
      numClusters,
      apply: (features) => linear.apply(features),
      parameters: () => new Map(params),
      dispose: () => store.dispose(),
    });
  }
  return heads;
}
