// The whole pipeline through Nx at the ci profile on real CIFAR-10: pretext -> mine -> scan -> selflabel ->
// per-row eval -> reproduce (one seed: see the seeds note in docs/experiments.md), then the tables from those run folders, and the
// row / seed / ablation tags on the MLflow server.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTables, meanStd } from '@scan-repro/tables';
import { MlflowClient } from '@scan-repro/tracking';
import { makeWorkspace, nx, removeWorkspace } from './experiments-workspace';

const EXPERIMENT = `title: "ci pipeline"
feeds: table1
dataset: cifar10
seeds: {paper: 10, cpu: 1, ci: 1}
rows:
  - row: kmeans
    label: "Pretext (SimCLR) + K-means"
    ablation: {factor: components, value: pretext+kmeans}
    until: scan
    metrics: {acc: kmeans_acc, nmi: kmeans_nmi, ari: kmeans_ari}
  - row: scan-strong-aug
    label: "+ strong augmentations"
    ablation: {factor: components, value: scan+strong-aug}
    until: scan
  - row: scan-selflabel
    label: "+ self-labeling"
    ablation: {factor: components, value: scan+strong-aug+selflabel}
    until: selflabel
`;

let ws: string;
beforeAll(() => { ws = makeWorkspace({ 'ci-table1': EXPERIMENT }); });
afterAll(() => { if (ws) removeWorkspace(ws); });

const metricsOf = (dir: string) => (JSON.parse(readFileSync(join(ws, dir, 'manifest.json'), 'utf8')) as { metrics: Record<string, number> }).metrics;

describe('ci experiment end to end', () => {
  it('reproduce runs every stage once per node (seeds per seeded stage) and records the rows', async () => {
    const r = await nx(ws, ['run', 'ci-table1:reproduce', '-c', 'ci']);
    expect(r.status, r.out.slice(-4000)).toBe(0);
    const rec = JSON.parse(readFileSync(join(ws, 'runs/ci/ci-table1/reproduce.json'), 'utf8'));
    expect(rec.rows.map((x: { id: string; status: string; results: unknown[] }) => [x.id, x.status, x.results.length]))
      .toEqual([['kmeans', 'complete', 1], ['scan-strong-aug', 'complete', 1], ['scan-selflabel', 'complete', 1]]);
    expect(rec.rows[2].pipeline).toEqual({
      pretext: 'runs/ci/cifar10-simclr/pretext', mine: 'runs/ci/cifar10-simclr-mine/mine',
      scan: 'runs/ci/cifar10-simclr-mine-scan/scan', selflabel: 'runs/ci/cifar10-simclr-mine-scan-selflabel/selflabel',
    });
    // the eval of the self-label row read the same seed's selflabel and scan runs
    const m = JSON.parse(readFileSync(join(ws, 'runs/ci/ci-table1/scan-selflabel/eval/seed-0/manifest.json'), 'utf8'));
    expect(m.inputs.selflabel.dir).toBe(join(ws, 'runs/ci/cifar10-simclr-mine-scan-selflabel/selflabel/seed-0'));
    expect(m.inputs.scan.dir).toBe(join(ws, 'runs/ci/cifar10-simclr-mine-scan/scan/seed-0'));
  }, 900_000);

  it('tables show the eval manifests\' numbers (mean ± std over the seeds run)', async () => {
    const { markdown } = await generateTables({ root: ws, outMd: join(ws, 'paper-tables.md'), resultsDir: join(ws, 'results-tables') });
    const accs = [0].map((s) => metricsOf(`runs/ci/ci-table1/scan-selflabel/eval/seed-${s}`).acc * 100);
    const st = meanStd(accs)!;
    const best = Math.max(...accs);
    expect(markdown).toContain(`| + self-labeling (\`scan-selflabel\`) | 87.6 ± 0.4 <sub>mean verified [PWC]; std unverified</sub> | ${st.mean.toFixed(1)} ± ${st.std.toFixed(1)} | ${best.toFixed(1)} | 1 | ci |`);
    const km = [0].map((s) => metricsOf(`runs/ci/ci-table1/kmeans/eval/seed-${s}`).kmeans_acc * 100);
    expect(markdown).toContain(`| Pretext (SimCLR) + K-means (\`kmeans\`) | 65.9 ± 5.7 (unverified) <sub>the authors' '~65%' [ISSUE #38, #49] supports it</sub> | ${meanStd(km)!.mean.toFixed(1)} ± ${meanStd(km)!.std.toFixed(1)} |`);
    expect(markdown).toContain('(results-tables/runs/ci/ci-table1/scan-selflabel/eval/seed-0/confusion.png)');
  }, 60_000);

  it.skipIf(!process.env.MLFLOW_TRACKING_URI)('MLflow: eval runs are in scan-repro/table1 tagged with table, row, ablation factor and seed', async () => {
    const client = new MlflowClient(process.env.MLFLOW_TRACKING_URI!);
    const exp = await client.getExperimentByName('scan-repro/table1');
    expect(exp).not.toBeNull();
    const runs = await client.searchRuns({ experimentIds: [exp!.experiment_id], filter: "tags.experiment = 'ci-table1' and tags.row = 'scan-selflabel'" });
    const tagSets = runs.map((r) => Object.fromEntries(r.data.tags.map((t) => [t.key, t.value])));
    expect(tagSets.map((t) => t.seed).sort()).toEqual(['0']);
    for (const t of tagSets) {
      expect(t).toMatchObject({ table: 'table1', row: 'scan-selflabel', ablation_factor: 'components', ablation_value: 'scan+strong-aug+selflabel', stage: 'eval', profile: 'ci' });
    }
  }, 60_000);
});
