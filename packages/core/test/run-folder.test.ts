import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, rmSync, writeFileSync, appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { composeConfig, readManifest, readMetrics, RunFolder, stageHash, projectRoot } from '../src/index';
import { portableConfig } from '../src/portable-paths';
import type { Checkpoint } from '../src/run-folder';
import { tempDir } from '@scan-repro/test-utils';

const root = tempDir('scan-runs');
const cfg = composeConfig(['profile=ci'], { env: {} });
const sha = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

async function completedPretext(dir: string) {
  const run = await RunFolder.create({ dir, stage: 'pretext', config: cfg });
  await run.writeArtifact('model.safetensors', new Uint8Array([1, 2, 3]));
  writeFileSync(run.path('knn.txt'), 'written directly by the stage');
  const manifest = await run.complete({
    metrics: { knn_acc: 0.5 },
    artifacts: ['model.safetensors', 'knn.txt'],
    backend: 'cpu',
  });
  return { run, manifest };
}

describe('RunFolder', () => {
  it('writes config.yaml, a running manifest, then a complete manifest with artifact hashes', async () => {
    const dir = join(root, 'pretext');
    const run = await RunFolder.create({ dir, stage: 'pretext', config: cfg });
    expect(YAML.parse(readFileSync(join(dir, 'config.yaml'), 'utf8'))).toEqual(
      JSON.parse(JSON.stringify(portableConfig(cfg))),
    ); // paths relative to the workspace
    const running = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(running.status).toBe('running');
    await expect(readManifest(dir)).rejects.toThrow(/is not complete: status 'running'/);
    expect(await RunFolder.isComplete(dir, run.hash)).toBe(false);

    await run.writeArtifact('model.safetensors', new Uint8Array([1, 2, 3]));
    writeFileSync(run.path('knn.txt'), 'written directly by the stage');
    // about 0.2 s of CPU work inside the run, so the recorded CPU time has something to count
    const busyUntil = process.cpuUsage().user + 200_000;
    while (process.cpuUsage().user < busyUntil);
    run.logMetric('loss', 1.25, 1);
    run.logMetric('loss', NaN, 2);
    const m = await run.complete({
      metrics: { knn_acc: 0.5 },
      artifacts: ['model.safetensors', 'knn.txt'],
      backend: 'cpu',
      summary: 'ok',
    });

    expect(m.status).toBe('complete');
    expect(m.configHash).toBe(stageHash(cfg, 'pretext'));
    expect(m.artifacts['model.safetensors']).toEqual({ sha256: sha(new Uint8Array([1, 2, 3])), bytes: 3 });
    expect(m.artifacts['knn.txt'].sha256).toBe(sha('written directly by the stage'));
    expect(m.metrics).toEqual({ knn_acc: 0.5 });
    expect(m.backend).toBe('cpu');
    expect(Date.parse(m.endedAt!)).toBeGreaterThanOrEqual(Date.parse(m.startedAt));
    expect(m.wallTimeS).toBeGreaterThanOrEqual(0);
    expect(m.cpuTimeS).toBeGreaterThanOrEqual(0.2);
    expect(m.cpuTimeS).toBeLessThanOrEqual(m.wallTimeS! * m.host.cpus + 0.1);
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: projectRoot(), encoding: 'utf8' }).trim();
    expect(m.codeRevision).toMatchObject({ commit: head });
    expect(await readManifest(dir)).toEqual(m);
    expect(await RunFolder.isComplete(dir, run.hash)).toBe(true);
    expect(await RunFolder.isComplete(dir, 'f'.repeat(64))).toBe(false);
    await expect(readManifest(dir, { expectHash: 'f'.repeat(64) })).rejects.toThrow(
      /was made with config hash [0-9a-f]{12}, expected ffffffffffff/,
    );

    const metrics = await readMetrics(dir);
    expect(metrics.map((r) => [r.key, r.value, r.step])).toEqual([
      ['loss', 1.25, 1],
      ['loss', null, 2],
    ]);
    appendFileSync(join(dir, 'metrics.jsonl'), '{"key":"loss","val'); // torn line from a crash
    expect((await readMetrics(dir)).length).toBe(2);
  });

  it('detects a changed or missing artifact', async () => {
    const dir = join(root, 'tamper');
    const { run } = await completedPretext(dir);
    writeFileSync(join(dir, 'knn.txt'), 'written directly by the stagE'); // same size, other content
    expect(await RunFolder.isComplete(dir, run.hash)).toBe(true); // size check only
    await expect(readManifest(dir, { verify: true })).rejects.toThrow(
      /artifact knn.txt changed since the run completed/,
    );
    rmSync(join(dir, 'knn.txt'));
    expect(await RunFolder.isComplete(dir, run.hash)).toBe(false);
  });

  it('records inputs with their config hash and artifact hashes; refuses incomplete inputs', async () => {
    const pre = join(root, 'in-pretext');
    const { manifest: pm } = await completedPretext(pre);
    const mine = await RunFolder.create({
      dir: join(root, 'in-mine'),
      stage: 'mine',
      config: cfg,
      inputs: { pretext: pre },
    });
    const m = await mine.complete({ metrics: {}, artifacts: [], backend: 'cpu' });
    expect(m.inputs.pretext).toEqual({
      dir: pre,
      stage: 'pretext',
      configHash: pm.configHash,
      artifacts: {
        'model.safetensors': sha(new Uint8Array([1, 2, 3])),
        'knn.txt': sha('written directly by the stage'),
      },
    });
    const half = join(root, 'in-half');
    await RunFolder.create({ dir: half, stage: 'pretext', config: cfg });
    await expect(
      RunFolder.create({ dir: join(root, 'in-scan'), stage: 'scan', config: cfg, inputs: { pretext: half } }),
    ).rejects.toThrow(/input 'pretext' of stage scan: run in .*in-half \(stage pretext\) is not complete/);
    await expect(
      RunFolder.create({
        dir: join(root, 'in-scan'),
        stage: 'scan',
        config: cfg,
        inputs: { mine: join(root, 'nope') },
      }),
    ).rejects.toThrow(/input 'mine' of stage scan: .*nope is not a run folder: no manifest.json/);
  });

  it('refuses a folder that holds a run of another config or stage', async () => {
    const dir = join(root, 'other');
    await completedPretext(dir);
    const other = composeConfig(['profile=ci', 'pretext.temperature=0.5'], { env: {} });
    await expect(RunFolder.create({ dir, stage: 'pretext', config: other })).rejects.toThrow(
      /holds a 'pretext' run \(status complete\) with config hash [0-9a-f]{12}; this 'pretext' run has hash/,
    );
    await expect(RunFolder.create({ dir, stage: 'mine', config: cfg })).rejects.toThrow(/holds a 'pretext' run/);
    // scan.* does not belong to the pretext identity: same folder is fine
    const scanChanged = composeConfig(['profile=ci', 'scan.lr=0.5'], { env: {} });
    await expect(RunFolder.create({ dir, stage: 'pretext', config: scanChanged })).resolves.toBeInstanceOf(RunFolder);
    const replaced = await RunFolder.create({ dir, stage: 'pretext', config: other, overwrite: true });
    expect(readdirSync(dir).sort()).toEqual(['config.yaml', 'manifest.json']);
    expect(replaced.hash).toBe(stageHash(other, 'pretext'));
  });

  it('rejects artifact names outside the folder or reserved', async () => {
    const run = await RunFolder.create({ dir: join(root, 'names'), stage: 'eval', config: cfg });
    await expect(run.writeArtifact('../x', 'a')).rejects.toThrow("bad artifact name '../x'");
    await expect(run.writeArtifact('manifest.json', 'a')).rejects.toThrow('not one of manifest.json');
    await run.writeArtifact('plots/confusion.png', new Uint8Array([9]));
    await expect(run.complete({ metrics: {}, artifacts: ['missing.png'], backend: 'cpu' })).rejects.toThrow(
      /reported artifact 'missing.png' but .*missing.png does not exist/,
    );
  });
});

