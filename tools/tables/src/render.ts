// paper-tables.md, results/<table>.csv and the figures' Vega-Lite specs (rendered to results/<figure>.png by
// main.ts) from the paper's numbers (paper-numbers.yaml) and the measured rows (collect.ts). A cell shows a number
// only when a complete run produced it.
import { stringify } from 'csv-stringify/sync';
import { sweepSpec, type SweepSeries, type TopLevelSpec } from '@scan-repro/plots';
import { meanStd, type MeasuredRow, type Scale } from './collect';

export interface PaperValue {
  mean: number;
  std?: number;
  status: 'verified' | 'unverified';
  note?: string;
}
export interface PaperRow {
  label: string;
  best?: Record<string, number | string>;
  /** Figure rows: the swept value (fig-neighbor-purity takes K from its columns) and the dataset of the curve. */
  x?: number;
  dataset?: string;
  [column: string]: unknown;
}
export interface PaperTable {
  title: string;
  columns: string[];
  note?: string;
  /** Why the paper has no numbers for this table (a sample-scale experiment of ours); its rows carry labels only. */
  no_paper_numbers?: string;
  rows: Record<string, PaperRow>;
  context?: ({ label: string; status: string; note?: string } & Record<string, unknown>)[];
}
export type PaperNumbers = Record<string, PaperTable>;

/** figures: name -> Vega-Lite spec, written as results/<name>.png and results/<name>.vl.json. */
export interface RenderedOutput {
  markdown: string;
  csv: Record<string, string>;
  figures: Record<string, TopLevelSpec>;
}

const f1 = (v: number) => v.toFixed(1);

export function paperCell(row: PaperRow | undefined, columns: string[]): string {
  if (!row) return '–';
  const parts = columns.map((c) => {
    const v = row[c] as PaperValue | undefined;
    if (!v) return '–';
    const s = `${f1(v.mean)}${v.std !== undefined ? ` ± ${f1(v.std)}` : ''}`;
    return v.status === 'unverified' ? `${s} (unverified)` : s;
  });
  const notes = columns.map((c) => (row[c] as PaperValue | undefined)?.note).filter(Boolean);
  const best = row.best
    ? ` · best ${columns.map((c) => (row.best![c] === undefined ? '–' : f1(Number(row.best![c])))).join(' / ')}`
    : '';
  return `${parts.join(' / ')}${best}${notes.length ? ` <sub>${notes.join('; ')}</sub>` : ''}`;
}

/** The Paper cell of a row: the paper's numbers, or why the table has none. */
export function paperText(key: string, table: PaperTable, row: PaperRow | undefined): string {
  if (table.no_paper_numbers === undefined) return paperCell(row, table.columns);
  if (row && table.columns.some((c) => row[c] !== undefined))
    throw new Error(`paper-numbers.yaml: ${key} has no_paper_numbers but row '${row.label}' has a paper value`);
  return `no paper number: ${table.no_paper_numbers}`;
}

export function scaleText(s: Scale): string {
  const bits = [
    s.backboneWidth !== undefined ? `width ${s.backboneWidth}` : '',
    s.pretextEpochs !== undefined ? `pretext ${s.pretextEpochs} ep` : '',
    s.scanEpochs !== undefined ? `SCAN ${s.scanEpochs} ep` : '',
    s.selflabelEpochs !== undefined ? `self-label ${s.selflabelEpochs} ep` : '',
    s.maxTrain !== undefined ? `${s.maxTrain || 'all'} train / ${s.maxVal || 'all'} val images` : '',
    s.backend ? `${s.backend} backend` : '',
  ];
  return bits.filter(Boolean).join(', ');
}

/** Our cell for one measured row: mean ± std per column, and the best run (by the first column). */
export function oursCells(m: MeasuredRow, columns: string[]): { mean: string; best: string } {
  if (m.record.status !== 'complete') {
    const why =
      m.record.status === 'data-missing'
        ? `not run: data missing (${m.record.dataset})`
        : m.record.status === 'unsupported'
          ? `not run: unsupported (${m.record.message})`
          : `not run: incomplete (${m.record.message ?? ''})`;
    return { mean: why, best: '–' };
  }
  const stats = columns.map((c) => meanStd(m.values[c] ?? []));
  const first = m.values[columns[0]] ?? [];
  const bestIdx = first.length ? first.indexOf(Math.max(...first)) : -1;
  return {
    mean: stats.map((s) => (s ? `${f1(s.mean)} ± ${f1(s.std)}` : 'n/a')).join(' / '),
    best:
      bestIdx < 0
        ? '–'
        : columns.map((c) => (m.values[c]?.[bestIdx] === undefined ? 'n/a' : f1(m.values[c][bestIdx]))).join(' / '),
  };
}

