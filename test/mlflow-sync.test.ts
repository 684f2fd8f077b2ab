// The README's Tracking recipe on a machine that already ran the experiments: a one-table ci experiment is
// reproduced without a tracking server (nothing uploads), then the recipe runs against a real MLflow server
// (MLFLOW_TRACKING_URI): `reproduce` is all cache hits, and its postTasksExecution sync uploads every run once,
// with the params, metric histories and table / row / ablation / seed tags a fresh run gets.
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MlflowClient } from '@scan-repro/tracking';
import { cacheCounts, makeWorkspace, nx, removeWorkspace } from './experiments-workspace';

const TABLE = `sync-${process.pid}-${Date.now()}`;
const EXPERIMENT = `title: "sync recipe"
feeds: ${TABLE}
dataset: cifar10
seeds: {paper: 1, cpu: 1, ci: 1}
rows:
  - row: kmeans
    label: "Pretext + K-means"
    ablation: {factor: components, value: pretext+kmeans}
    until: scan
    metrics: {acc: kmeans_acc}
  - row: scan
    label: "SCAN"
    ablation: {factor: components, value: scan}
    until: scan
`;
const reproduce = ['run-many', '-t', 'reproduce', '-c', 'ci'];
const uri = process.env.MLFLOW_TRACKING_URI ?? '';
const EVAL = (row: string) => `runs/ci/exp-sync/${row}/eval/seed-0`;

let ws: string;
const sync = (env: Record<string, string>) =>
  spawnSync(join(ws, 'node_modules/.bin/tsx'), [join(ws, 'packages/cli/src/main.ts'), 'mlflow', 'sync'], {
    cwd: ws,
    encoding: 'utf8',
    env: { ...process.env, SCAN_RESULTS_DIR: join(ws, 'results'), ...env },
  });
const summary = (out: string) => /mlflow sync to .*/.exec(out)?.[0];

beforeAll(() => {
  ws = makeWorkspace({ 'exp-sync': EXPERIMENT });
});
afterAll(() => {
  if (ws) removeWorkspace(ws);
});

