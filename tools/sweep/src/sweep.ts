// The sweep's plan (a YAML list of named override sets), its run folders, and its report: one row per entry
// from the entry's recorded pretext and mine runs (config.yaml + manifest.json), as a markdown table, a CSV and
// a figure of kNN accuracy against wall time.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import YAML from 'yaml';
import { type Manifest, RUN_FILES } from '@scan-repro/core';
import { type SweepSeries, sweepSpec, type TopLevelSpec } from '@scan-repro/plots';

export interface SweepEntry {
  name: string;
  note: string;
  overrides: string[];
}
export interface SweepPlan {
  profile: string;
  runs: SweepEntry[];
}

const NAME = /^[a-z0-9][a-z0-9.-]*$/;

/** Reads and checks a sweep file; errors name the file and the entry. */
export function readPlan(file: string): SweepPlan {
  const raw = YAML.parse(readFileSync(file, 'utf8')) as Partial<SweepPlan> | null;
  const fail = (what: string): never => {
    throw new Error(`${file}: ${what}`);
  };
  if (!raw || typeof raw.profile !== 'string') fail("expected 'profile: <name>' at the top level");
  if (!Array.isArray(raw!.runs) || raw!.runs.length === 0) fail("expected a non-empty list 'runs'");
  const seen = new Set<string>();
  for (const [i, r] of raw!.runs!.entries()) {
    if (typeof r?.name !== 'string' || !NAME.test(r.name))
      fail(`runs[${i}].name: expected lower-case letters, digits, '.' and '-', got ${JSON.stringify(r?.name)}`);
    if (seen.has(r.name)) fail(`runs[${i}].name: '${r.name}' appears twice`);
    seen.add(r.name);
    if (!Array.isArray(r.overrides) || !r.overrides.every((o) => typeof o === 'string' && o.includes('=')))
      fail(`runs[${i}] (${r.name}).overrides: expected a list of key=value strings`);
    // the seed is a sweep choice (pretext runs vary with it); the rest of profile, run and tracking are fixed
    const bad = r.overrides.find((o) => /^(profile|run|tracking)\b/.test(o) && !o.startsWith('profile.seed='));
    if (bad)
      fail(`runs[${i}] (${r.name}).overrides: '${bad}' is not a sweep choice (profile, run and tracking are fixed)`);
    if (typeof r.note !== 'string') fail(`runs[${i}] (${r.name}).note: expected one line saying what the entry tests`);
  }
  return raw as SweepPlan;
}

/** Where an entry's stage runs live, relative to the sweep's root folder. */
export const entryDir = (root: string, entry: string, stage: 'pretext' | 'mine') => join(root, entry, stage);

export interface SweepRow {
  name: string;
  note: string;
  trainImages: number;
  width: number;
  epochs: number;
  batch: number;
  steps: number;
  lr: number;
  temperature: number;
  warmupEpochs: number;
  seed: number;
  wallMinutes: number;
  /** CPU minutes (all threads): what the run costs whatever else shared the machine; NaN in older records. */
  cpuMinutes: number;
  knnAccuracy: number;
  /** K of the mine stage: purity is the fraction of the K nearest neighbours that share the image's class. */
  neighbors: number;
  purity: number;
  backend: string;
  codeRevision: string;
}

function readRun(dir: string): { manifest: Manifest; config: Record<string, Record<string, unknown>> } | null {
  const m = join(dir, RUN_FILES.manifest);
  if (!existsSync(m)) return null;
  const manifest = JSON.parse(readFileSync(m, 'utf8')) as Manifest;
  if (manifest.status !== 'complete') return null;
  return { manifest, config: YAML.parse(readFileSync(join(dir, RUN_FILES.config), 'utf8')) };
}

function metric(manifest: Manifest, key: string, dir: string): number {
  const v = manifest.metrics[key];
  if (typeof v !== 'number') throw new Error(`${dir}/${RUN_FILES.manifest}: metric '${key}' is missing`);
  return v;
}

