// ResNet backbones with PyTorch state-dict names:
// - resnet18_cifar: official SCAN `models/resnet_cifar.py` (3×3 s1 stem, no max-pool, BasicBlocks with
//   `shortcut.0/1` projection, adaptive average pool).
// - resnet18_stl: official SCAN `models/resnet_stl.py` (same, plus MaxPool2d(k2, s2, p1) after the stem and
//   AvgPool2d(7, stride 1) at the end; a 96×96 input reaches layer4 at 7×7, so that pool is global).
// - resnet50: torchvision layout (7×7 s2 stem, MaxPool2d(3, 2, 1), Bottlenecks with the stride on the 3×3
//   conv (v1.5), `downsample.0/1` projection, fc replaced by Identity → 8·width·4 features).
// All convs use kaiming_normal_(mode='fan_out', nonlinearity='relu') and BN γ=1, β=0, as both the official
// SCAN files and torchvision do.
import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '@scan-repro/core';
import {
  createBatchNorm2d,
  createConv2d,
  maxPool2d,
  VariableStore,
  type BatchNorm2d,
  type Conv2d,
  type Rng,
} from './layers';

export type BackboneName = 'resnet18_cifar' | 'resnet18_stl' | 'resnet50';

export interface BackboneConfig {
  name: BackboneName;
  /** Base channel count (64 = paper). Stages use width, 2·width, 4·width, 8·width (×4 for Bottlenecks). */
  width: number;
  /** Blocks per stage; default [2,2,2,2] for ResNet-18, [3,4,6,3] for ResNet-50. */
  blocks?: number[];
}

export interface Backbone {
  readonly name: BackboneName;
  readonly featureDim: number;
  /** x: NHWC float32, normalised. training=true uses batch statistics and updates the BN running statistics. */
  apply(x: tf.Tensor4D, training: boolean): tf.Tensor2D;
  /** Trainable weights by PyTorch name (conv weights in HWIO here; state dicts convert to OIHW). */
  parameters(): Map<string, tf.Variable>;
  /** BN running_mean / running_var / num_batches_tracked by PyTorch name. */
  buffers(): Map<string, tf.Variable>;
  dispose(): void;
}

const DEFAULT_BLOCKS: Record<BackboneName, number[]> = {
  resnet18_cifar: [2, 2, 2, 2],
  resnet18_stl: [2, 2, 2, 2],
  resnet50: [3, 4, 6, 3],
};

interface Block {
  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D;
}

function convBn(
  store: VariableStore,
  rng: Rng,
  convName: string,
  bnName: string,
  inChannels: number,
  outChannels: number,
  kernel: number,
  stride: number,
  padding: number,
): { conv: Conv2d; bn: BatchNorm2d } {
  const conv = createConv2d(store, rng, convName, {
    inChannels,
    outChannels,
    kernel,
    stride,
    padding,
    init: 'kaiming_normal_fan_out',
  });
  const bn = createBatchNorm2d(store, bnName, outChannels);
  return { conv, bn };
}

/** resnet_cifar.py / resnet_stl.py BasicBlock; the projection is named `shortcut.0` (conv) / `shortcut.1` (BN). */
function basicBlock(
  store: VariableStore,
  rng: Rng,
  prefix: string,
  inPlanes: number,
  planes: number,
  stride: number,
): Block {
  const a = convBn(store, rng, `${prefix}.conv1`, `${prefix}.bn1`, inPlanes, planes, 3, stride, 1);
  const b = convBn(store, rng, `${prefix}.conv2`, `${prefix}.bn2`, planes, planes, 3, 1, 1);
  const shortcut =
    stride !== 1 || inPlanes !== planes
      ? convBn(store, rng, `${prefix}.shortcut.0`, `${prefix}.shortcut.1`, inPlanes, planes, 1, stride, 0)
      : null;
  return {
    apply(x, training) {
      return tf.tidy(() => {
        let out = tf.relu(a.bn.apply(a.conv.apply(x), training));
        out = b.bn.apply(b.conv.apply(out), training);
        const identity = shortcut ? shortcut.bn.apply(shortcut.conv.apply(x), training) : x;
        return tf.relu(tf.add(out, identity)) as tf.Tensor4D;
      });
    },
  };
}

