import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readMetrics, readSafetensors, RunFolder } from '@scan-repro/core';
import { initBackend } from '@scan-repro/backend';
import { runScan } from '../src';
import { synthConfig, synthUpstream } from './synthetic-runs';

beforeAll(async () => {
  await initBackend({ name: 'wasm', quiet: true });
});

async function tensorsOf(file: string) {
  return readSafetensors(new Uint8Array(await readFile(file)), file);
}

describe('runScan (synthetic dataset, true neighbours)', () => {
  it('update_cluster_head_only: output backbone (weights + BN stats) equals the pretext one; best head = lowest logged val loss', async () => {
    const config = synthConfig([
      'scan.update_cluster_head_only=true',
      'scan.num_heads=3',
      'scan.optimizer=sgd',
      'scan.lr=1',
      'scan.weight_decay=0',
      'scan.epochs=3',
    ]);
    const up = await synthUpstream(config);
    const run = await RunFolder.create({
      dir: join(up.root, 'scan'),
      stage: 'scan',
      config,
      inputs: { pretext: up.pretext, mine: up.mine },
    });
    const result = await runScan(config, run, { pretext: up.pretext, mine: up.mine });
    await run.complete({ ...result, backend: 'wasm' });

    const pre = await tensorsOf(join(up.pretext, 'model.safetensors'));
    const out = await tensorsOf(run.path('model.safetensors'));
    const backboneKeys = Object.keys(pre.tensors).filter((k) => k.startsWith('backbone.'));
    expect(backboneKeys.some((k) => k.endsWith('running_var'))).toBe(true);
    for (const k of backboneKeys)
      expect(Array.from(out.tensors[k].data as Float32Array), k).toEqual(
        Array.from(pre.tensors[k].data as Float32Array),
      );
    expect(
      Object.keys(out.tensors)
        .filter((k) => k.startsWith('cluster_head.'))
        .sort(),
    ).toEqual(['cluster_head.0.bias', 'cluster_head.0.weight']);
    expect(Object.keys(out.tensors).some((k) => k.startsWith('contrastive_head.'))).toBe(false);

    // the selected (head, epoch) is the argmin of every logged val_loss/head<h>
    const metrics = await readMetrics(run.dir);
    let min = { loss: Infinity, head: -1, epoch: -1 };
    for (const m of metrics) {
      const match = /^val_loss\/head(\d)$/.exec(m.key);
      if (match && m.value! < min.loss) min = { loss: m.value!, head: Number(match[1]), epoch: m.step! };
    }
    expect(min.epoch).toBeGreaterThan(0);
    expect(out.metadata.best_head).toBe(String(min.head));
    expect(out.metadata.best_epoch).toBe(String(min.epoch));
    expect(result.metrics.best_val_loss).toBeCloseTo(min.loss, 10);
    console.log('runScan (heads only) metrics', result.metrics);
  });

  it('full network with resume: a run stopped after epoch 1 and resumed ends where an uninterrupted run ends', async () => {
    const config = synthConfig(['scan.epochs=2', 'scan.lr=0.001', 'scan.micro_batch=8']);
    const up = await synthUpstream(config);
    const inputs = { pretext: up.pretext, mine: up.mine };
    const straight = await RunFolder.create({ dir: join(up.root, 'scan-a'), stage: 'scan', config, inputs });
    const a = await runScan(config, straight, inputs);
    const fa = await tensorsOf(straight.path('model.safetensors'));
    expect(a.metrics.epochs_done).toBe(2);
    expect(Number.isFinite(a.metrics.final_train_loss)).toBe(true);

    // interrupted: epoch 1 only (the checkpoint is written each epoch), then resumed
    const dir = join(up.root, 'scan-b');
    const first = await RunFolder.create({ dir, stage: 'scan', config, inputs });
    const b1 = await runScan(config, first, inputs, { stopAfterEpochs: 1 });
    expect(b1.metrics.epochs_done).toBe(1);
    const second = await RunFolder.create({ dir, stage: 'scan', config, inputs });
    const b = await runScan(config, second, inputs);
    expect(b.metrics.epochs_done).toBe(2);
    const fb = await tensorsOf(second.path('model.safetensors'));
    expect(fb.metadata.best_epoch).toBe(fa.metadata.best_epoch);
    // the final weights (last checkpoint: model + optimizer state) match too, not only the best-epoch file
    const ca = await tensorsOf(straight.path('checkpoint.safetensors'));
    const cb = await tensorsOf(second.path('checkpoint.safetensors'));
    expect(ca.metadata.epoch).toBe('2');
    expect(cb.metadata.epoch).toBe('2');
    for (const k of Object.keys(ca.tensors)) {
      const x = ca.tensors[k].data,
        y = cb.tensors[k].data;
      for (let i = 0; i < x.length; i++) expect(Math.abs(Number(x[i]) - Number(y[i])), k).toBeLessThan(1e-5);
    }
    for (const k of Object.keys(fa.tensors)) {
      const x = fa.tensors[k].data,
        y = fb.tensors[k].data;
      for (let i = 0; i < x.length; i++) expect(Math.abs(Number(x[i]) - Number(y[i])), k).toBeLessThan(1e-5);
    }
  });
});
