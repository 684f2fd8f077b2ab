import { join } from 'node:path';
import '@scan-repro/dataset-cifar10';
import { initBackend } from '@scan-repro/backend';
import { composeConfig, RunFolder } from '@scan-repro/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { runPretext } from '../src/index';
import { tempDir } from '@scan-repro/test-utils';

const args = [
  'profile=ci',
  'dataset.max_train=1024',
  'dataset.max_val=500',
  'pretext.batch_size=128',
  'pretext.knn_k=20',
  'pretext.lr=0.1',
  'pretext.lr_min=0.0001',
  'pretext.checkpoint_every=0',
];

describe('SimCLR learns on real CIFAR-10', () => {
  const root = tempDir('pretext-learn');
  beforeAll(async () => {
    await initBackend({ name: 'wasm', quiet: true });
  });

  it('kNN accuracy after 8 short epochs is well above chance and clearly above the untrained network', async () => {
    const accuracy = async (epochs: number) => {
      const config = composeConfig([...args, `pretext.epochs=${epochs}`]);
      const run = await RunFolder.create({ dir: join(root, `e${epochs}`), stage: 'pretext', config });
      return (await runPretext(config, run, {})).metrics.knn_accuracy;
    };
    const init = await accuracy(0);
    const trained = await accuracy(8);
    expect(init).toBeGreaterThan(0.1); // random conv features already beat chance a little
    expect(trained).toBeGreaterThanOrEqual(0.24);
    expect(trained - init).toBeGreaterThanOrEqual(0.05);
  }, 400_000);
});
