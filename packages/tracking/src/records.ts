// Local records of completed runs: results/runs.jsonl (source of truth, one object per run) and
// results/runs.csv (the same rows flattened for spreadsheets and tools/tables). Kept whether or not MLflow
// is reachable. Keyed by run folder + config hash: recording a run again replaces its row.
import { join, relative, resolve, isAbsolute, dirname, sep } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { atomicWriteFile } from '@scan-repro/core';
import { parseJsonLines, readTextIfExists, withFileLock } from './files';
import { getPath, type CompletedRun } from './run-folder';

/** Tags that identify a run in the local records and in MLflow. */
export interface RunLabels {
  dataset?: string;
  stage?: string;
  profile?: string;
  experiment?: string;
  table?: string;
  row?: string;
  ablation?: string;
  seed?: string;
}

export interface RunRecord extends RunLabels {
  /** `<run_dir>@<config_hash>`: what makes a record (and an MLflow run) unique. */
  run_key: string;
  /** Relative to the project root (the folder holding results/) when inside it, else absolute. */
  run_dir: string;
  config_hash: string;
  backend?: string;
  code_revision?: string;
  status?: string;
  start_time?: string;
  end_time?: string;
  wall_time_s?: number;
  recorded_at: string;
  metrics: Record<string, number>;
}

const LABEL_KEYS = ['dataset', 'stage', 'profile', 'experiment', 'table', 'row', 'ablation', 'seed'] as const;
const CSV_FIXED_COLUMNS = [
  'run_key',
  'run_dir',
  'config_hash',
  ...LABEL_KEYS,
  'backend',
  'code_revision',
  'status',
  'start_time',
  'end_time',
  'wall_time_s',
  'recorded_at',
] as const;

export function resultsPaths(resultsDir: string) {
  const dir = resolve(resultsDir);
  return {
    dir,
    jsonl: join(dir, 'runs.jsonl'),
    csv: join(dir, 'runs.csv'),
    pending: join(dir, 'mlflow-pending.jsonl'),
    lock: join(dir, '.records.lock'),
  };
}

/** The run folder as written in records and in the run key: stable across working directories of one checkout. */
export function recordedRunDir(runDir: string, resultsDir: string): string {
  const projectRoot = dirname(resolve(resultsDir));
  const rel = relative(projectRoot, resolve(runDir));
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : resolve(runDir);
}

export function runKey(runDir: string, configHash: string, resultsDir: string): string {
  return `${recordedRunDir(runDir, resultsDir)}@${configHash}`;
}

/**
 * Labels of a run: derived from its config and manifest, then `config.tracking.tags`, then the caller's tags
 * (later wins), so an experiment runner can say which table / row / ablation a run feeds.
 */
export function runLabels(
  run: CompletedRun,
  extra: Record<string, string> = {},
): { labels: RunLabels; extraTags: Record<string, string> } {
  const str = (v: unknown) => (v === undefined || v === null || v === '' ? undefined : String(v));
  const merged: Record<string, string | undefined> = {
    dataset: str(getPath(run.config, 'dataset.name')),
    stage: run.stage,
    profile: str(getPath(run.config, 'profile.name')),
    seed: str(getPath(run.config, 'profile.seed')),
  };
  const configTags = getPath(run.config, 'tracking.tags');
  if (configTags && typeof configTags === 'object' && !Array.isArray(configTags)) {
    for (const [k, v] of Object.entries(configTags)) if (str(v) !== undefined) merged[k] = str(v);
  }
  for (const [k, v] of Object.entries(extra)) if (str(v) !== undefined) merged[k] = str(v);
  const labels: RunLabels = {};
  const extraTags: Record<string, string> = {};
  for (const [k, v] of Object.entries(merged)) {
    if (v === undefined) continue;
    if ((LABEL_KEYS as readonly string[]).includes(k)) labels[k as keyof RunLabels] = v;
    else extraTags[k] = v;
  }
  return { labels, extraTags };
}

export function buildRunRecord(run: CompletedRun, labels: RunLabels, resultsDir: string, now = new Date()): RunRecord {
  const iso = (ms?: number) => (ms === undefined ? undefined : new Date(ms).toISOString());
  return {
    run_key: runKey(run.dir, run.configHash, resultsDir),
    run_dir: recordedRunDir(run.dir, resultsDir),
    config_hash: run.configHash,
    ...labels,
    backend: run.backend,
    code_revision: run.codeRevision,
    status: run.status,
    start_time: iso(run.startTime),
    end_time: iso(run.endTime),
    wall_time_s:
      run.wallTimeS ??
      (run.startTime !== undefined && run.endTime !== undefined ? (run.endTime - run.startTime) / 1000 : undefined),
    recorded_at: now.toISOString(),
    metrics: run.finalMetrics,
  };
}

export async function readRunRecords(resultsDir: string): Promise<RunRecord[]> {
  const { jsonl } = resultsPaths(resultsDir);
  const text = await readTextIfExists(jsonl);
  return text === null ? [] : (parseJsonLines(text, jsonl) as RunRecord[]);
}

function toCsv(records: RunRecord[]): string {
  const metricNames = [...new Set(records.flatMap((r) => Object.keys(r.metrics ?? {})))].sort();
  const header = [...CSV_FIXED_COLUMNS, ...metricNames.map((m) => `metric.${m}`)];
  const rows = records.map((r) => [
    ...CSV_FIXED_COLUMNS.map((c) => (r as unknown as Record<string, unknown>)[c] ?? ''),
    ...metricNames.map((m) => (r.metrics?.[m] === undefined ? '' : String(r.metrics[m]))),
  ]);
  return stringify([header, ...rows]);
}

/**
 * Adds the record to runs.jsonl and runs.csv, replacing an earlier record with the same run_key.
 * Both files are rewritten atomically under a lock, so parallel runs never lose or tear a row.
 */
export async function recordRunLocally(record: RunRecord, resultsDir: string): Promise<{ replaced: boolean }> {
  const paths = resultsPaths(resultsDir);
  return withFileLock(paths.lock, async () => {
    const records = await readRunRecords(resultsDir);
    const at = records.findIndex((r) => r.run_key === record.run_key);
    if (at >= 0) records[at] = record;
    else records.push(record);
    await atomicWriteFile(paths.jsonl, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    await atomicWriteFile(paths.csv, toCsv(records));
    return { replaced: at >= 0 };
  });
}
