// Local records and run-folder reading: no server involved.
import { mkdir, readFile, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configToParams, readCompletedRun, readRunRecords, trackRun } from '../src';
import { END_MS, START_MS, makeRunFolder, makeTempDir } from './helpers';

describe('local run records', () => {
  it('writes runs.jsonl and runs.csv, one row per run folder + config hash', async () => {
    const root = await makeTempDir('records');
    const results = join(root, 'results');
    const runA = await makeRunFolder(join(root, 'runs', 'a'), {
      configHash: 'hashA',
      finalMetrics: { acc: 0.875, nmi: 0.75 },
      trackingTags: { table: 'table3', row: 'cifar10' },
    });
    const runB = await makeRunFolder(join(root, 'runs', 'b'), { configHash: 'hashB', stage: 'selflabel', finalMetrics: { acc: 0.9, ari: 0.5 } });

    const first = await trackRun(runA, { resultsDir: results, uri: '', tags: { ablation: 'no-entropy' } });
    expect(first.mlflow).toEqual({ state: 'disabled' });
    await trackRun(runB, { resultsDir: results, uri: '' });
    await trackRun(runA, { resultsDir: results, uri: '', tags: { ablation: 'no-entropy' } }); // again: replaces, not appends

    const records = await readRunRecords(results);
    expect(records.map((r) => r.run_key)).toEqual(['runs/a@hashA', 'runs/b@hashB']);
    const a = records[0];
    expect(a).toMatchObject({
      run_dir: 'runs/a',
      config_hash: 'hashA',
      dataset: 'cifar10',
      stage: 'scan',
      profile: 'ci',
      seed: '1',
      table: 'table3',
      row: 'cifar10',
      ablation: 'no-entropy',
      backend: 'cpu',
      code_revision: 'abc1234',
      status: 'completed',
      start_time: new Date(START_MS).toISOString(),
      end_time: new Date(END_MS).toISOString(),
      wall_time_s: 90.5,
      metrics: { acc: 0.875, nmi: 0.75 },
    });

    const csv = (await readFile(join(results, 'runs.csv'), 'utf8')).trim().split('\n');
    expect(csv).toHaveLength(3);
    const header = csv[0].split(',');
    // metric columns are the sorted union over runs
    expect(header.slice(-3)).toEqual(['metric.acc', 'metric.ari', 'metric.nmi']);
    const rowA = csv[1].split(',');
    const col = (name: string) => rowA[header.indexOf(name)];
    expect(col('run_key')).toBe('runs/a@hashA');
    expect(col('metric.acc')).toBe('0.875');
    expect(col('metric.ari')).toBe('');
    expect(col('metric.nmi')).toBe('0.75');
    expect(col('ablation')).toBe('no-entropy');
    expect(csv[2].split(',')[header.indexOf('metric.ari')]).toBe('0.5');

    // a changed config is another record
    await makeRunFolder(join(root, 'runs', 'a'), { configHash: 'hashA2' });
    await trackRun(runA, { resultsDir: results, uri: '' });
    expect((await readRunRecords(results)).map((r) => r.run_key)).toEqual(['runs/a@hashA', 'runs/b@hashB', 'runs/a@hashA2']);
    // atomic writes leave no temp or lock files behind
    expect((await readdir(results)).sort()).toEqual(['runs.csv', 'runs.jsonl']);
  });

  it('keeps every row when runs are recorded concurrently', async () => {
    const root = await makeTempDir('concurrent');
    const results = join(root, 'results');
    const dirs = await Promise.all(Array.from({ length: 8 }, (_, i) => makeRunFolder(join(root, 'runs', `r${i}`), { configHash: `h${i}` })));
    await Promise.all(dirs.map((d) => trackRun(d, { resultsDir: results, uri: '' })));
    expect((await readRunRecords(results)).map((r) => r.run_key).sort()).toEqual(dirs.map((_, i) => `runs/r${i}@h${i}`).sort());
  });

  it('reads metrics.jsonl points, NaN spellings included', async () => {
    const dir = await makeRunFolder(join(await makeTempDir('read'), 'run'), {
      configHash: 'h',
      metrics: [
        { key: 'loss', value: 2.5, step: 0, timestamp: START_MS },
        { key: 'loss', value: 1.25, step: 1, timestamp: START_MS + 10 },
      ],
    });
    await writeFile(join(dir, 'metrics.jsonl'), (await readFile(join(dir, 'metrics.jsonl'), 'utf8')) + '{"key":"loss","value":null,"step":2,"timestamp":' + (START_MS + 20) + '}\n');
    const run = await readCompletedRun(dir);
    expect(run.metrics.map((m) => [m.key, m.value, m.step, m.timestamp])).toEqual([
      ['loss', 2.5, 0, START_MS],
      ['loss', 1.25, 1, START_MS + 10],
      ['loss', NaN, 2, START_MS + 20],
    ]);
    expect(run.startTime).toBe(START_MS);
    expect(run.endTime).toBe(END_MS);
  });

  it('names the file and the problem on bad run folders', async () => {
    const root = await makeTempDir('bad');
    const empty = join(root, 'empty');
    await mkdir(empty);
    await expect(readCompletedRun(empty)).rejects.toThrow(/manifest\.json does not exist.*did not complete/);

    const noHash = await makeRunFolder(join(root, 'nohash'), { configHash: '' });
    await expect(readCompletedRun(noHash)).rejects.toThrow(/manifest\.json: key 'configHash' is ""; expected the config hash string/);

    const badMetric = await makeRunFolder(join(root, 'badmetric'), { configHash: 'h' });
    await writeFile(join(badMetric, 'metrics.jsonl'), '{"key":"loss","value":1,"step":0,"timestamp":1}\n{"key":"loss","value":"high","step":1}\n');
    await expect(readCompletedRun(badMetric)).rejects.toThrow(/metrics\.jsonl: entry 2: 'value' of loss is "high"; expected a number/);

    const badJson = await makeRunFolder(join(root, 'badjson'), { configHash: 'h' });
    await writeFile(join(badJson, 'metrics.jsonl'), '{"key":"loss"\n{"key":"loss","value":1}\n');
    await expect(readCompletedRun(badJson)).rejects.toThrow(/metrics\.jsonl:1: not valid JSON/);

    const badStep = await makeRunFolder(join(root, 'badstep'), { configHash: 'h' });
    await writeFile(join(badStep, 'metrics.jsonl'), '{"key":"loss","value":1,"step":1.5,"timestamp":1}\n');
    await expect(readCompletedRun(badStep)).rejects.toThrow(/'step' of loss is 1.5; expected an integer/);
  });

  it('flattens the config into string params', () => {
    expect(configToParams({ dataset: { name: 'stl10', mean: [0.5, 0.25] }, scan: { entropy_weight: 5, nesterov: false }, extra: {} })).toEqual({
      'dataset.name': 'stl10',
      'dataset.mean': '[0.5,0.25]',
      'scan.entropy_weight': '5',
      'scan.nesterov': 'false',
      extra: '{}',
    });
  });
});
