// Loads the PyTorch parity goldens written by tools/golden/models/make_goldens.py.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors, type NamedArray } from '@scan-repro/core';
import {
  ClusteringModel,
  ContrastiveModel,
  createBackbone,
  createClusterHeads,
  type Backbone,
  type NamedModule,
} from '../src/index';
import { createContrastiveHead } from '../src/heads';
import type { BackboneName } from '../src/resnet';
export { maxAbsDiff } from '@scan-repro/test-utils';

export interface GoldenConfig {
  model?: 'backbone' | 'contrastive' | 'clustering';
  backbone: BackboneName;
  width: number;
  blocks: number[];
  batch: number;
  input: number;
  hidden?: number;
  out?: number;
  num_clusters?: number;
  num_heads?: number;
}

export interface Golden {
  config: GoldenConfig;
  /** PyTorch's own float32 max abs error against the float64 golden, per quantity (out_train, running, out_eval). */
  torchF32Err: Record<string, number>;
  tensors: Record<string, NamedArray>;
  /** Entries under `prefix.` with the prefix removed. */
  group(prefix: string): Record<string, NamedArray>;
}

export function goldenPath(name: string): string {
  return fileURLToPath(new URL(`./goldens/${name}.safetensors`, import.meta.url));
}

export function readGolden(name: string): Golden {
  const path = goldenPath(name);
  const { tensors, metadata } = readSafetensors(new Uint8Array(readFileSync(path)), path);
  return {
    config: (metadata.config ? JSON.parse(metadata.config) : {}) as GoldenConfig,
    torchF32Err: JSON.parse(metadata.torch_f32_err ?? '{}') as Record<string, number>,
    tensors,
    group(prefix) {
      const out: Record<string, NamedArray> = {};
      for (const [k, v] of Object.entries(tensors)) if (k.startsWith(`${prefix}.`)) out[k.slice(prefix.length + 1)] = v;
      return out;
    },
  };
}

export type GoldenModel = NamedModule & {
  backbone: Backbone;
  run(x: tf.Tensor4D, training: boolean): tf.Tensor2D[];
  dispose(): void;
};

/** Builds our model for a golden's config (weights are loaded by the caller). */
export function buildGoldenModel(cfg: GoldenConfig): GoldenModel {
  const backbone = createBackbone({ name: cfg.backbone, width: cfg.width, blocks: cfg.blocks }, 0);
  if (cfg.model === 'contrastive') {
    const m = new ContrastiveModel(backbone, createContrastiveHead(backbone.featureDim, cfg.hidden!, cfg.out!, 0));
    return Object.assign(m, { run: (x: tf.Tensor4D, t: boolean) => [m.apply(x, t)] });
  }
  if (cfg.model === 'clustering') {
    const m = new ClusteringModel(
      backbone,
      createClusterHeads(backbone.featureDim, cfg.num_clusters!, cfg.num_heads!, 0),
    );
    return Object.assign(m, { run: (x: tf.Tensor4D, t: boolean) => m.apply(x, t) });
  }
  return {
    backbone,
    parameters: () => backbone.parameters(),
    buffers: () => backbone.buffers(),
    run: (x, t) => [backbone.apply(x, t)],
    dispose: () => backbone.dispose(),
  };
}

export function toTensor(a: NamedArray): tf.Tensor {
  return tf.tensor(a.data as Float32Array, a.shape, 'float32');
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
