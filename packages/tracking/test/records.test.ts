// Local records and run-folder reading: no server involved.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunFolder, composeConfig } from '@scan-repro/core';
import { configToParams, readCompletedRun } from '../src/run-folder';
import { readRunRecords } from '../src/records';
import { trackRun } from '../src';
import { makeRunFolder, manifestFile, metricsFile } from './helpers';
import { tempDirs } from '@scan-repro/test-utils';

const makeTempDir = tempDirs('scan-tracking');

describe('local run records', () => {
  it('writes runs.jsonl and runs.csv, one row per run folder + config hash', async () => {
    const root = makeTempDir('records');
    const results = join(root, 'results');
    const runA = await makeRunFolder(join(root, 'runs', 'a'), { finalMetrics: { acc: 0.875, nmi: 0.75 } });
    const runB = await makeRunFolder(join(root, 'runs', 'b'), {
      stage: 'selflabel',
      overrides: ['profile.seed=7'],
      finalMetrics: { acc: 0.9, ari: 0.5 },
    });
    const manifestA = await manifestFile(runA);
    const manifestB = await manifestFile(runB);
    const labels = { experiment: 'cifar10-scan', table: 'table3', row: 'cifar10', ablation: 'no-entropy' };

    const first = await trackRun(runA, { resultsDir: results, uri: '', tags: labels });
    expect(first.mlflow).toEqual({ state: 'disabled' });
    await trackRun(runB, { resultsDir: results, uri: '' });
    await trackRun(runA, { resultsDir: results, uri: '', tags: labels }); // again: replaces, not appends

    const records = await readRunRecords(results);
    expect(records.map((r) => r.run_key)).toEqual([`runs/a@${manifestA.configHash}`, `runs/b@${manifestB.configHash}`]);
    const rev = manifestA.codeRevision;
    expect(records[0]).toEqual({
      run_key: `runs/a@${manifestA.configHash}`,
      run_dir: 'runs/a',
      config_hash: manifestA.configHash,
      dataset: 'cifar10',
      stage: 'scan',
      profile: 'ci',
      seed: '0',
      ...labels,
      backend: 'cpu',
      code_revision: typeof rev === 'object' ? `${rev.commit}${rev.dirty ? '+dirty' : ''}` : undefined,
      status: 'complete',
      start_time: manifestA.startedAt,
      end_time: manifestA.endedAt,
      wall_time_s: manifestA.wallTimeS,
      recorded_at: records[0].recorded_at,
      metrics: { acc: 0.875, nmi: 0.75 },
    });
    expect(records[1]).toMatchObject({ stage: 'selflabel', seed: '7', metrics: { acc: 0.9, ari: 0.5 } });

    const csv = (await readFile(join(results, 'runs.csv'), 'utf8')).trim().split('\n');
    expect(csv).toHaveLength(3);
    const header = csv[0].split(',');
    // metric columns are the sorted union over runs
    expect(header.slice(-3)).toEqual(['metric.acc', 'metric.ari', 'metric.nmi']);
    const rowA = csv[1].split(',');
    const col = (name: string) => rowA[header.indexOf(name)];
    expect(col('run_key')).toBe(`runs/a@${manifestA.configHash}`);
    expect(col('metric.acc')).toBe('0.875');
    expect(col('metric.ari')).toBe('');
    expect(col('metric.nmi')).toBe('0.75');
    expect(col('ablation')).toBe('no-entropy');
    expect(csv[2].split(',')[header.indexOf('metric.ari')]).toBe('0.5');

    // a changed config in the same folder is another record
    await makeRunFolder(runA, { overrides: ['scan.entropy_weight=2'], overwrite: true });
    const manifestA2 = await manifestFile(runA);
    expect(manifestA2.configHash).not.toBe(manifestA.configHash);
    await trackRun(runA, { resultsDir: results, uri: '' });
    expect((await readRunRecords(results)).map((r) => r.run_key)).toEqual([
      `runs/a@${manifestA.configHash}`,
      `runs/b@${manifestB.configHash}`,
      `runs/a@${manifestA2.configHash}`,
    ]);
    // atomic writes leave no temp or lock files behind
    expect((await readdir(results)).sort()).toEqual(['runs.csv', 'runs.jsonl']);
  });

  it('keeps every row when runs are recorded concurrently', async () => {
    const root = makeTempDir('concurrent');
    const results = join(root, 'results');
    const dirs: string[] = [];
    for (let i = 0; i < 8; i++) dirs.push(await makeRunFolder(join(root, 'runs', `r${i}`)));
    await Promise.all(dirs.map((d) => trackRun(d, { resultsDir: results, uri: '' })));
    expect((await readRunRecords(results)).map((r) => r.run_dir).sort()).toEqual(dirs.map((_, i) => `runs/r${i}`));
  });

  it('reads metrics.jsonl as RunFolder.logMetric writes it, non-finite values included', async () => {
    const dir = await makeRunFolder(join(makeTempDir('read'), 'run'), {
      metrics: [
        { key: 'loss', value: 2.5, step: 0 },
        { key: 'loss', value: 1.25, step: 1 },
        { key: 'loss', value: NaN, step: 2 },
        { key: 'grad_norm', value: Infinity, step: 2 },
        { key: 'lr', value: 0.5 },
      ],
    });
    const written = await metricsFile(dir);
    const run = await readCompletedRun(dir);
    expect(run.metrics.map((m) => [m.key, m.value, m.step, m.timestamp])).toEqual([
      ['loss', 2.5, 0, Date.parse(written[0].time)],
      ['loss', 1.25, 1, Date.parse(written[1].time)],
      ['loss', NaN, 2, Date.parse(written[2].time)],
      ['grad_norm', Infinity, 2, Date.parse(written[3].time)],
      ['lr', 0.5, 0, Date.parse(written[4].time)],
    ]);
    const manifest = await manifestFile(dir);
    expect([run.startTime, run.endTime]).toEqual([Date.parse(manifest.startedAt), Date.parse(manifest.endedAt!)]);
  });

  it('names the folder, file and problem on bad run folders', async () => {
    const root = makeTempDir('bad');
    await expect(readCompletedRun(join(root, 'nothing'))).rejects.toThrow(
      /nothing is not a run folder: no manifest\.json/,
    );

    const running = join(root, 'running');
    await RunFolder.create({
      dir: running,
      stage: 'scan',
      config: composeConfig(['dataset=cifar10', 'profile=ci'], { env: {} }),
    });
    await expect(readCompletedRun(running)).rejects.toThrow(/running \(stage scan\) is not complete: status 'running'/);

    const badMetric = await makeRunFolder(join(root, 'badmetric'));
    await writeFile(
      join(badMetric, 'metrics.jsonl'),
      '{"key":"loss","value":1,"step":0,"time":"2024-01-01T00:00:00Z"}\n{"key":"loss","value":"high","step":1,"time":"2024-01-01T00:00:01Z"}\n',
    );
    await expect(readCompletedRun(badMetric)).rejects.toThrow(
      /metrics\.jsonl: record 2: 'value' of loss is "high"; expected a number/,
    );

    const badStep = await makeRunFolder(join(root, 'badstep'));
    await writeFile(
      join(badStep, 'metrics.jsonl'),
      '{"key":"loss","value":1,"step":1.5,"time":"2024-01-01T00:00:00Z"}\n',
    );
    await expect(readCompletedRun(badStep)).rejects.toThrow(/'step' of loss is 1\.5; expected an integer/);

    const badTime = await makeRunFolder(join(root, 'badtime'));
    await writeFile(join(badTime, 'metrics.jsonl'), '{"key":"loss","value":1,"step":1,"time":"yesterday"}\n');
    await expect(readCompletedRun(badTime)).rejects.toThrow(/'time' of loss is "yesterday"; expected an ISO 8601 time/);

    const badYaml = await makeRunFolder(join(root, 'badyaml'));
    await writeFile(join(badYaml, 'config.yaml'), 'scan: [unclosed\n');
    await expect(readCompletedRun(badYaml)).rejects.toThrow(/config\.yaml: not valid YAML/);
  });

  it('flattens the config into string params', () => {
    expect(
      configToParams({
        dataset: { name: 'stl10', mean: [0.5, 0.25] },
        scan: { entropy_weight: 5, nesterov: false },
        extra: {},
      }),
    ).toEqual({
      'dataset.name': 'stl10',
      'dataset.mean': '[0.5,0.25]',
      'scan.entropy_weight': '5',
      'scan.nesterov': 'false',
      extra: '{}',
    });
  });
});