/** torchvision Bottleneck (v1.5: stride on conv2); the projection is named `downsample.0` / `downsample.1`. */
function bottleneck(
  store: VariableStore,
  rng: Rng,
  prefix: string,
  inPlanes: number,
  planes: number,
  stride: number,
): Block {
  const expansion = 4;
  const a = convBn(store, rng, `${prefix}.conv1`, `${prefix}.bn1`, inPlanes, planes, 1, 1, 0);
  const b = convBn(store, rng, `${prefix}.conv2`, `${prefix}.bn2`, planes, planes, 3, stride, 1);
  const c = convBn(store, rng, `${prefix}.conv3`, `${prefix}.bn3`, planes, planes * expansion, 1, 1, 0);
  const downsample =
    stride !== 1 || inPlanes !== planes * expansion
      ? convBn(
          store,
          rng,
          `${prefix}.downsample.0`,
          `${prefix}.downsample.1`,
          inPlanes,
          planes * expansion,
          1,
          stride,
          0,
        )
      : null;
  return {
    apply(x, training) {
      return tf.tidy(() => {
        let out = tf.relu(a.bn.apply(a.conv.apply(x), training));
        out = tf.relu(b.bn.apply(b.conv.apply(out), training));
        out = c.bn.apply(c.conv.apply(out), training);
        const identity = downsample ? downsample.bn.apply(downsample.conv.apply(x), training) : x;
        return tf.relu(tf.add(out, identity)) as tf.Tensor4D;
      });
    },
  };
}

function validateConfig(cfg: BackboneConfig): number[] {
  if (!(cfg.name in DEFAULT_BLOCKS)) {
    throw new Error(
      `backbone.name: unknown backbone '${String(cfg.name)}', expected one of ${Object.keys(DEFAULT_BLOCKS).join(', ')}`,
    );
  }
  if (!Number.isInteger(cfg.width) || cfg.width < 1) {
    throw new Error(`backbone.width: expected a positive integer (64 = paper), got ${String(cfg.width)}`);
  }
  const blocks = cfg.blocks ?? DEFAULT_BLOCKS[cfg.name];
  if (!Array.isArray(blocks) || blocks.length !== 4 || !blocks.every((b) => Number.isInteger(b) && b >= 1)) {
    throw new Error(
      `backbone.blocks: expected 4 positive integers (e.g. [2,2,2,2]), got ${JSON.stringify(cfg.blocks)}`,
    );
  }
  return blocks;
}

/**
 * Builds a backbone with seeded PyTorch-style initialisation. The same (cfg, seed) always gives the same
 * weights; each weight draws from its own Rng fork (labelled by its name), so changing `blocks` leaves the
 * weights of the shared layers unchanged.
 */
export function createBackbone(cfg: BackboneConfig, seed: number): Backbone {
  const blocks = validateConfig(cfg);
  const rng = createRng(seed);
  const store = new VariableStore();
  const w = cfg.width;
  const stl = cfg.name === 'resnet18_stl';
  const isResnet50 = cfg.name === 'resnet50';

  const stem = isResnet50
    ? convBn(store, rng, 'conv1', 'bn1', 3, w, 7, 2, 3)
    : convBn(store, rng, 'conv1', 'bn1', 3, w, 3, 1, 1);

  const stages: Block[][] = [];
  let inPlanes = w;
  const planesPerStage = [w, 2 * w, 4 * w, 8 * w];
  for (let s = 0; s < 4; s++) {
    const stage: Block[] = [];
    for (let i = 0; i < blocks[s]; i++) {
      const stride = i === 0 && s > 0 ? 2 : 1;
      const prefix = `layer${s + 1}.${i}`;
      if (isResnet50) {
        stage.push(bottleneck(store, rng, prefix, inPlanes, planesPerStage[s], stride));
        inPlanes = planesPerStage[s] * 4;
      } else {
        stage.push(basicBlock(store, rng, prefix, inPlanes, planesPerStage[s], stride));
        inPlanes = planesPerStage[s];
      }
    }
    stages.push(stage);
  }
  const featureDim = inPlanes;

  return {
    name: cfg.name,
    featureDim,
    apply(x, training) {
      if (x.rank !== 4 || x.shape[3] !== 3) {
        throw new Error(
          `${cfg.name}.apply: expected an NHWC float32 batch [n, h, w, 3], got shape [${x.shape.join(', ')}]`,
        );
      }
      return tf.tidy(() => {
        let out = tf.relu(stem.bn.apply(stem.conv.apply(x), training));
        if (isResnet50) out = maxPool2d(out, 3, 2, 1);
        else if (stl) out = maxPool2d(out, 2, 2, 1);
        for (const stage of stages) for (const block of stage) out = block.apply(out, training);
        // CIFAR: AdaptiveAvgPool2d(1). STL: AvgPool2d(7, stride=1), which on the 7×7 map of a 96×96 input is
        // the same global mean. For other STL input sizes the official code breaks (map < 7) or changes the
        // feature dimension (map > 7); we take the global mean so featureDim stays 8·width.
        const [n, , , c] = out.shape;
        return tf.reshape(tf.mean(out, [1, 2]), [n, c]) as tf.Tensor2D;
      });
    },
    parameters: () => new Map(store.parameters),
    buffers: () => new Map(store.buffers),
    dispose: () => store.dispose(),
  };
}
