// The tables generator on run folders written through core's RunFolder API (real manifests; the numbers are the
// stage results given to RunFolder.complete, and the expected cells are computed by hand below), plus a
// reproduce.json record as the reproduce target writes it. Until the eval stage exists this stands in for a
// ci run of Table 1; experiments-nx.test.ts renders a real mine run.
import { existsSync, mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { composeConfig, RunFolder } from '@scan-repro/core';
import { generateTables, meanStd } from '@scan-repro/tables';

let root: string;
const ACC = [0.81, 0.83, 0.79];      // three seeds of one row: mean 81.0, sample std 2.0, best 83.0
const NMI = [0.70, 0.72, 0.71];

async function evalRun(dir: string, seed: number, metrics: Record<string, number>): Promise<void> {
  const config = composeConfig(['dataset=cifar10', 'profile=ci', `profile.seed=${seed}`]);
  const run = await RunFolder.create({ dir, stage: 'eval', config });
  await run.writeArtifact('confusion.png', PNG.sync.write(new PNG({ width: 2, height: 2 })));
  await run.complete({ metrics, artifacts: ['confusion.png'], backend: 'cpu' });
}

/** Three ci seeds of one Table 1 row and a data-missing row, as reproduce records them. */
async function writeRecord(root: string): Promise<void> {
  const rows = [];
  const results = [];
  for (let s = 0; s < 3; s++) {
    const dir = `runs/ci/table1-components/scan-strong-aug/eval/seed-${s}`;
    await evalRun(join(root, dir), s, { acc: ACC[s], nmi: NMI[s], ari: 0.6 });
    results.push({ seed: s, dir, status: 'complete', ...(s === 0 ? { mlflowRunId: 'abcdef1234567890' } : {}) });
  }
  rows.push({ id: 'scan-strong-aug', row: 'scan-strong-aug', label: '+ strong augmentations', dataset: 'cifar10', ablation: { factor: 'components', value: 'x' },
    metrics: { acc: 'acc' }, status: 'complete', pipeline: {}, results });
  rows.push({ id: 'kmeans', row: 'kmeans', label: 'Pretext (SimCLR) + K-means', dataset: 'cifar10', ablation: { factor: 'components', value: 'k' },
    metrics: { acc: 'kmeans_acc' }, status: 'data-missing', message: 'CIFAR-10 (binary version) not found', pipeline: {}, results: [] });
  mkdirSync(join(root, 'runs/ci/table1-components'), { recursive: true });
  writeFileSync(join(root, 'runs/ci/table1-components/reproduce.json'), JSON.stringify({
    version: 1, experiment: 'table1-components', title: 'T1', feeds: 'table1', mlflowExperiment: 'scan-repro/table1', profile: 'ci', seeds: 3,
    writtenAt: new Date().toISOString(), rows,
  }));
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'scan-tables-'));
  await writeRecord(root);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('tables generator', () => {
  it('computes mean ± sample std and best by hand-checkable arithmetic', () => {
    const s = meanStd([81, 83, 79])!;
    expect(s.mean).toBeCloseTo(81, 10);
    expect(s.std).toBeCloseTo(2, 10);
    expect(s.best).toBe(83);
  });

  it('renders paper number + status, our mean ± std / best / seeds / scale / run link, and missing rows', async () => {
    const { markdown, files } = await generateTables({ root, outMd: join(root, 'paper-tables.md'), resultsDir: join(root, 'results'), profiles: ['ci'] });
    // paper: 81.8 ± 0.3 (unverified); ours from the three manifests: 81.0 ± 2.0, best 83.0
    expect(markdown).toContain('| + strong augmentations (`scan-strong-aug`) | 81.8 ± 0.3 (unverified) | 81.0 ± 2.0 | 83.0 | 3 | ci | width 8, pretext 2 ep, SCAN 2 ep, self-label 1 ep, 300 train / 100 val images, cpu backend |');
    expect(markdown).toContain('[results/runs/ci/table1-components/scan-strong-aug/eval](results/runs/ci/table1-components/scan-strong-aug/eval) · MLflow scan-repro/table1: abcdef12');
    expect(markdown).toMatch(/`kmeans`\) \| 65\.9 ± 5\.7 \(unverified\).* \| not run: data missing \(cifar10\) \| – \|/);
    // verified mean printed without the unverified mark; a row nobody ran says so
    expect(markdown).toMatch(/`scan-selflabel`\) \| 87\.6 ± 0\.4 <sub>mean verified \[PWC\]; std unverified<\/sub> \| not run yet/);
    expect(markdown).toContain('[scan-strong-aug ci: confusion.png](results/runs/ci/table1-components/scan-strong-aug/eval/seed-0/confusion.png)');
    // every table of the paper has a section, with paper numbers even where nothing ran
    for (const t of ['Table 1', 'Table 2', 'Table 3', 'Table 4', 'Table 5', 'Overclustering']) expect(markdown).toContain(`## ${t}`);
    expect(markdown).toContain('| IIC | cifar10: 61.7 / 51.1 / 41.1');
    const csv = readFileSync(join(root, 'results/table1.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('table,row,label,dataset,profile,column,paper_mean,paper_std,paper_status,ours_mean,ours_std,ours_best,seeds,status,scale,run_dirs,mlflow_runs');
    const row = csv.find((l) => l.startsWith('table1,scan-strong-aug,'))!;
    expect(row).toMatch(/^table1,scan-strong-aug,\+ strong augmentations,cifar10,ci,acc,81\.8,0\.3,unverified,81(\.0+\d*)?,(2|1\.9999\d+|2\.0000\d+),83(\.0+\d*)?,3,complete,/);
    expect(files).toContain(join(root, 'results/table1.csv'));

    // the records behind the numbers are archived with the tables (weights left out) ...
    const archived = join(root, 'results/runs/ci/table1-components/scan-strong-aug/eval/seed-0');
    expect(JSON.parse(readFileSync(join(archived, 'manifest.json'), 'utf8')).status).toBe('complete');
    expect(existsSync(join(root, 'results/runs/ci/table1-components/reproduce.json'))).toBe(true);
    // ... so that without the (git-ignored) runs/ folder, as on a fresh clone, the same tables come out
    rmSync(join(root, 'runs'), { recursive: true, force: true });
    const again = await generateTables({ root, outMd: join(root, 'paper-tables-again.md'), resultsDir: join(root, 'results'), profiles: ['ci'] });
    expect(again.markdown).toBe(markdown);
  });

  it('the committed tables (no profiles given) leave ci runs out; -c ci renders them into runs/ci/tables/', async () => {
    const root = mkdtempSync(join(tmpdir(), 'scan-tables-committed-'));
    try {
      await writeRecord(root);
      const committed = await generateTables({ root });
      expect(committed.files[0]).toBe(join(root, 'paper-tables.md'));
      expect(committed.markdown).toMatch(/`scan-strong-aug`\) \| 81\.8 ± 0\.3 \(unverified\) \| not run yet/);
      expect(existsSync(join(root, 'results/runs/ci'))).toBe(false);
      const scratch = await generateTables({ root, profiles: ['ci'] });
      expect(scratch.files[0]).toBe(join(root, 'runs/ci/tables/paper-tables.md'));
      expect(scratch.markdown).toContain('| + strong augmentations (`scan-strong-aug`) | 81.8 ± 0.3 (unverified) | 81.0 ± 2.0 | 83.0 | 3 | ci |');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
