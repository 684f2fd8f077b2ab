// The tables generator on run folders written through core's RunFolder API (real manifests; the numbers are the
// stage results given to RunFolder.complete, and the expected cells are computed by hand below), plus a
// reproduce.json record as the reproduce target writes it. Until the eval stage exists this stands in for a
// ci run of Table 1; experiments-nx.test.ts renders a real mine run.
import { existsSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { composeConfig, RunFolder } from '@scan-repro/core';
import {
  figureSeries,
  generateTables,
  meanStd,
  measure,
  readRecords,
  render,
  type MeasuredRow,
} from '@scan-repro/tables';
import { tempDir, testTempDir } from '@scan-repro/test-utils';

const root = tempDir('scan-tables');
const ACC = [0.81, 0.83, 0.79]; // three seeds of one row: mean 81.0, sample std 2.0, best 83.0
const NMI = [0.7, 0.72, 0.71];

async function evalRun(dir: string, seed: number, metrics: Record<string, number>): Promise<void> {
  const config = composeConfig(['dataset=cifar10', 'profile=ci', `profile.seed=${seed}`]);
  const run = await RunFolder.create({ dir, stage: 'eval', config });
  await run.writeArtifact('confusion.png', PNG.sync.write(new PNG({ width: 2, height: 2 })));
  await run.writeArtifact('confusion.vl.json', '{}\n');
  await run.complete({ metrics, artifacts: ['confusion.png', 'confusion.vl.json'], backend: 'cpu' });
}

/** The threshold figure: two seeds at each of two thresholds (ACC 80, 84 at 0.9: mean 82, std √8; 85, 87 at 0.99). */
const THRESHOLD_ACC: Record<string, number[]> = { '0.9': [0.8, 0.84], '0.99': [0.85, 0.87] };
async function writeThresholdRecord(root: string): Promise<void> {
  const rows = [];
  for (const [value, accs] of Object.entries(THRESHOLD_ACC)) {
    const id = `threshold-${value.replace('.', '_')}`;
    const results = [];
    for (const [s, acc] of accs.entries()) {
      const dir = `runs/ci/fig-threshold/${id}/eval/seed-${s}`;
      await evalRun(join(root, dir), s, { acc });
      results.push({ seed: s, dir, status: 'complete' });
    }
    rows.push({
      id,
      row: 'threshold',
      label: `threshold ${value}`,
      dataset: 'cifar10',
      ablation: { factor: 'threshold', value },
      sweep: { key: 'selflabel.threshold', value },
      metrics: { acc: 'acc' },
      status: 'complete',
      pipeline: {},
      results,
    });
  }
  writeFileSync(
    join(root, 'runs/ci/fig-threshold/reproduce.json'),
    JSON.stringify({
      version: 1,
      experiment: 'fig-threshold',
      title: 'threshold',
      feeds: 'fig-threshold',
      mlflowExperiment: 'scan-repro/fig-threshold',
      profile: 'ci',
      seeds: 2,
      writtenAt: new Date().toISOString(),
      rows,
    }),
  );
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
  rows.push({
    id: 'scan-strong-aug',
    row: 'scan-strong-aug',
    label: '+ strong augmentations',
    dataset: 'cifar10',
    ablation: { factor: 'components', value: 'x' },
    metrics: { acc: 'acc' },
    status: 'complete',
    pipeline: {},
    results,
  });
  rows.push({
    id: 'kmeans',
    row: 'kmeans',
    label: 'Pretext (SimCLR) + K-means',
    dataset: 'cifar10',
    ablation: { factor: 'components', value: 'k' },
    metrics: { acc: 'kmeans_acc' },
    status: 'data-missing',
    message: 'CIFAR-10 (binary version) not found',
    pipeline: {},
    results: [],
  });
  mkdirSync(join(root, 'runs/ci/table1-components'), { recursive: true });
  writeFileSync(
    join(root, 'runs/ci/table1-components/reproduce.json'),
    JSON.stringify({
      version: 1,
      experiment: 'table1-components',
      title: 'T1',
      feeds: 'table1',
      mlflowExperiment: 'scan-repro/table1',
      profile: 'ci',
      seeds: 3,
      writtenAt: new Date().toISOString(),
      rows,
    }),
  );
}

beforeAll(async () => {
  await writeRecord(root);
  await writeThresholdRecord(root);
});

describe('tables generator', () => {
  it('computes mean ± sample std and best by hand-checkable arithmetic', () => {
    const s = meanStd([81, 83, 79])!;
    expect(s.mean).toBeCloseTo(81, 10);
    expect(s.std).toBeCloseTo(2, 10);
    expect(s.best).toBe(83);
  });

  it('renders paper number + status, our mean ± std / best / seeds / scale / run link, and missing rows', async () => {
    const { markdown, files } = await generateTables({
      root,
      outMd: join(root, 'paper-tables.md'),
      resultsDir: join(root, 'results'),
      profiles: ['ci'],
    });
    // paper: 81.8 ± 0.3 (unverified); ours from the three manifests: 81.0 ± 2.0, best 83.0
    expect(markdown).toContain(
      '| + strong augmentations (`scan-strong-aug`) | 81.8 ± 0.3 (unverified) | 81.0 ± 2.0 | 83.0 | 3 | ci | width 8, pretext 2 ep, SCAN 2 ep, self-label 1 ep, 300 train / 100 val images, cpu backend |',
    );
    expect(markdown).toContain(
      '[results/runs/ci/table1-components/scan-strong-aug/eval](results/runs/ci/table1-components/scan-strong-aug/eval) · MLflow scan-repro/table1: abcdef12',
    );
    expect(markdown).toMatch(
      /`kmeans`\) \| 65\.9 ± 5\.7 \(unverified\).* \| not run: data missing \(cifar10\) \| – \|/,
    );
    // verified mean printed without the unverified mark; a row nobody ran says so
    expect(markdown).toMatch(
      /`scan-selflabel`\) \| 87\.6 ± 0\.4 <sub>mean verified \[PWC\]; std unverified<\/sub> \| not run yet/,
    );
    expect(markdown).toContain(
      '[scan-strong-aug ci: confusion.png](results/runs/ci/table1-components/scan-strong-aug/eval/seed-0/confusion.png) ([spec](results/runs/ci/table1-components/scan-strong-aug/eval/seed-0/confusion.vl.json))',
    );
    // every table of the paper has a section, with paper numbers even where nothing ran
    for (const t of ['Table 1', 'Table 2', 'Table 3', 'Table 4', 'Table 5', 'Overclustering'])
      expect(markdown).toContain(`## ${t}`);
    expect(markdown).toContain('| IIC | cifar10: 61.7 / 51.1 / 41.1');
    const csv = readFileSync(join(root, 'results/table1.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe(
      'table,row,label,dataset,profile,column,paper_mean,paper_std,paper_status,ours_mean,ours_std,ours_best,seeds,status,scale,run_dirs,mlflow_runs',
    );
    const row = csv.find((l) => l.startsWith('table1,scan-strong-aug,'))!;
    expect(row).toMatch(
      /^table1,scan-strong-aug,\+ strong augmentations,cifar10,ci,acc,81\.8,0\.3,unverified,81(\.0+\d*)?,(2|1\.9999\d+|2\.0000\d+),83(\.0+\d*)?,3,complete,/,
    );
    expect(files).toContain(join(root, 'results/table1.csv'));

    // the records behind the numbers are archived with the tables (weights left out) ...
    const archived = join(root, 'results/runs/ci/table1-components/scan-strong-aug/eval/seed-0');
    expect(JSON.parse(readFileSync(join(archived, 'manifest.json'), 'utf8')).status).toBe('complete');
    expect(existsSync(join(root, 'results/runs/ci/table1-components/reproduce.json'))).toBe(true);
    // ... so that without the (git-ignored) runs/ folder, as on a fresh clone, the same tables come out
    rmSync(join(root, 'runs'), { recursive: true, force: true });
    const again = await generateTables({
      root,
      outMd: join(root, 'paper-tables-again.md'),
      resultsDir: join(root, 'results'),
      profiles: ['ci'],
    });
    expect(again.markdown).toBe(markdown);
  });

  it('draws a sweep figure: mean ± std over seeds per swept value, as PNG and Vega-Lite spec beside the CSV', async () => {
    const results = join(root, 'results'); // where the first test archived the records (runs/ is gone)
    const { markdown, files } = await generateTables({
      root,
      outMd: join(root, 'paper-tables-fig.md'),
      resultsDir: results,
      profiles: ['ci'],
    });
    expect(files).toEqual(
      expect.arrayContaining([join(results, 'fig-threshold.png'), join(results, 'fig-threshold.vl.json')]),
    );
    expect(markdown).toContain(
      '![Figure: self-labeling confidence threshold vs accuracy (CIFAR-10)](results/fig-threshold.png)',
    );
    expect(markdown).toContain('Vega-Lite spec: [results/fig-threshold.vl.json](results/fig-threshold.vl.json)');
    const spec = JSON.parse(readFileSync(join(results, 'fig-threshold.vl.json'), 'utf8'));
    const points = spec.data.values.map((v: Record<string, unknown>) => [
      v.series,
      v.source,
      v.x,
      v.mean,
      v.std,
      v.seeds,
    ]);
    expect(points.length).toBe(2);
    expect(points[0].slice(0, 3)).toEqual(['cifar10 (ci)', 'ours', 0.9]);
    expect(points[0][3]).toBeCloseTo(82, 10);
    expect(points[0][4]).toBeCloseTo(Math.sqrt(8), 10);
    expect(points[1][3]).toBeCloseTo(86, 10);
    expect(points[1][4]).toBeCloseTo(Math.SQRT2, 10);
    expect(points.map((p: unknown[]) => p[5])).toEqual([2, 2]);
    expect(spec.encoding.x.title).toBe('self-labeling confidence threshold');
    const png = PNG.sync.read(readFileSync(join(results, 'fig-threshold.png')));
    expect(png.width).toBeGreaterThan(480); // the plot's width plus axes and legend, at two pixels per unit
    // the CSV keeps the same numbers
    expect(readFileSync(join(results, 'fig-threshold.csv'), 'utf8')).toMatch(
      /^fig-threshold,threshold-0_9,threshold 0\.9,cifar10,ci,acc,,,,82(\.0+\d*)?,2\.828/m,
    );
  });

  it("puts the paper's figure values beside ours where paper-numbers has them", async () => {
    const measured = await measure(root, await readRecords(root, join(root, 'results'), ['ci']));
    const paper = {
      'fig-threshold': {
        title: 'threshold',
        columns: ['acc'],
        rows: {
          'threshold-0_99': {
            label: 'threshold 0.99',
            x: 0.99,
            dataset: 'cifar10',
            acc: { mean: 87.6, std: 0.4, status: 'verified' },
          },
          'threshold-0_5': { label: 'no x: not drawn', acc: { mean: 50, status: 'unverified' } },
        },
      },
    };
    const values = (
      render(paper, measured).figures['fig-threshold'] as unknown as { data: { values: Record<string, unknown>[] } }
    ).data.values;
    expect(values.filter((v) => v.source === 'paper')).toEqual([
      { series: 'paper: cifar10', source: 'paper', x: 0.99, mean: 87.6, std: 0.4, low: 87.6 - 0.4, high: 87.6 + 0.4 },
    ]);
    // the neighbour-purity curve takes K from its columns, for ours and the paper's
    const row = {
      record: {
        status: 'complete',
        dataset: 'stl10',
        id: 'stl10--purity',
        ablation: { factor: 'num_neighbors', value: 'curve' },
      },
      profile: 'cpu',
      values: { k1: [90], k5: [85, 87], k20: [] },
    } as unknown as MeasuredRow;
    const purity = {
      title: 'purity',
      columns: ['k1', 'k5', 'k20'],
      rows: { 'stl10--purity': { label: 'p', k20: { mean: 72.81, status: 'verified' as const } } },
    };
    const series = figureSeries('fig-neighbor-purity', purity, [row]);
    expect(series.map((s) => [s.name, s.source, s.points.map((p) => [p.x, p.mean, p.seeds])])).toEqual([
      [
        'stl10 (cpu)',
        'ours',
        [
          [1, 90, 1],
          [5, 86, 2],
        ],
      ],
      ['paper: stl10', 'paper', [[20, 72.81, undefined]]],
    ]);
  });

  it('a table without paper numbers says why in the Paper column and the CSV; a paper value there is an error', () => {
    const row = {
      feeds: 'sample',
      profile: 'ci',
      record: { status: 'complete', dataset: 'imagenet_sample', id: 'scan', label: 'SCAN' },
      values: { top1: [40, 44], nmi: [30, 30] },
      seeds: 2,
      scale: {},
      runs: [],
    } as unknown as MeasuredRow;
    const sample = {
      title: 'Sample',
      columns: ['top1', 'nmi'],
      no_paper_numbers: 'sample scale',
      rows: { kmeans: { label: 'K-means' }, scan: { label: 'SCAN' } },
    };
    const out = render({ sample }, [row]);
    expect(out.markdown).toContain('| K-means (`kmeans`) | no paper number: sample scale | not run yet |');
    expect(out.markdown).toContain(
      `| SCAN (\`scan\`) | no paper number: sample scale | 42.0 ± ${Math.sqrt(8).toFixed(1)} / 30.0 ± 0.0 | 44.0 / 30.0 | 2 | ci |`,
    );
    expect(out.csv['sample.csv']).toMatch(/^sample,scan,SCAN,imagenet_sample,ci,top1,,,none,42,/m);
    const contradicts = {
      sample: { ...sample, rows: { scan: { label: 'SCAN', top1: { mean: 50, status: 'verified' } } } },
    };
    expect(() => render(contradicts, [row])).toThrow(/sample has no_paper_numbers but row 'SCAN' has a paper value/);
  });

  it('the committed tables (no profiles given) leave ci runs out; -c ci renders them into runs/ci/tables/', async () => {
    const root = testTempDir('scan-tables-committed');
    await writeRecord(root);
    const committed = await generateTables({ root });
    expect(committed.files[0]).toBe(join(root, 'paper-tables.md'));
    expect(committed.markdown).toMatch(/`scan-strong-aug`\) \| 81\.8 ± 0\.3 \(unverified\) \| not run yet/);
    expect(existsSync(join(root, 'results/runs/ci'))).toBe(false);
    const scratch = await generateTables({ root, profiles: ['ci'] });
    expect(scratch.files[0]).toBe(join(root, 'runs/ci/tables/paper-tables.md'));
    expect(scratch.markdown).toContain(
      '| + strong augmentations (`scan-strong-aug`) | 81.8 ± 0.3 (unverified) | 81.0 ± 2.0 | 83.0 | 3 | ci |',
    );
  });
});
