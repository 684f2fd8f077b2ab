// Guard: a full ResNet-18 (CIFAR variant) training step's gradients on wasm, where our conv2d gradient kernels,
// zero-copy Identity and heap-loop batch-norm run, agree with the cpu backend's reference kernels.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { batchNormTrain, initBackend, unsplitKernelFunc } from '@scan-repro/backend';
import { createBackbone } from '@scan-repro/models';
import { lcgFloats as lcg } from '@scan-repro/test-utils';

const batch = 4,
  width = 8,
  seed = 7;

/** Gradients of one training-mode step (loss = features . r + mean(features^2)) for every backbone parameter. */
async function stepGradients(backend: 'cpu' | 'wasm'): Promise<Map<string, Float32Array>> {
  await initBackend({ name: backend, quiet: true });
  const model = createBackbone({ name: 'resnet18_cifar', width }, seed);
  const params = model.parameters();
  const x = tf.tensor4d(lcg(batch * 32 * 32 * 3, 1), [batch, 32, 32, 3]);
  const r = tf.tensor2d(lcg(batch * model.featureDim, 2), [batch, model.featureDim]);
  const { value, grads } = tf.variableGrads(() => {
    const f = model.apply(x, true);
    return tf.add(tf.sum(tf.mul(f, r)), tf.mean(tf.square(f))) as tf.Scalar;
  }, [...params.values()]);
  const out = new Map<string, Float32Array>();
  for (const [name, v] of params) out.set(name, grads[v.name]!.dataSync() as Float32Array);
  tf.dispose([value, x, r, ...Object.values(grads)]);
  model.dispose();
  return out;
}

describe('backend guard: ResNet-18 training step on wasm vs cpu', () => {
  test('every parameter gradient agrees (relative 1e-3 of its largest entry)', async () => {
    const reference = await stepGradients('cpu');
    const actual = await stepGradients('wasm');
    // our kernels were the ones in use on wasm
    expect(unsplitKernelFunc('Conv2DBackpropFilter')?.name).toBe('conv2DBackpropFilterWasm');
    expect(unsplitKernelFunc('Conv2DBackpropInput')?.name).toBe('conv2DBackpropInputWasm');
    expect(actual.size).toBe(reference.size);
    expect(reference.size).toBe(60); // 17 convs + 3 shortcut convs, 20 batch-norms (weight, bias)
    const worst: [string, number][] = [];
    for (const [name, ref] of reference) {
      const got = actual.get(name)!;
      let diff = 0,
        scale = 0;
      for (let i = 0; i < ref.length; i++) {
        diff = Math.max(diff, Math.abs(got[i]! - ref[i]!));
        scale = Math.max(scale, Math.abs(ref[i]!));
      }
      expect(scale, `${name} has a zero gradient`).toBeGreaterThan(0);
      worst.push([name, diff / scale]);
    }
    worst.sort((a, b) => b[1] - a[1]);
    expect(
      worst[0]![1],
      `worst: ${worst
        .slice(0, 3)
        .map(([n, e]) => `${n} ${e.toExponential(1)}`)
        .join(', ')}`,
    ).toBeLessThan(1e-3);
  });

  test('models use the fused batch-norm: its gradient matches tfjs composite ops at ResNet scale', async () => {
    // one 32x32 activation of the first stage, as in the step above
    const run = (fused: boolean) => async () => {
      await initBackend({ name: 'wasm', quiet: true });
      return tf.tidy(() => {
        const x = tf.tensor4d(lcg(batch * 32 * 32 * width, 3), [batch, 32, 32, width]);
        const g = tf.tensor1d(lcg(width, 4)),
          b = tf.tensor1d(lcg(width, 5));
        const r = tf.tensor4d(lcg(batch * 32 * 32 * width, 6), x.shape);
        const f = (...[a]: tf.Tensor[]) => {
          if (fused) return tf.sum(tf.mul(batchNormTrain(a!, g, b).y, r));
          const { mean, variance } = tf.moments(a!, [0, 1, 2]);
          return tf.sum(tf.mul(tf.batchNorm(a!, mean, variance, b, g, 1e-5), r));
        };
        return tf.grad(f)(x).dataSync();
      });
    };
    const composite = await run(false)(),
      fused = await run(true)();
    let diff = 0,
      scale = 0;
    for (let i = 0; i < composite.length; i++) {
      diff = Math.max(diff, Math.abs(fused[i]! - composite[i]!));
      scale = Math.max(scale, Math.abs(composite[i]!));
    }
    expect(diff / scale).toBeLessThan(1e-4);
  });
});