describe('checkpoints', () => {
  const checkpoint: Checkpoint = {
    epoch: 3,
    step: 120,
    tensors: {
      'backbone.conv1.weight': { dtype: 'F32', shape: [2, 2], data: new Float32Array([0.5, -1, 2, 3]) },
      'optimizer.m.0': { dtype: 'F64', shape: [1], data: new Float64Array([1e-9]) },
    },
    state: { rng: { words: [1, 2, 3, 4], base: [5, 6, 7, 8], spare: null }, best_loss: 0.25 },
  };

  it('round-trips and resumes after a restart with the same config', async () => {
    const dir = join(root, 'ckpt');
    const run = await RunFolder.create({ dir, stage: 'scan', config: cfg });
    expect(await run.loadCheckpoint()).toBeNull();
    await run.saveCheckpoint(checkpoint);
    // "crash": a new process opens the same folder with the same config
    const again = await RunFolder.create({ dir, stage: 'scan', config: cfg });
    const loaded = await again.loadCheckpoint();
    expect(loaded!.epoch).toBe(3);
    expect(loaded!.step).toBe(120);
    expect(loaded!.state).toEqual(checkpoint.state);
    expect(Array.from(loaded!.tensors['backbone.conv1.weight'].data as Float32Array)).toEqual([0.5, -1, 2, 3]);
    expect(loaded!.tensors['optimizer.m.0'].data[0]).toBe(1e-9);
    const m = await again.complete({ metrics: {}, artifacts: [], backend: 'cpu' });
    expect(m.resumedFromEpoch).toBe(3);
    // A completed run started again begins from scratch.
    const rerun = await RunFolder.create({ dir, stage: 'scan', config: cfg });
    expect(await rerun.loadCheckpoint()).toBeNull();
  });

  it('run.resume=false starts fresh', async () => {
    const dir = join(root, 'noresume');
    await (await RunFolder.create({ dir, stage: 'scan', config: cfg })).saveCheckpoint(checkpoint);
    const noResume = composeConfig(['profile=ci', 'run.resume=false'], { env: {} });
    const run = await RunFolder.create({ dir, stage: 'scan', config: noResume });
    expect(await run.loadCheckpoint()).toBeNull();
    expect(readdirSync(dir)).not.toContain('checkpoint.safetensors');
  });

  it('a checkpoint of another config is an error that names both hashes; a corrupt one names the file', async () => {
    const a = await RunFolder.create({ dir: join(root, 'ck-a'), stage: 'scan', config: cfg });
    await a.saveCheckpoint(checkpoint);
    const other = composeConfig(['profile=ci', 'scan.lr=0.5'], { env: {} });
    const b = await RunFolder.create({ dir: join(root, 'ck-b'), stage: 'scan', config: other });
    copyFileSync(a.path('checkpoint.safetensors'), b.path('checkpoint.safetensors'));
    await expect(b.loadCheckpoint()).rejects.toThrow(
      new RegExp(`saved by a run with config hash ${a.hash.slice(0, 12)}, this run has ${b.hash.slice(0, 12)}`),
    );
    const bytes = readFileSync(a.path('checkpoint.safetensors'));
    writeFileSync(a.path('checkpoint.safetensors'), bytes.subarray(0, bytes.length - 10));
    await expect(a.loadCheckpoint()).rejects.toThrow(
      /checkpoint\.safetensors: not a valid safetensors file: truncated/,
    );
  });

  it('a failed run is marked failed and resumed by the next attempt', async () => {
    const dir = join(root, 'failed');
    const run = await RunFolder.create({ dir, stage: 'selflabel', config: cfg });
    await run.saveCheckpoint(checkpoint);
    await run.fail(new Error('out of memory'), 'cpu');
    await expect(readManifest(dir)).rejects.toThrow(/status 'failed' since .* \(out of memory\)/);
    const next = await RunFolder.create({ dir, stage: 'selflabel', config: cfg });
    expect((await next.loadCheckpoint())!.epoch).toBe(3);
  });
});
