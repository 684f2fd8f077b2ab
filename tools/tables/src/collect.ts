// Gathers what was measured: every runs/<profile>/<experiment>/reproduce.json (written by the experiment's
// `reproduce` target), and for each row the manifests of its result runs (numbers come only from manifests).
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import { readManifest } from '@scan-repro/core';

export interface ReproduceRowRecord {
  id: string;
  row: string;
  label: string;
  dataset: string;
  ablation: { factor: string; value: string };
  sweep?: { key: string; value: string };
  metrics: Record<string, string>;
  status: 'complete' | 'data-missing' | 'unsupported' | 'incomplete';
  message?: string;
  pipeline: Record<string, string>;
  results: { seed: number | null; dir: string; status: string; mlflowRunId?: string }[];
}
export interface ReproduceRecordFile {
  version: 1;
  experiment: string;
  title: string;
  feeds: string;
  mlflowExperiment: string;
  profile: string;
  seeds: number;
  budget?: string;
  writtenAt: string;
  rows: ReproduceRowRecord[];
}

export interface Scale {
  backboneWidth?: number;
  pretextEpochs?: number;
  scanEpochs?: number;
  selflabelEpochs?: number;
  maxTrain?: number;
  maxVal?: number;
  backend?: string;
}

export interface MeasuredRow {
  experiment: string;
  feeds: string;
  profile: string;
  mlflowExperiment: string;
  record: ReproduceRowRecord;
  /** Column -> per-seed values in percent (only from complete runs). */
  values: Record<string, number[]>;
  seeds: number;
  scale: Scale;
  /** dir: as recorded (runs/...); link: where the tables point (the archived record under results/runs/...). */
  runs: { seed: number | null; dir: string; link?: string; mlflowRunId?: string; artifacts: string[] }[];
}

/** Metrics in [0, 1] are fractions (our stages); the paper prints percent. */
export const toPercent = (v: number) => (Math.abs(v) <= 1 ? v * 100 : v);

async function scaleOf(dir: string, backend: string | null): Promise<Scale> {
  try {
    const cfg = YAML.parse(await readFile(join(dir, 'config.yaml'), 'utf8')) as Record<string, Record<string, number>>;
    return {
      backboneWidth: cfg.backbone?.width,
      pretextEpochs: cfg.pretext?.epochs,
      scanEpochs: cfg.scan?.epochs,
      selflabelEpochs: cfg.selflabel?.epochs,
      maxTrain: cfg.dataset?.max_train,
      maxVal: cfg.dataset?.max_val,
      backend: backend ?? undefined,
    };
  } catch {
    return { backend: backend ?? undefined };
  }
}

/**
 * The reproduce records of the local run folders (runs/), and of the committed archive (<results>/runs/) for every
 * profile + experiment that has no local record (a fresh clone regenerates the committed tables unchanged).
 */
/** Profiles whose results are committed: the tables read only these unless told otherwise. */
export const COMMITTED_PROFILES = ['paper', 'cpu'];

export async function readRecords(
  workspaceRoot: string,
  resultsDir = join(workspaceRoot, 'results'),
  profiles = COMMITTED_PROFILES,
): Promise<ReproduceRecordFile[]> {
  const out: ReproduceRecordFile[] = [];
  const seen = new Set<string>();
  for (const runs of [join(workspaceRoot, 'runs'), join(resultsDir, 'runs')]) {
    if (!existsSync(runs)) continue;
    for (const profile of readdirSync(runs).sort()) {
      if (!profiles.includes(profile)) continue;
      const pdir = join(runs, profile);
      for (const exp of existsSync(pdir) ? readdirSync(pdir).sort() : []) {
        const file = join(pdir, exp, 'reproduce.json');
        if (!existsSync(file) || seen.has(`${profile}/${exp}`)) continue;
        const rec = JSON.parse(await readFile(file, 'utf8')) as ReproduceRecordFile;
        if (rec.version !== 1) throw new Error(`${file}: version ${rec.version}, expected 1`);
        seen.add(`${profile}/${exp}`);
        out.push(rec);
      }
    }
  }
  return out;
}

/** A recorded run folder: the local one (runs/...) if present, else its archived record under <results>/. */
export const recordedDir = (workspaceRoot: string, resultsDir: string, dir: string) =>
  existsSync(resolve(workspaceRoot, dir)) ? resolve(workspaceRoot, dir) : resolve(resultsDir, dir);

export async function measure(
  workspaceRoot: string,
  records: ReproduceRecordFile[],
  resultsDir = join(workspaceRoot, 'results'),
): Promise<MeasuredRow[]> {
  const out: MeasuredRow[] = [];
  for (const rec of records) {
    for (const row of rec.rows) {
      const values: Record<string, number[]> = Object.fromEntries(Object.keys(row.metrics).map((c) => [c, []]));
      const runs: MeasuredRow['runs'] = [];
      let scale: Scale = {};
      if (row.status === 'complete') {
        for (const r of row.results) {
          const dir = recordedDir(workspaceRoot, resultsDir, r.dir);
          const m = await readManifest(dir); // throws (names the folder) if the run vanished or is incomplete
          for (const [col, key] of Object.entries(row.metrics)) {
            const v = m.metrics[key];
            if (typeof v === 'number' && Number.isFinite(v)) values[col].push(toPercent(v));
          }
          runs.push({ seed: r.seed, dir: r.dir, mlflowRunId: r.mlflowRunId, artifacts: Object.keys(m.artifacts) });
          if (!Object.keys(scale).length) scale = await scaleOf(dir, m.backend);
        }
      }
      out.push({
        experiment: rec.experiment,
        feeds: rec.feeds,
        profile: rec.profile,
        mlflowExperiment: rec.mlflowExperiment,
        record: row,
        values,
        seeds: runs.length,
        scale,
        runs,
      });
    }
  }
  return out;
}

export function meanStd(xs: number[]): { mean: number; std: number; best: number } | null {
  if (!xs.length) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  // Sample std (n - 1), 0 for one run; the paper's "mean ± std over 10 runs".
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std, best: Math.max(...xs) };
}
