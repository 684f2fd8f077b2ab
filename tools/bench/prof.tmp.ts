import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@scan-repro/backend';
import { createBackbone } from '@scan-repro/models';
const width = Number(process.argv[2] ?? 16), batch = Number(process.argv[3] ?? 64);
await initBackend({ name: 'wasm', quiet: true });
const bb = createBackbone({ name: 'resnet18_cifar', width }, 1);
const params = [...bb.parameters().values()];
const x = tf.randomNormal([batch, 32, 32, 3]) as tf.Tensor4D;
const opt = tf.train.sgd(0.01);
function step() { const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(bb.apply(x, true))) as tf.Scalar, params); opt.applyGradients(grads); tf.dispose([value, ...Object.values(grads)]); }
step();
const p = await tf.profile(() => { step(); return undefined as any; });
const by = new Map<string, number>();
for (const k of p.kernels) by.set(k.name, (by.get(k.name) ?? 0) + (k.kernelTimeMs as number));
const total = [...by.entries()].filter(([k]) => k !== 'unnamed scope').reduce((a, b) => a + b[1], 0);
console.log('kernel total (excl. scopes)', total.toFixed(0), 'ms');
for (const [k, v] of [...by.entries()].sort((a, b) => b[1] - a[1]).slice(0, 14)) console.log(k.padEnd(24), v.toFixed(1), (100 * v / total).toFixed(1) + '%');
