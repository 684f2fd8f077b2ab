// Against the real MLflow server from tools/mlflow/start.sh (MLFLOW_TRACKING_URI); see helpers.mlflowUri.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MlflowClient, trackRun } from '../src';
import { MlflowError, type MlflowMetric } from '../src/mlflow-client';
import { RUN_KEY_TAG, findRunsByKey, type MlflowSidecar } from '../src/track';
import { composeConfig } from '@scan-repro/core';
import { makeRunFolder, manifestFile, metricsFile, mlflowUri, patternBytes, skipMlflow } from './helpers';
import { tempDirs } from '@scan-repro/test-utils';

const makeTempDir = tempDirs('scan-tracking');

const START_MS = Date.UTC(2024, 0, 2, 3, 4, 5);
const END_MS = START_MS + 90_500;

const unique = (label: string) => `${label}-${process.pid}-${Date.now()}`;

describe.skipIf(skipMlflow)('MLflow REST client against a real server', () => {
  let client: MlflowClient;
  beforeAll(() => {
    client = new MlflowClient(mlflowUri());
  });

  it('round-trips experiments, runs, chunked log-batch, metric history, search and artifacts', async () => {
    const name = unique('roundtrip');
    expect(await client.getExperimentByName(name)).toBeNull();
    const experiment = await client.ensureExperiment(name);
    expect((await client.ensureExperiment(name)).experiment_id).toBe(experiment.experiment_id);
    await expect(client.createExperiment(name)).rejects.toMatchObject({
      name: 'MlflowError',
      errorCode: 'RESOURCE_ALREADY_EXISTS',
      status: 400,
    });

    const marker = unique('marker');
    const created = await client.createRun({
      experimentId: experiment.experiment_id,
      runName: 'roundtrip',
      startTime: START_MS,
      tags: [{ key: 'marker', value: marker }],
    });
    const runId = created.info.run_id;
    expect(created.info.status).toBe('RUNNING');
    expect(created.info.start_time).toBe(START_MS);

    // 1300 + 200 metric points, 150 params: more than one request for each limit
    const loss: MlflowMetric[] = Array.from({ length: 1300 }, (_, i) => ({
      key: 'loss',
      value: Math.exp(-i / 400) * 2.302585 + (i % 7) * 1e-9,
      step: i,
      timestamp: START_MS + i * 17,
    }));
    loss[5] = { ...loss[5], value: NaN }; // encoded as "NaN" on the wire
    const acc: MlflowMetric[] = Array.from({ length: 200 }, (_, i) => ({
      key: 'acc',
      value: i / 199,
      step: i * 5,
      timestamp: START_MS + i,
    }));
    const params = Array.from({ length: 150 }, (_, i) => ({
      key: `group${i % 3}.param_${i}`,
      value: `value ${i * i}`,
    }));
    const requests = await client.logBatch(runId, {
      metrics: [...loss, ...acc],
      params,
      tags: [{ key: 'stage', value: 'scan' }],
    });
    // 1: 100 params + 1 tag + 899 metrics; 2: 50 params + 601 metrics
    expect(requests).toBe(2);

    const history = (await client.getMetricHistory(runId, 'loss')).sort((a, b) => a.step - b.step);
    expect(history).toHaveLength(1300);
    expect(history.map((m) => m.step)).toEqual(loss.map((m) => m.step));
    expect(history.map((m) => m.timestamp)).toEqual(loss.map((m) => m.timestamp));
    history.forEach((m, i) => expect(Object.is(m.value, loss[i].value)).toBe(true));
    // paged reads give the same points
    const paged = (await client.getMetricHistory(runId, 'acc', 64)).sort((a, b) => a.step - b.step);
    expect(paged.map((m) => [m.step, m.value])).toEqual(acc.map((m) => [m.step, m.value]));

    const run = await client.getRun(runId);
    expect(run.data.params).toHaveLength(150);
    expect(Object.fromEntries(run.data.params.map((p) => [p.key, p.value]))).toEqual(
      Object.fromEntries(params.map((p) => [p.key, p.value])),
    );
    expect(run.data.tags).toContainEqual({ key: 'stage', value: 'scan' });
    // latest value per key: the one with the highest step
    expect(run.data.metrics.find((m) => m.key === 'acc')?.value).toBe(1);

    // a server-side validation error arrives parsed
    const err = await client.logBatch(runId, { params: [{ key: 'group0.param_0', value: 'changed' }] }).catch((e) => e);
    expect(err).toBeInstanceOf(MlflowError);
    expect(err.errorCode).toBe('INVALID_PARAMETER_VALUE');
    expect(err.message).toMatch(/Changing param values is not allowed/);

    // artifacts through the proxy
    const png = patternBytes(70_000, 3);
    await client.uploadArtifact(run.info, 'plots/confusion.png', png);
    await client.uploadArtifact(run.info, 'config.yaml', new TextEncoder().encode('scan:\n  entropy_weight: 5\n'));
    expect((await client.listArtifacts(run.info)).map((f) => [f.path, f.is_dir])).toEqual([
      ['config.yaml', false],
      ['plots', true],
    ]);
    expect(await client.listArtifacts(run.info, 'plots')).toEqual([
      { path: 'plots/confusion.png', is_dir: false, file_size: 70_000 },
    ]);
    expect(Buffer.from(await client.downloadArtifact(run.info, 'plots/confusion.png')).equals(Buffer.from(png))).toBe(
      true,
    );

    // search by tag, then finish the run
    const found = await client.searchRuns({
      experimentIds: [experiment.experiment_id],
      filter: `tags.marker = '${marker}'`,
    });
    expect(found.map((r) => r.info.run_id)).toEqual([runId]);
    await client.updateRun(runId, { status: 'FINISHED', endTime: END_MS });
    const finished = await client.getRun(runId);
    expect([finished.info.status, finished.info.end_time]).toEqual(['FINISHED', END_MS]);
  });

  it('pages through runs/search', async () => {
    const experiment = await client.ensureExperiment(unique('paging'));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(
        (
          await client.createRun({
            experimentId: experiment.experiment_id,
            startTime: START_MS + i,
            tags: [{ key: 'i', value: String(i) }],
          })
        ).info.run_id,
      );
    const page = await client.searchRunsPage({
      experimentIds: [experiment.experiment_id],
      maxResults: 2,
      orderBy: ['attributes.start_time ASC'],
    });
    expect(page.runs.map((r) => r.info.run_id)).toEqual(ids.slice(0, 2));
    expect(page.nextPageToken).toBeTruthy();
    const all = await client.searchRuns({
      experimentIds: [experiment.experiment_id],
      pageSize: 2,
      orderBy: ['attributes.start_time ASC'],
    });
    expect(all.map((r) => r.info.run_id)).toEqual(ids);
  });

  it('trackRun uploads params, tags, metrics and small artifacts of a run folder, once', async () => {
    const root = makeTempDir('trackrun');
    const experimentName = unique('trackrun');
    const steps = Array.from({ length: 20 }, (_, i) => i);
    const runDir = await makeRunFolder(join(root, 'runs', 'scan-cifar10'), {
      // a 7000-char value: MLflow params hold at most 6000
      overrides: [`tracking.run_name=${'z'.repeat(7000)}`],
      metrics: steps.flatMap((i) => [
        { key: 'train/loss', value: 4 - i / 10 + 1e-12 * i, step: i },
        { key: 'lr', value: 0.001 * Math.cos(i / 7), step: i },
      ]),
      finalMetrics: { acc: 0.8125, nmi: 0.6875 },
      files: {
        'confusion.png': patternBytes(3000, 1),
        'preds.csv': new TextEncoder().encode('i,pred\n0,3\n'),
        'model.safetensors': patternBytes(5000, 2),
      },
    });
    const manifest = await manifestFile(runDir);
    const written = await metricsFile(runDir);
    const result = await trackRun(runDir, {
      uri: mlflowUri(),
      experiment: experimentName,
      tags: { experiment: 'cifar10-scan', table: 'table3', row: 'cifar10' },
      resultsDir: join(root, 'results'),
      maxArtifactBytes: 4000,
    });
    expect(result.mlflow.state).toBe('uploaded');
    if (result.mlflow.state !== 'uploaded') return;
    expect(result.mlflow.alreadyPresent).toBe(false);

    const sidecar = JSON.parse(await readFile(join(runDir, 'mlflow.json'), 'utf8')) as MlflowSidecar;
    expect(sidecar).toMatchObject({
      run_id: result.mlflow.runId,
      experiment_name: experimentName,
      run_key: result.record.run_key,
      tracking_uri: client.uri,
    });

    const run = await client.getRun(result.mlflow.runId);
    const params = Object.fromEntries(run.data.params.map((p) => [p.key, p.value]));
    expect(params['scan.entropy_weight']).toBe('5');
    expect(params['dataset.name']).toBe('cifar10');
    expect(params['dataset.mean']).toBe(
      JSON.stringify(composeConfig(['dataset=cifar10', 'profile=ci'], { env: {} }).dataset.mean),
    );
    expect(params['tracking.run_name']).toBe('z'.repeat(6000));
    expect(run.info.run_name).toBe('z'.repeat(250)); // run names are cut to MLflow's 250-char column
    const tags = Object.fromEntries(run.data.tags.map((t) => [t.key, t.value]));
    const rev = manifest.codeRevision;
    expect(tags).toMatchObject({
      dataset: 'cifar10',
      stage: 'scan',
      profile: 'ci',
      seed: '0',
      table: 'table3',
      row: 'cifar10',
      experiment: 'cifar10-scan',
      config_hash: manifest.configHash,
      backend: 'cpu',
      [RUN_KEY_TAG]: `runs/scan-cifar10@${manifest.configHash}`,
      ...(typeof rev === 'object'
        ? { code_revision: `${rev.commit}${rev.dirty ? '+dirty' : ''}`, 'mlflow.source.git.commit': rev.commit }
        : {}),
    });
    expect([run.info.status, run.info.start_time, run.info.end_time]).toEqual([
      'FINISHED',
      Date.parse(manifest.startedAt),
      Date.parse(manifest.endedAt!),
    ]);

    // the history equals metrics.jsonl exactly: values, steps, timestamps
    for (const key of ['train/loss', 'lr']) {
      const history = (await client.getMetricHistory(run.info.run_id, key)).sort((a, b) => a.step - b.step);
      const expected = written.filter((w) => w.key === key);
      expect(history.map((m) => [m.step, m.value, m.timestamp])).toEqual(
        expected.map((w) => [w.step, w.value, Date.parse(w.time)]),
      );
    }
    // final metrics at the last step (19) and the end time
    expect(await client.getMetricHistory(run.info.run_id, 'acc')).toEqual([
      { key: 'acc', value: 0.8125, step: 19, timestamp: Date.parse(manifest.endedAt!) },
    ]);

    const files = (await client.listArtifacts(run.info)).map((f) => f.path);
    // model.safetensors (5000 B) is over the 4000 B limit, config.yaml (> 7000 B) is always sent; the sidecar never
    expect(files).toEqual(['config.yaml', 'confusion.png', 'manifest.json', 'metrics.jsonl', 'preds.csv']);
    expect(
      Buffer.from(await client.downloadArtifact(run.info, 'confusion.png')).equals(Buffer.from(patternBytes(3000, 1))),
    ).toBe(true);
    expect(
      Buffer.from(await client.downloadArtifact(run.info, 'manifest.json')).equals(
        await readFile(join(runDir, 'manifest.json')),
      ),
    ).toBe(true);

    // tracking the same folder again changes nothing on the server
    const again = await trackRun(runDir, {
      uri: mlflowUri(),
      experiment: experimentName,
      resultsDir: join(root, 'results'),
    });
    expect(again.mlflow).toMatchObject({ state: 'uploaded', runId: result.mlflow.runId, alreadyPresent: true });
    expect(await findRunsByKey(client, result.mlflow.experimentId, result.record.run_key)).toHaveLength(1);
  });
});
