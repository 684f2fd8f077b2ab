// Server down while runs complete, then `mlflow sync` against the real server (MLFLOW_TRACKING_URI).
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MlflowClient, runMlflowSync, trackRun } from '../src';
import { RUN_KEY_TAG, findRunsByKey, readPendingUploads, resetMlflowWarning, syncPending } from '../src/track';
import { readRunRecords } from '../src/records';
import { closedPortUri, makeRunFolder, mlflowUri, skipMlflow } from './helpers';
import { tempDirs } from '@scan-repro/test-utils';

const makeTempDir = tempDirs('scan-tracking');

const unique = (label: string) => `${label}-${process.pid}-${Date.now()}`;

describe.skipIf(skipMlflow)('MLflow down, then sync', () => {
  let client: MlflowClient;
  beforeAll(() => {
    client = new MlflowClient(mlflowUri());
  });
  afterEach(() => vi.restoreAllMocks());

  it('records locally, queues the upload, warns once; sync uploads each run exactly once', async () => {
    const root = makeTempDir('offline');
    const results = join(root, 'results');
    const down = await closedPortUri();
    const experiment = unique('offline');
    const runs = await Promise.all(
      [0, 1].map((i) =>
        // the experiment in the run's config, as the experiment runner sets it: sync reads it from there
        makeRunFolder(join(root, 'runs', `run${i}`), {
          metrics: [{ key: 'loss', value: 1 / (i + 2), step: 0 }],
          finalMetrics: { acc: 0.5 + i / 8 },
          overrides: [`tracking.experiment=${experiment}`],
        }),
      ),
    );

    resetMlflowWarning();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const outcomes = [];
    for (const dir of runs)
      outcomes.push(
        await trackRun(dir, { uri: down, experiment, resultsDir: results, retries: { tries: 3, baseDelayMs: 10 } }),
      );
    expect(outcomes.map((o) => o.mlflow.state)).toEqual(['pending', 'pending']);
    expect(outcomes[0].mlflow.state === 'pending' && outcomes[0].mlflow.error).toMatch(/no answer \(ECONNREFUSED\)/);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/mlflow-pending\.jsonl.*scan-repro mlflow sync/s);

    // the local record is complete without the server
    const records = await readRunRecords(results);
    expect(records.map((r) => [r.run_key, r.metrics.acc])).toEqual([
      [outcomes[0].record.run_key, 0.5],
      [outcomes[1].record.run_key, 0.625],
    ]);
    const pending = await readPendingUploads(results);
    expect(pending.map((p) => [p.run_key, p.tracking_uri, p.experiment])).toEqual(
      outcomes.map((o) => [o.record.run_key, down, experiment]),
    );
    await expect(readFile(join(runs[0], 'mlflow.json'))).rejects.toThrow(/ENOENT/);

    // sync against the real server
    const first = await syncPending({ resultsDir: results, uri: client.uri });
    expect(first).toEqual({ uploaded: outcomes.map((o) => o.record.run_key), alreadyPresent: [], failed: [] });
    expect(await readPendingUploads(results)).toEqual([]);
    const exp = (await client.getExperimentByName(experiment))!;
    for (const o of outcomes) {
      const found = await findRunsByKey(client, exp.experiment_id, o.record.run_key);
      expect(found).toHaveLength(1);
      expect(found[0].data.metrics.find((m) => m.key === 'acc')?.value).toBe(o.record.metrics.acc);
      const sidecar = JSON.parse(await readFile(join(root, o.record.run_dir, 'mlflow.json'), 'utf8'));
      expect(sidecar.run_id).toBe(found[0].info.run_id);
    }

    // a second sync (of every recorded run) has nothing to upload
    const lines: string[] = [];
    expect(await runMlflowSync({ root, resultsDirs: ['results'], uri: client.uri }, (l) => lines.push(l))).toBe(0);
    expect(lines).toEqual([
      `mlflow sync to ${client.uri}: looked in results/: 0 uploaded, 2 already on the server, 0 skipped (folder gone)`,
    ]);
    const all = await client.searchRuns({ experimentIds: [exp.experiment_id] });
    expect(all).toHaveLength(2);
  });

  it('does not duplicate a run after a crash between creating it and writing the sidecar', async () => {
    const root = makeTempDir('crash');
    const results = join(root, 'results');
    const experiment = unique('crash');
    const dir = await makeRunFolder(join(root, 'runs', 'run'), { finalMetrics: { acc: 0.75 } });

    // a complete upload whose sidecar was then lost
    const uploaded = await trackRun(dir, { uri: client.uri, experiment, resultsDir: results });
    expect(uploaded.mlflow.state).toBe('uploaded');
    await rm(join(dir, 'mlflow.json'));
    const again = await trackRun(dir, { uri: client.uri, experiment, resultsDir: results });
    expect(again.mlflow).toMatchObject({ state: 'uploaded', alreadyPresent: true });

    // an interrupted upload: the MLflow run exists with its key but without the completion tag
    const dir2 = await makeRunFolder(join(root, 'runs', 'run2'), { finalMetrics: { acc: 0.5 } });
    resetMlflowWarning();
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const queued = await trackRun(dir2, {
      uri: await closedPortUri(),
      experiment,
      resultsDir: results,
      retries: { tries: 1 },
    });
    expect(queued.mlflow.state).toBe('pending');
    const exp = await client.ensureExperiment(experiment);
    const partial = await client.createRun({
      experimentId: exp.experiment_id,
      tags: [{ key: RUN_KEY_TAG, value: queued.record.run_key }],
    });

    const report = await syncPending({ resultsDir: results, uri: client.uri });
    expect(report.uploaded).toEqual([queued.record.run_key]);
    const found = await findRunsByKey(client, exp.experiment_id, queued.record.run_key);
    expect(found.map((r) => r.info.run_id)).toEqual([partial.info.run_id]);
    expect(found[0].info.status).toBe('FINISHED');
    expect(found[0].data.metrics.find((m) => m.key === 'acc')?.value).toBe(0.5);
    expect(await client.searchRuns({ experimentIds: [exp.experiment_id] })).toHaveLength(2);
  });
});