/** The row of one entry, or null while its pretext or mine run is missing or incomplete. */
export function collectRow(root: string, entry: SweepEntry): SweepRow | null {
  const pretextDir = entryDir(root, entry.name, 'pretext');
  const mineDir = entryDir(root, entry.name, 'mine');
  const pretext = readRun(pretextDir);
  const mine = readRun(mineDir);
  if (!pretext || !mine) return null;
  const p = pretext.config.pretext as Record<string, number>;
  const rev = pretext.manifest.codeRevision;
  return {
    name: entry.name,
    note: entry.note,
    trainImages: metric(pretext.manifest, 'train_images', pretextDir),
    width: (pretext.config.backbone as Record<string, number>).width,
    epochs: metric(pretext.manifest, 'epochs', pretextDir),
    batch: p.batch_size,
    steps: metric(pretext.manifest, 'steps', pretextDir),
    lr: p.lr,
    temperature: p.temperature,
    warmupEpochs: p.warmup_epochs ?? 0,
    seed: (pretext.config.profile as Record<string, number>).seed,
    wallMinutes: ((pretext.manifest.wallTimeS ?? Number.NaN) + (mine.manifest.wallTimeS ?? Number.NaN)) / 60,
    cpuMinutes: ((pretext.manifest.cpuTimeS ?? Number.NaN) + (mine.manifest.cpuTimeS ?? Number.NaN)) / 60,
    knnAccuracy: metric(pretext.manifest, 'knn_accuracy', pretextDir),
    neighbors: (mine.config.mine as Record<string, number>).k,
    purity: metric(mine.manifest, 'train_neighbor_accuracy', mineDir),
    backend: pretext.manifest.backend ?? 'unknown',
    codeRevision: rev === 'unknown' ? rev : `${rev.commit.slice(0, 7)}${rev.dirty ? '+dirty' : ''}`,
  };
}

const pct = (x: number) => (100 * x).toFixed(1);

/** The markdown table: every entry, measured or not. */
export function renderTable(plan: SweepPlan, rows: Map<string, SweepRow>): string {
  const head =
    '| run | train images | width | epochs | batch | steps | lr | warmup (epochs) | τ | seed | wall (min) | CPU (core-min) | kNN acc (%) | K | top-K purity (%) | what it tests |';
  const lines = [head, `|${'---|'.repeat(16)}`];
  for (const e of plan.runs) {
    const r = rows.get(e.name);
    lines.push(
      r
        ? `| ${r.name} | ${r.trainImages} | ${r.width} | ${r.epochs} | ${r.batch} | ${r.steps} | ${r.lr} | ${r.warmupEpochs} | ${r.temperature} | ${r.seed} | ${r.wallMinutes.toFixed(1)} | ${Number.isFinite(r.cpuMinutes) ? r.cpuMinutes.toFixed(1) : '–'} | ${pct(r.knnAccuracy)} | ${r.neighbors} | ${pct(r.purity)} | ${e.note} |`
        : `| ${e.name} | | | | | | | | | | not run yet | | | | | ${e.note} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function renderCsv(rows: SweepRow[]): string {
  return stringify(rows, { header: true });
}

/**
 * kNN accuracy against CPU core-minutes (not inflated by other work on the machine), one series per setting:
 * what an extra minute buys. Records without CPU time are left out.
 */
export function accuracyVsTimeSpec(rows: SweepRow[]): TopLevelSpec {
  const groups = new Map<string, SweepSeries>();
  for (const r of rows.filter((row) => Number.isFinite(row.cpuMinutes))) {
    const name = `${r.trainImages} images, width ${r.width}, batch ${r.batch}, τ ${r.temperature}, warmup ${r.warmupEpochs}`;
    const s = groups.get(name) ?? { name, source: 'ours' as const, points: [] };
    s.points.push({ x: Number(r.cpuMinutes.toFixed(1)), mean: 100 * r.knnAccuracy });
    groups.set(name, s);
  }
  for (const s of groups.values()) s.points.sort((a, b) => a.x - b.x);
  return sweepSpec([...groups.values()], {
    title: 'SimCLR on CIFAR-10: kNN accuracy vs CPU time (pretext + mine)',
    xTitle: 'CPU time (core-minutes, all threads)',
    yTitle: 'kNN accuracy on the validation images (%)',
  });
}

export const TABLE_BEGIN = '<!-- sweep-table:begin (tools/sweep writes this block) -->';
export const TABLE_END = '<!-- sweep-table:end -->';

/** Replaces the generated block of `doc` with `table`; the rest of the document is prose and stays. */
export function spliceTable(doc: string, table: string, file: string): string {
  const a = doc.indexOf(TABLE_BEGIN);
  const b = doc.indexOf(TABLE_END);
  if (a < 0 || b < a) throw new Error(`${file}: expected the markers ${TABLE_BEGIN} ... ${TABLE_END}`);
  return `${doc.slice(0, a + TABLE_BEGIN.length)}\n${table}${doc.slice(b)}`;
}
