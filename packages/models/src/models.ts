import type { ScanConfig } from '@scan-repro/core';
// ContrastiveModel / ClusteringModel from the official SCAN `models/models.py`, with its state-dict names:
// backbone.*, contrastive_head.{0,2}.*, cluster_head.<i>.*.
import * as tf from '@tensorflow/tfjs-core';
import { createBackbone, type Backbone, type BackboneConfig } from './resnet';
import { createClusterHeads, createContrastiveHead, type ClusterHead, type ContrastiveHead } from './heads';

/** Anything with PyTorch-named variables: what stateDict / loadStateDict / saveModel / loadModel work on. */
export interface NamedModule {
  parameters(): Map<string, tf.Variable>;
  buffers(): Map<string, tf.Variable>;
}

/** Pretext heads: weights a pretext file may carry that the clustering stages never load (they start from the backbone). */
export const PRETEXT_HEAD_PREFIXES = ['contrastive_head.', 'rotnet_head.'] as const;

/** Whether a state-dict key belongs to a pretext head (see PRETEXT_HEAD_PREFIXES). */
export function isPretextHeadKey(key: string): boolean {
  return PRETEXT_HEAD_PREFIXES.some((p) => key.startsWith(p));
}

function prefixed(prefix: string, m: Map<string, tf.Variable>): [string, tf.Variable][] {
  return [...m].map(([k, v]) => [`${prefix}${k}`, v]);
}

export class ContrastiveModel implements NamedModule {
  constructor(
    readonly backbone: Backbone,
    readonly contrastiveHead: ContrastiveHead,
  ) {
    if (contrastiveHead.inDim !== backbone.featureDim) {
      throw new Error(
        `ContrastiveModel: head input ${contrastiveHead.inDim} != backbone featureDim ${backbone.featureDim}`,
      );
    }
  }

  /** L2-normalised head output (what the contrastive loss sees). */
  apply(x: tf.Tensor4D, training: boolean): tf.Tensor2D {
    return tf.tidy(() => this.contrastiveHead.apply(this.backbone.apply(x, training)));
  }

  parameters(): Map<string, tf.Variable> {
    return new Map([
      ...prefixed('backbone.', this.backbone.parameters()),
      ...prefixed('contrastive_head.', this.contrastiveHead.parameters()),
    ]);
  }

  buffers(): Map<string, tf.Variable> {
    return new Map(prefixed('backbone.', this.backbone.buffers()));
  }

  dispose(): void {
    this.backbone.dispose();
    this.contrastiveHead.dispose();
  }
}

export class ClusteringModel implements NamedModule {
  constructor(
    readonly backbone: Backbone,
    readonly clusterHeads: ClusterHead[],
  ) {
    if (clusterHeads.length === 0) throw new Error('ClusteringModel: needs at least one cluster head');
    for (const h of clusterHeads) {
      if (h.inDim !== backbone.featureDim)
        throw new Error(`ClusteringModel: head input ${h.inDim} != backbone featureDim ${backbone.featureDim}`);
    }
  }

  /** Logits of every head (forward_pass='default'). */
  apply(x: tf.Tensor4D, training: boolean): tf.Tensor2D[] {
    return tf.tidy(() => this.applyHeads(this.backbone.apply(x, training)));
  }

  /** forward_pass='head': logits of every head from precomputed backbone features. */
  applyHeads(features: tf.Tensor2D): tf.Tensor2D[] {
    return tf.tidy(() => this.clusterHeads.map((h) => h.apply(features)));
  }

  /**
   * Backbone features for a frozen backbone (`update_cluster_head_only`): eval-mode BN (running statistics,
   * which are left untouched) and no gradient. Call it OUTSIDE the function given to tf.variableGrads and
   * pass the features in, so no tape records the backbone; the result is a fresh tensor the caller disposes.
   */
  frozenFeatures(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const features = this.backbone.apply(x, false);
      // A copy cut off from any active tape: gradients cannot flow into the backbone through it.
      return tf.tensor2d(features.dataSync() as Float32Array, features.shape as [number, number]);
    });
  }

  /** Excludes (false) or re-includes (true) the backbone weights from tf.variableGrads' default variable list. */
  setBackboneTrainable(trainable: boolean): void {
    for (const v of this.backbone.parameters().values()) v.trainable = trainable;
  }

  parameters(): Map<string, tf.Variable> {
    const heads = this.clusterHeads.flatMap((h, i) => prefixed(`cluster_head.${i}.`, h.parameters()));
    return new Map([...prefixed('backbone.', this.backbone.parameters()), ...heads]);
  }

  buffers(): Map<string, tf.Variable> {
    return new Map(prefixed('backbone.', this.backbone.buffers()));
  }

  dispose(): void {
    this.backbone.dispose();
    for (const h of this.clusterHeads) h.dispose();
  }
}

/** Backbone + contrastive head (Linear-ReLU-Linear-normalise); seeds of the parts are derived from `seed`. */
export function createContrastiveModel(
  backbone: BackboneConfig,
  head: { hidden: number; out: number },
  seed: number,
): ContrastiveModel {
  const b = createBackbone(backbone, seed);
  return new ContrastiveModel(b, createContrastiveHead(b.featureDim, head.hidden, head.out, seed + 1));
}

/** Backbone + numHeads linear cluster heads. */
export function createClusteringModel(
  backbone: BackboneConfig,
  heads: { numClusters: number; numHeads: number },
  seed: number,
): ClusteringModel {
  const b = createBackbone(backbone, seed);
  return new ClusteringModel(b, createClusterHeads(b.featureDim, heads.numClusters, heads.numHeads, seed + 2));
}

/** The pretext model a resolved config describes (backbone group + model group), as pretext, mine and eval build it.
 *  `model.contrastive_hidden` is already concrete here: 0 ("the backbone's feature size") is resolved by core. */
export function contrastiveModelFromConfig(
  config: Pick<ScanConfig, 'backbone' | 'model'>,
  seed: number,
): ContrastiveModel {
  return createContrastiveModel(
    config.backbone,
    { hidden: config.model.contrastive_hidden, out: config.model.contrastive_dim },
    seed,
  );
}
