import * as tf from '@tensorflow/tfjs-core';
import { composeConfig } from '@scan-repro/core';
import { initBackend } from '@scan-repro/backend';
import { createOptimizer } from '@scan-repro/train';
import { simclrStep, createPretextContrastiveModel } from '@scan-repro/pretext';
const b = await initBackend({ name: (process.env.BK as any) ?? 'wasm' });
for (const [width, batch, micro] of [[8, 64, 0], [16, 128, 0], [16, 128, 32], [64, 32, 0]] as const) {
  const cfg = composeConfig(['profile=ci', `backbone.width=${width}`]);
  const model = createPretextContrastiveModel(cfg, 1);
  const opt = createOptimizer(cfg.pretext, model.parameters());
  const n = batch * 32 * 32 * 3;
  const v1 = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
  const v2 = Float32Array.from({ length: n }, (_, i) => Math.cos(i));
  simclrStep(model, opt, { view1: v1, view2: v2, shape: [batch, 32, 32, 3] }, { temperature: 0.1, microBatch: micro, lr: 0.1 });
  const before = tf.memory().numTensors;
  const t0 = performance.now();
  const steps = 3;
  for (let s = 0; s < steps; s++) simclrStep(model, opt, { view1: v1, view2: v2, shape: [batch, 32, 32, 3] }, { temperature: 0.1, microBatch: micro, lr: 0.1 });
  const dt = (performance.now() - t0) / 1000;
  console.log(`${b.name} width ${width} batch ${batch} micro ${micro}: ${(steps * batch / dt).toFixed(1)} images/s (${(2 * steps * batch / dt).toFixed(1)} views/s), tensors ${before} -> ${tf.memory().numTensors}`);
  model.dispose(); opt.dispose();
}
