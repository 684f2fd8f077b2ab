// `scan-repro mlflow sync`: makes the MLflow server hold every run recorded locally. Nx cache hits never run the
// CLI, so runs restored from the cache (or made while no server was set) reach MLflow only through this.
// Complete run folders under runs/ that no record lists (restored from a remote Nx cache) are uploaded as well.
// Each run is re-read from its folder (config.yaml gives the MLflow experiment and tracking.tags, as trackRun
// uses them) and uploaded through the same idempotent path as trackRun: a run the server already holds (sidecar
// or run-key tag) is not sent again.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { readRunRecords, buildRunRecord, runLabels } from './records';
import { getPath, readCompletedRun, type CompletedRun } from './run-folder';
import {
  clearPending,
  readPendingUploads,
  resolveExperiment,
  uploadWithRetry,
  type PendingUpload,
  type SyncOptions,
} from './track';

/** Where runs are recorded, relative to the workspace root: cpu/paper experiment runs, the ci profile's
 *  tracking.results_dir, and the schema default of tracking.results_dir (one-off CLI runs). */
export const RECORD_FOLDERS = ['results', 'runs/ci/records', 'runs/records'];

export interface SyncRecordedOptions extends Omit<SyncOptions, 'resultsDir'> {
  /** Workspace root the record folders are relative to; default the working directory. */
  root?: string;
  /** Record folders to read; default RECORD_FOLDERS and SCAN_RESULTS_DIR. */
  resultsDirs?: string[];
  /** Folders searched for complete run folders that no record lists; default ['runs'] (none when resultsDirs is given). */
  runRoots?: string[];
}

export interface SyncRecordedReport {
  uri: string;
  /** The record folders read, and the folders searched for unlisted run folders (relative to root when inside it). */
  looked: string[];
  searched: string[];
  uploaded: string[];
  alreadyPresent: string[];
  /** Recorded runs whose folder no longer holds that run (deleted, or re-run with another config). */
  skipped: { run_key: string; reason: string }[];
  failed: { run_key: string; error: string }[];
}

export class NoTrackingUriError extends Error {}

export function syncTrackingUri(uri?: string): string {
  const chosen = (uri ?? process.env.MLFLOW_TRACKING_URI ?? '').trim();
  if (!chosen) {
    throw new NoTrackingUriError(
      'mlflow sync: no tracking server: pass --uri http://host:port or set MLFLOW_TRACKING_URI (eval "$(bash tools/mlflow/start.sh)" starts one)',
    );
  }
  return chosen;
}

const shown = (root: string, dir: string) => {
  const rel = relative(root, dir);
  return rel && !rel.startsWith('..') ? `${rel.split(sep).join('/')}/` : `${dir}/`;
};

interface Candidate {
  key?: string;
  dir: string;
  resultsDir: string;
  entry?: PendingUpload;
}

/** Complete run folders under `dir` (a folder holding manifest.json is not descended into). */
async function findRunFolders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  if (entries.some((e) => e.isFile() && e.name === 'manifest.json')) return [dir];
  const found: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.isDirectory() && !e.name.startsWith('.')) found.push(...(await findRunFolders(join(dir, e.name))));
  }
  return found;
}

/** The record folder a run folder names in its config (relative to the workspace root), else the schema default. */
function configuredResultsDir(run: CompletedRun, root: string): string {
  const value = getPath(run.config, 'tracking.results_dir');
  return resolve(root, typeof value === 'string' && value ? value : RECORD_FOLDERS[2]);
}

/** Uploads every recorded run the server lacks; a second call uploads nothing. */
export async function syncRecordedRuns(opts: SyncRecordedOptions = {}): Promise<SyncRecordedReport> {
  const uri = syncTrackingUri(opts.uri);
  const root = resolve(opts.root ?? '.');
  // SCAN_RESULTS_DIR: where the Nx stage targets were told to record (run-stage.ts), when set
  const defaults = [...RECORD_FOLDERS, ...(process.env.SCAN_RESULTS_DIR ? [process.env.SCAN_RESULTS_DIR] : [])];
  const folders = [...new Set((opts.resultsDirs ?? defaults).map((d) => resolve(root, d)))];
  const runRoots = (opts.runRoots ?? (opts.resultsDirs ? [] : ['runs'])).map((d) => resolve(root, d));
  const report: SyncRecordedReport = {
    uri,
    looked: folders.map((d) => shown(root, d)),
    searched: runRoots.map((d) => shown(root, d)),
    uploaded: [],
    alreadyPresent: [],
    skipped: [],
    failed: [],
  };
  const candidates: Candidate[] = [];
  for (const resultsDir of folders) {
    // A queued upload keeps the tags its caller passed (trackRun's opts.tags), which the run folder lacks.
    const pending = new Map((await readPendingUploads(resultsDir)).map((p) => [p.run_key, p]));
    const recorded = (await readRunRecords(resultsDir)).map((r) => ({
      key: r.run_key,
      dir: resolve(dirname(resultsDir), r.run_dir),
    }));
    const queuedOnly = [...pending.values()]
      .filter((p) => !recorded.some((r) => r.key === p.run_key))
      .map((p) => ({ key: p.run_key, dir: p.run_dir }));
    for (const c of [...recorded, ...queuedOnly]) candidates.push({ ...c, resultsDir, entry: pending.get(c.key) });
  }
  // Run folders no record lists: restored from a (remote) Nx cache onto a machine that never ran them.
  const listed = new Set(candidates.map((c) => resolve(c.dir)));
  for (const runRoot of runRoots) {
    for (const dir of await findRunFolders(runRoot)) if (!listed.has(dir)) candidates.push({ dir, resultsDir: '' });
  }

  const seen = new Set<string>();
  for (const c of candidates) {
    const label = c.key ?? c.dir;
    if (c.key && !existsSync(join(c.dir, 'manifest.json'))) {
      report.skipped.push({ run_key: c.key, reason: `folder gone (${c.dir})` });
      continue;
    }
    try {
      const run = await readCompletedRun(c.dir).catch((err: Error) => {
        if (c.key) throw err;
        return null; // an unlisted folder whose run never completed is no run to upload
      });
      if (!run) continue;
      const resultsDir = c.resultsDir || configuredResultsDir(run, root);
      const { labels, extraTags } = runLabels(run, c.entry?.tags ?? {});
      const record = buildRunRecord(run, labels, resultsDir);
      if (c.key && record.run_key !== c.key) {
        report.skipped.push({ run_key: c.key, reason: `folder now holds another run (${record.run_key})` });
        continue;
      }
      if (seen.has(record.run_key)) continue;
      seen.add(record.run_key);
      const experiment = c.entry?.experiment ?? resolveExperiment(run, {});
      const outcome = await uploadWithRetry(uri, run, record, extraTags, experiment, {
        ...opts,
        retries: opts.retries ?? { tries: 2 },
      });
      if (c.entry) await clearPending(resultsDir, record.run_key);
      (outcome.alreadyPresent ? report.alreadyPresent : report.uploaded).push(record.run_key);
    } catch (err) {
      report.failed.push({ run_key: label, error: (err as Error).message.split('\n')[0] });
    }
  }
  return report;
}
