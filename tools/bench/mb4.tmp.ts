import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@scan-repro/backend';
await initBackend({ name: 'wasm', quiet: true });
function time(name: string, fn: () => tf.Tensor) { tf.dispose(fn()); const t0 = performance.now(); const n = 3; for (let i = 0; i < n; i++) { const r = fn(); r.dispose(); } return (performance.now() - t0) / n; }
for (const [n, h, c, s] of [[32, 32, 64, 1], [32, 16, 128, 1], [32, 8, 256, 1], [32, 4, 512, 1], [32, 32, 64, 2]] as const) {
  const co = c * s;
  const x = tf.randomNormal([n, h, h, c]) as tf.Tensor4D;
  const f = tf.randomNormal([3, 3, c, co]) as tf.Tensor4D;
  const y = tf.conv2d(x, f, s, [[0,0],[1,1],[1,1],[0,0]]);
  const dy = tf.randomNormal(y.shape) as tf.Tensor4D;
  const pad = [[0,0],[1,1],[1,1],[0,0]];
  const fwd = time('fwd', () => tf.conv2d(x, f, s, pad as any));
  const fg = time('fg', () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [s, s], pad, dataFormat: 'NHWC', filterShape: f.shape }) as tf.Tensor);
  const ig = time('ig', () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { strides: [s, s], pad, dataFormat: 'NHWC', inputShape: x.shape }) as tf.Tensor);
  const tx = time('tx', () => tf.transpose(x, [3, 1, 2, 0]));
  const tdy = time('tdy', () => tf.transpose(dy, [1, 2, 0, 3]));
  console.log(`x ${x.shape} s${s}: fwd ${fwd.toFixed(0)} fg ${fg.toFixed(0)} (tx ${tx.toFixed(0)} tdy ${tdy.toFixed(0)}) ig ${ig.toFixed(0)} ms`);
  tf.dispose([x, f, y, dy]);
}