describe.skipIf(!uri)('README Tracking recipe on runs that are all Nx cache hits', () => {
  const client = new MlflowClient(uri);
  const looked = `looked in results/, runs/ci/records/, runs/records/ and run folders under runs/`;

  it('reproduce without a server records locally and uploads nothing', async () => {
    const r = await nx(ws, reproduce, { MLFLOW_TRACKING_URI: '' });
    expect(r.status, r.out).toBe(0);
    expect(r.out).not.toMatch(/mlflow sync to/);
    expect(readFileSync(join(ws, 'results/runs.jsonl'), 'utf8').trim().split('\n')).toHaveLength(5); // pretext, mine, scan, 2 evals
    expect(await client.getExperimentByName(`scan-repro/${TABLE}`)).toBeNull();
  }, 600_000);

  it('with MLFLOW_TRACKING_URI, reproduce is all cache hits and its sync uploads every run', async () => {
    const r = await nx(ws, reproduce, { MLFLOW_TRACKING_URI: uri });
    expect(r.status, r.out).toBe(0);
    expect(cacheCounts(r.out)).toEqual([6, 6]);
    expect(summary(r.out)).toBe(
      `mlflow sync to ${uri}: ${looked}: 5 uploaded, 0 already on the server, 0 skipped (folder gone)`,
    );

    const exp = (await client.getExperimentByName(`scan-repro/${TABLE}`))!;
    const runs = await client.searchRuns({ experimentIds: [exp.experiment_id] });
    expect(runs.map((x) => x.data.tags.find((t) => t.key === 'stage')!.value).sort()).toEqual([
      'eval',
      'eval',
      'mine',
      'pretext',
      'scan',
    ]);

    // the scan run: its params are the config, its per-step metrics the whole history of metrics.jsonl
    const scan = runs.find((x) => x.data.tags.some((t) => t.key === 'stage' && t.value === 'scan'))!;
    const params = Object.fromEntries(scan.data.params.map((p) => [p.key, p.value]));
    expect(params).toMatchObject({ 'profile.name': 'ci', 'dataset.name': 'cifar10', 'scan.entropy_weight': '5' });
    const local = readFileSync(
      join(ws, 'runs/ci', scan.data.tags.find((t) => t.key === 'node')!.value, 'scan/seed-0/metrics.jsonl'),
      'utf8',
    )
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { key: string; value: number; step: number });
    const key = local[0].key;
    const history = await client.getMetricHistory(scan.info.run_id, key);
    const finalStep = local.filter((m) => m.key === key).length < history.length; // a final metric of the same key adds a point
    expect(history.slice(0, history.length - (finalStep ? 1 : 0)).map((m) => [m.step, m.value])).toEqual(
      local.filter((m) => m.key === key).map((m) => [m.step, m.value]),
    );
  }, 600_000);

  it("one table's ablations compare: eval runs filtered by table tag carry row, ablation, seed and their metrics", async () => {
    const exp = (await client.getExperimentByName(`scan-repro/${TABLE}`))!;
    const evals = await client.searchRuns({
      experimentIds: [exp.experiment_id],
      filter: `tags.table = '${TABLE}' and tags.stage = 'eval'`,
      orderBy: ['tags.row ASC'],
    });
    const tags = evals.map((x) => Object.fromEntries(x.data.tags.map((t) => [t.key, t.value])));
    expect(tags.map((t) => [t.experiment, t.table, t.row, t.ablation, t.seed, t.profile])).toEqual([
      ['exp-sync', TABLE, 'kmeans', 'components=pretext+kmeans', '0', 'ci'],
      ['exp-sync', TABLE, 'scan', 'components=scan', '0', 'ci'],
    ]);
    for (const [i, row] of ['kmeans', 'scan'].entries()) {
      const manifest = JSON.parse(readFileSync(join(ws, EVAL(row), 'manifest.json'), 'utf8')) as {
        metrics: Record<string, number>;
      };
      const onServer = Object.fromEntries(evals[i].data.metrics.map((m) => [m.key, m.value]));
      expect(Object.keys(manifest.metrics)).toContain('kmeans_acc');
      expect(Object.fromEntries(Object.keys(manifest.metrics).map((k) => [k, onServer[k]]))).toEqual(manifest.metrics);
    }
  }, 60_000);

  it('a second sync uploads nothing; a gone folder is skipped and counted; an unlisted run folder is uploaded; no URI is one clear line', async () => {
    let r = sync({ MLFLOW_TRACKING_URI: uri });
    expect(r.status, r.stderr).toBe(0);
    expect(summary(r.stdout)).toBe(
      `mlflow sync to ${uri}: ${looked}: 0 uploaded, 5 already on the server, 0 skipped (folder gone)`,
    );

    rmSync(join(ws, EVAL('kmeans')), { recursive: true });
    r = sync({ MLFLOW_TRACKING_URI: uri });
    expect(summary(r.stdout)).toBe(
      `mlflow sync to ${uri}: ${looked}: 0 uploaded, 4 already on the server, 1 skipped (folder gone)`,
    );
    const exp = (await client.getExperimentByName(`scan-repro/${TABLE}`))!;
    expect(await client.searchRuns({ experimentIds: [exp.experiment_id] })).toHaveLength(5); // nothing sent twice

    // a run folder no record lists (restored from a remote cache elsewhere) is found under runs/ and uploaded once,
    // with the experiment and tags of its config.yaml
    cpSync(join(ws, EVAL('scan')), join(ws, 'runs/ci/restored/eval/seed-0'), { recursive: true });
    rmSync(join(ws, 'runs/ci/restored/eval/seed-0/mlflow.json'));
    r = sync({ MLFLOW_TRACKING_URI: uri });
    expect(summary(r.stdout)).toBe(
      `mlflow sync to ${uri}: ${looked}: 1 uploaded, 4 already on the server, 1 skipped (folder gone)`,
    );
    const restored = await client.searchRuns({
      experimentIds: [exp.experiment_id],
      filter: "tags.run_dir = 'runs/ci/restored/eval/seed-0'",
    });
    expect(restored.map((x) => Object.fromEntries(x.data.tags.map((t) => [t.key, t.value])))).toMatchObject([
      { table: TABLE, row: 'scan', ablation: 'components=scan', seed: '0', stage: 'eval' },
    ]);

    r = sync({ MLFLOW_TRACKING_URI: '' });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      'scan-repro: mlflow sync: no tracking server: pass --uri http://host:port or set MLFLOW_TRACKING_URI (eval "$(bash tools/mlflow/start.sh)" starts one)\n',
    );
  }, 120_000);
});