function runsCell(m: MeasuredRow): string {
  if (!m.runs.length) return '–';
  const first = m.runs[0];
  const folder = (first.link ?? first.dir).replace(/\/seed-\d+$/, '');
  const mlflow = m.runs.filter((r) => r.mlflowRunId).map((r) => r.mlflowRunId!.slice(0, 8));
  return `[${folder}](${folder})${mlflow.length ? ` · MLflow ${m.mlflowExperiment}: ${mlflow.join(', ')}` : ''}`;
}

const sweepNumber = (m: MeasuredRow) => Number(m.record.sweep?.value ?? m.record.ablation.value);

/** The x of a figure column: K of the neighbour-purity curve's columns (k1 ... k100). */
const columnK = (column: string) => Number(column.replace(/^k/, ''));

/**
 * Figure series: ours one per dataset and profile (x = the swept value, or K of the purity curve; y = mean ± std
 * over seeds of the first column, as in the table), then the paper's, one per dataset, where paper-numbers.yaml
 * has values for the figure.
 */
export function figureSeries(key: string, table: PaperTable, measured: MeasuredRow[]): SweepSeries[] {
  // (x, column) of each point a row gives: every K column of the purity curve, else its swept value
  const points = (x: number): (readonly [number, string])[] =>
    key === 'fig-neighbor-purity'
      ? table.columns.map((c) => [columnK(c), c] as const)
      : [[x, table.columns[0]] as const];
  const groups = new Map<string, SweepSeries>();
  const add = (name: string, source: SweepSeries['source'], x: number, mean: number, std?: number, seeds?: number) => {
    if (!Number.isFinite(x) || !Number.isFinite(mean)) return;
    const s = groups.get(name) ?? { name, source, points: [] };
    s.points.push({ x, mean, ...(std !== undefined ? { std } : {}), ...(seeds !== undefined ? { seeds } : {}) });
    groups.set(name, s);
  };
  for (const m of measured) {
    if (m.record.status !== 'complete') continue;
    for (const [x, c] of points(sweepNumber(m))) {
      const st = meanStd(m.values[c] ?? []);
      if (st) add(`${m.record.dataset} (${m.profile})`, 'ours', x, st.mean, st.std, m.values[c].length);
    }
  }
  for (const [id, row] of Object.entries(table.rows)) {
    const dataset = row.dataset ?? (id.includes('--') ? id.split('--')[0] : undefined);
    for (const [x, c] of points(row.x ?? NaN)) {
      const v = row[c] as PaperValue | undefined;
      if (v) add(dataset ? `paper: ${dataset}` : 'paper', 'paper', x, v.mean, v.std);
    }
  }
  return [...groups.values()];
}

const FIGURE_X: Record<string, { title: string; scale: 'linear' | 'symlog' }> = {
  'fig-threshold': { title: 'self-labeling confidence threshold', scale: 'linear' },
  'fig-neighbor-purity': { title: 'K (nearest neighbours in pretext feature space)', scale: 'symlog' },
};

/** Links to the figures of a row's first run: each PNG, and its Vega-Lite spec when the run wrote one. */
function evalFigureLinks(m: MeasuredRow): string[] {
  return m.runs.slice(0, 1).flatMap((r) =>
    r.artifacts
      .filter((a) => a.endsWith('.png'))
      .map((a) => {
        const dir = r.link ?? r.dir;
        const spec = a.replace(/\.png$/, '.vl.json');
        return `[${m.record.id} ${m.profile}: ${a}](${dir}/${a})${r.artifacts.includes(spec) ? ` ([spec](${dir}/${spec}))` : ''}`;
      }),
  );
}

