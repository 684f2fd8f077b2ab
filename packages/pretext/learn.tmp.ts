import '@scan-repro/dataset-cifar10';
import { composeConfig, RunFolder } from '@scan-repro/core';
import { initBackend } from '@scan-repro/backend';
import { runPretext } from '@scan-repro/pretext';
await initBackend({ name: 'wasm', quiet: true });
const extra = process.argv.slice(2);
for (const epochs of [0, Number(process.env.EP ?? 6)]) {
  const cfg = composeConfig(['profile=ci', 'dataset.max_train=1000', 'dataset.max_val=500', 'pretext.batch_size=128', 'pretext.knn_k=20', `pretext.epochs=${epochs}`, 'pretext.checkpoint_every=0', ...extra]);
  const t0 = Date.now();
  const run = await RunFolder.create({ dir: `/tmp/scanw/learn-${epochs}`, stage: 'pretext', config: cfg, overwrite: true });
  const r = await runPretext(cfg, run, {});
  console.log('RESULT', epochs, JSON.stringify(r.metrics), (Date.now() - t0) / 1000);
}
