// The pretext stage end to end on real CIFAR-10 images (../shared/data, via the cifar10 dataset package).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import '@scan-repro/dataset-cifar10';
import { initBackend } from '@scan-repro/backend';
import { composeConfig, readSafetensors, RunFolder, type ScanConfig } from '@scan-repro/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { PretextInterrupted } from '../src/trained-method';
import { runPretext } from '../src/index';
import { tempDir } from '@scan-repro/test-utils';

const tiny = [
  'profile=ci',
  'backbone.width=4',
  'dataset.max_train=96',
  'dataset.max_val=48',
  'pretext.batch_size=32',
  'pretext.epochs=2',
  'pretext.knn_k=10',
  'mine.batch_size=96',
];

async function stage(config: ScanConfig, dir: string, opts = {}) {
  const run = await RunFolder.create({ dir, stage: 'pretext', config });
  const result = await runPretext(config, run, {}, opts);
  await run.complete({ ...result, backend: 'wasm' });
  return {
    result,
    tensors: readSafetensors(new Uint8Array(await readFile(join(dir, 'model.safetensors'))), dir).tensors,
  };
}

describe('runPretext', () => {
  const root = tempDir('pretext-stage');
  beforeAll(async () => {
    await initBackend({ name: 'wasm', quiet: true });
  });

  it.each(['simclr', 'moco', 'rotnet'])(
    '%s: an interrupted run resumes from its checkpoint to the same model as an uninterrupted one',
    async (method) => {
      const config = composeConfig([...tiny, `pretext=${method}`, 'pretext.moco_queue=64', ...tiny.slice(1)]);
      const whole = await stage(config, join(root, `${method}-whole`));
      expect(whole.result.metrics.epochs).toBe(2);
      expect(Number.isFinite(whole.result.metrics.loss)).toBe(true);
      expect(whole.result.metrics.knn_accuracy).toBeGreaterThanOrEqual(0);
      const head = method === 'rotnet' ? 'rotnet_head.weight' : 'contrastive_head.0.weight';
      expect(Object.keys(whole.tensors)).toContain('backbone.conv1.weight');
      expect(Object.keys(whole.tensors)).toContain(head);

      const dir = join(root, `${method}-cut`);
      const run = await RunFolder.create({ dir, stage: 'pretext', config });
      await expect(runPretext(config, run, {}, { stopAfterEpochs: 1 })).rejects.toThrow(PretextInterrupted);
      const resumed = await stage(config, dir);
      expect(resumed.result.metrics).toEqual(whole.result.metrics);
      for (const [name, t] of Object.entries(whole.tensors)) expect(resumed.tensors[name].data, name).toEqual(t.data);
    },
  );

  it('import: loads a safetensors state dict and writes the same weights as model.safetensors', async () => {
    const config = composeConfig([...tiny, 'pretext.epochs=1']);
    const trained = await stage(config, join(root, 'to-import'));
    const imported = composeConfig([
      ...tiny,
      'pretext=import',
      `pretext.weights=${join(root, 'to-import', 'model.safetensors')}`,
    ]);
    const out = await stage(imported, join(root, 'imported'));
    expect(out.result.metrics.imported_tensors).toBe(Object.keys(trained.tensors).length);
    for (const [name, t] of Object.entries(trained.tensors)) expect(out.tensors[name].data, name).toEqual(t.data);
    const missing = composeConfig([...tiny, 'pretext=import', `pretext.weights=${join(root, 'nope.safetensors')}`]);
    const run = await RunFolder.create({ dir: join(root, 'missing'), stage: 'pretext', config: missing });
    await expect(runPretext(missing, run, {})).rejects.toThrow(/nope\.safetensors': no such file/);
  });
});
