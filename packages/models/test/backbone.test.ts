import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@scan-repro/backend';
import { createBackbone, stateDict } from '../src/index';

beforeAll(async () => {
  await initBackend({ name: 'cpu', quiet: true });
});

function countParams(m: Map<string, tf.Variable>): number {
  let n = 0;
  for (const v of m.values()) n += v.size;
  return n;
}

describe('createBackbone', () => {
  it('resnet18_cifar at paper width has the official parameter count and names', () => {
    const b = createBackbone({ name: 'resnet18_cifar', width: 64 }, 1);
    // torch: sum(p.numel() for p in resnet_cifar.resnet18()['backbone'].parameters()) = 11,168,832
    expect(countParams(b.parameters())).toBe(11_168_832);
    expect(b.featureDim).toBe(512);
    const names = [...b.parameters().keys()];
    expect(names.slice(0, 3)).toEqual(['conv1.weight', 'bn1.weight', 'bn1.bias']);
    expect(names).toContain('layer2.0.shortcut.0.weight');
    expect(names).toContain('layer2.0.shortcut.1.weight');
    expect(names).not.toContain('layer1.0.shortcut.0.weight');
    expect(b.buffers().get('layer4.1.bn2.running_var')!.shape).toEqual([512]);
    expect(stateDict(b)['layer2.0.conv1.weight'].shape).toEqual([128, 64, 3, 3]);
    b.dispose();
  });

  it('resnet50 at paper width matches torchvision resnet50 without fc (23,508,032 parameters)', () => {
    const b = createBackbone({ name: 'resnet50', width: 64 }, 1);
    expect(countParams(b.parameters())).toBe(23_508_032);
    expect(b.featureDim).toBe(2048);
    expect([...b.parameters().keys()]).toContain('layer1.0.downsample.0.weight');
    b.dispose();
  });

  it('is deterministic in the seed and follows kaiming_normal(fan_out) init', () => {
    const a = createBackbone({ name: 'resnet18_cifar', width: 16 }, 7);
    const b = createBackbone({ name: 'resnet18_cifar', width: 16 }, 7);
    const c = createBackbone({ name: 'resnet18_cifar', width: 16 }, 8);
    const w = (m: typeof a) => m.parameters().get('layer3.0.conv1.weight')!.dataSync();
    expect(Array.from(w(a))).toEqual(Array.from(w(b)));
    expect(Array.from(w(a))).not.toEqual(Array.from(w(c)));
    // fan_out = 64 · 3 · 3 → std = sqrt(2 / 576)
    const v = w(a) as Float32Array;
    const std = Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
    expect(std).toBeGreaterThan(Math.sqrt(2 / 576) * 0.95);
    expect(std).toBeLessThan(Math.sqrt(2 / 576) * 1.05);
    for (const m of [a, b, c]) m.dispose();
  });

  it('rejects bad configs with the key and value', () => {
    expect(() => createBackbone({ name: 'resnet34' as never, width: 64 }, 0)).toThrow(/backbone.name.*resnet34/);
    expect(() => createBackbone({ name: 'resnet18_cifar', width: 0 }, 0)).toThrow(/backbone.width.*0/);
    expect(() => createBackbone({ name: 'resnet18_cifar', width: 8, blocks: [2, 2] }, 0)).toThrow(/backbone.blocks/);
  });

  it('creating and disposing a model leaves no tensor behind (one tensor per variable while alive)', () => {
    const start = tf.memory().numTensors;
    const b = createBackbone({ name: 'resnet18_cifar', width: 2 }, 1);
    expect(tf.memory().numTensors - start).toBe(b.parameters().size + b.buffers().size);
    b.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('training forward updates running stats without leaking tensors', () => {
    const b = createBackbone({ name: 'resnet50', width: 2, blocks: [1, 1, 1, 1] }, 3);
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const step = () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(b.apply(x, true)) as tf.Scalar);
      value.dispose();
      tf.dispose(grads);
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    tf.tidy(() => b.apply(x, false)).dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(b.buffers().get('bn1.num_batches_tracked')!.dataSync()[0]).toBe(4);
    const out = b.apply(x, true);
    expect(out.shape).toEqual([2, 64]);
    out.dispose();
    x.dispose();
    b.dispose();
  });
});