export function render(paper: PaperNumbers, measured: MeasuredRow[]): RenderedOutput {
  const md: string[] = [
    '# SCAN paper tables: paper numbers vs. this reproduction',
    '',
    'This file is generated. Do not edit it by hand: `npx nx run tables:generate` rewrites it from the recorded',
    'runs (`runs/<profile>/<experiment>/reproduce.json` and the manifests they point to, archived without weights under',
    '`results/runs/`). Every measured number links to the record of the run that produced it (config, manifest with',
    'input hashes and code revision, metrics, pictures); a row without a complete run says why instead of a number.',
    'Paper numbers marked *(unverified)* are recalled values not yet checked against the PDF',
    '(see `../shared/paper/scan-reference.md` beside the repository). Ours: mean ± std over seeds of the clustering steps (one pretext',
    'model), "best" = the run with the highest first column. Profiles: paper = the paper\'s scale; cpu / ci = scaled down',
    "(see the scale column), so their numbers are not comparable to the paper's.",
    '',
  ];
  const csv: Record<string, string> = {};
  const figures: Record<string, TopLevelSpec> = {};
  for (const [key, table] of Object.entries(paper)) {
    const rowsMeasured = measured.filter((m) => m.feeds === key);
    md.push(`## ${table.title}`, '');
    if (table.note) md.push(table.note, '');
    md.push(
      `| Row | Paper (${table.columns.join(' / ')}) | Ours (${table.columns.join(' / ')}) | Best | Seeds | Profile | Scale | Runs |`,
      '|---|---|---|---|---|---|---|---|',
    );
    const csvRows: unknown[][] = [
      [
        'table',
        'row',
        'label',
        'dataset',
        'profile',
        'column',
        'paper_mean',
        'paper_std',
        'paper_status',
        'ours_mean',
        'ours_std',
        'ours_best',
        'seeds',
        'status',
        'scale',
        'run_dirs',
        'mlflow_runs',
      ],
    ];
    // the CSV says 'none' where the table has no paper numbers at all, '' where one column of a paper row lacks one
    const paperStatusWithout = table.no_paper_numbers === undefined ? '' : 'none';
    const ids = [...new Set([...Object.keys(table.rows), ...rowsMeasured.map((m) => m.record.id)])];
    for (const id of ids) {
      const p = table.rows[id];
      const ms = rowsMeasured.filter((m) => m.record.id === id);
      const label = p?.label ?? ms[0]?.record.label ?? id;
      if (!ms.length) {
        md.push(`| ${label} (\`${id}\`) | ${paperText(key, table, p)} | not run yet | – | 0 | – | – | – |`);
        for (const c of table.columns) {
          const v = p?.[c] as PaperValue | undefined;
          csvRows.push([
            key,
            id,
            label,
            '',
            '',
            c,
            v?.mean ?? '',
            v?.std ?? '',
            v?.status ?? paperStatusWithout,
            '',
            '',
            '',
            0,
            'not run yet',
            '',
            '',
            '',
          ]);
        }
        continue;
      }
      for (const m of ms) {
        const ours = oursCells(m, table.columns);
        md.push(
          `| ${label} (\`${id}\`) | ${paperText(key, table, p)} | ${ours.mean} | ${ours.best} | ${m.seeds} | ${m.profile} | ${scaleText(m.scale) || '–'} | ${runsCell(m)} |`,
        );
        for (const c of table.columns) {
          const v = p?.[c] as PaperValue | undefined;
          const st = meanStd(m.values[c] ?? []);
          csvRows.push([
            key,
            id,
            label,
            m.record.dataset,
            m.profile,
            c,
            v?.mean ?? '',
            v?.std ?? '',
            v?.status ?? paperStatusWithout,
            st?.mean ?? '',
            st?.std ?? '',
            st?.best ?? '',
            m.seeds,
            m.record.status === 'complete' ? 'complete' : `not run: ${m.record.status}`,
            scaleText(m.scale),
            m.runs.map((r) => r.dir).join(' '),
            m.runs
              .map((r) => r.mlflowRunId ?? '')
              .filter(Boolean)
              .join(' '),
          ]);
        }
      }
    }
    for (const c of table.context ?? []) {
      const cells = Object.entries(c)
        .filter(([k]) => !['label', 'status', 'note'].includes(k))
        .map(([d, v]) => `${d}: ${(v as (number | null)[]).map((x) => (x === null ? '–' : f1(x))).join(' / ')}`)
        .join('; ');
      md.push(
        `| ${c.label} | ${cells}${c.status === 'unverified' ? ' (unverified)' : ''} | other method: not reproduced | – | – | – | – | – |`,
      );
    }
    md.push('');
    if (key.startsWith('fig-')) {
      const series = figureSeries(key, table, rowsMeasured);
      if (series.length) {
        const x = FIGURE_X[key] ?? { title: 'number of neighbours K', scale: 'symlog' };
        figures[key] = sweepSpec(series, {
          title: table.title,
          xTitle: x.title,
          xScale: x.scale,
          yDomain: [0, 100],
          yTitle: `${table.columns[0] === 'acc' ? 'accuracy' : 'neighbour accuracy'} (%)`,
        });
        md.push(
          `![${table.title}](results/${key}.png)`,
          '',
          "Ours: mean ± std over seeds (band and error bars); the paper's values dashed where paper-numbers.yaml has them. " +
            `Vega-Lite spec: [results/${key}.vl.json](results/${key}.vl.json).`,
          '',
        );
      } else {
        md.push('No complete run for this figure yet: no plot.', '');
      }
    }
    const pictures = rowsMeasured.flatMap(evalFigureLinks);
    if (pictures.length) md.push(`Eval figures (first seed): ${pictures.join(' · ')}`, '');
    csv[`${key}.csv`] = stringify(csvRows);
  }
  return { markdown: md.join('\n'), csv, figures };
}
