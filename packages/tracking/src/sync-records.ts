// `scan-repro mlflow sync`: makes the MLflow server hold every run recorded locally. Nx cache hits never run the
// CLI, so runs restored from the cache (or made while no server was set) reach MLflow only through this.
// Each run is re-read from its folder (config.yaml gives the MLflow experiment and tracking.tags, as trackRun
// uses them) and uploaded through the same idempotent path as trackRun: a run the server already holds (sidecar
// or run-key tag) is not sent again.
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { readRunRecords, buildRunRecord, runLabels } from './records';
import { readCompletedRun } from './run-folder';
import { clearPending, readPendingUploads, resolveExperiment, uploadWithRetry, type SyncOptions } from './track';

/** Where runs are recorded, relative to the workspace root: cpu/paper experiment runs, the ci profile's
 *  tracking.results_dir, and the schema default of tracking.results_dir (one-off CLI runs). */
export const RECORD_FOLDERS = ['results', 'runs/ci/records', 'runs/records'];

export interface SyncRecordedOptions extends Omit<SyncOptions, 'resultsDir'> {
  /** Workspace root the record folders are relative to; default the working directory. */
  root?: string;
  /** Record folders to read; default RECORD_FOLDERS and SCAN_RESULTS_DIR. */
  resultsDirs?: string[];
}

export interface SyncRecordedReport {
  uri: string;
  /** The record folders read, as given (relative to root when inside it). */
  looked: string[];
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
    throw new NoTrackingUriError('mlflow sync: no tracking server: pass --uri http://host:port or set MLFLOW_TRACKING_URI (eval "$(bash tools/mlflow/start.sh)" starts one)');
  }
  return chosen;
}

const shown = (root: string, dir: string) => {
  const rel = relative(root, dir);
  return rel && !rel.startsWith('..') ? `${rel.split(sep).join('/')}/` : `${dir}/`;
};

/** Uploads every recorded run the server lacks; a second call uploads nothing. */
export async function syncRecordedRuns(opts: SyncRecordedOptions = {}): Promise<SyncRecordedReport> {
  const uri = syncTrackingUri(opts.uri);
  const root = resolve(opts.root ?? '.');
  // SCAN_RESULTS_DIR: where the Nx stage targets were told to record (run-stage.ts), when set
  const defaults = [...RECORD_FOLDERS, ...(process.env.SCAN_RESULTS_DIR ? [process.env.SCAN_RESULTS_DIR] : [])];
  const folders = [...new Set((opts.resultsDirs ?? defaults).map((d) => resolve(root, d)))];
  const report: SyncRecordedReport = { uri, looked: folders.map((d) => shown(root, d)), uploaded: [], alreadyPresent: [], skipped: [], failed: [] };
  const seen = new Set<string>();
  for (const resultsDir of folders) {
    // A queued upload keeps the tags its caller passed (trackRun's opts.tags), which the run folder lacks.
    const pending = new Map((await readPendingUploads(resultsDir)).map((p) => [p.run_key, p]));
    const recorded = (await readRunRecords(resultsDir)).map((r) => ({ key: r.run_key, dir: resolve(dirname(resultsDir), r.run_dir) }));
    const queuedOnly = [...pending.values()].filter((p) => !recorded.some((r) => r.key === p.run_key)).map((p) => ({ key: p.run_key, dir: p.run_dir }));
    for (const { key, dir } of [...recorded, ...queuedOnly]) {
      if (seen.has(key)) continue;
      seen.add(key);
      if (!existsSync(join(dir, 'manifest.json'))) {
        report.skipped.push({ run_key: key, reason: `folder gone (${dir})` });
        continue;
      }
      try {
        const run = await readCompletedRun(dir);
        const entry = pending.get(key);
        const { labels, extraTags } = runLabels(run, entry?.tags ?? {});
        const record = buildRunRecord(run, labels, resultsDir);
        if (record.run_key !== key) {
          report.skipped.push({ run_key: key, reason: `folder now holds another run (${record.run_key})` });
          continue;
        }
        const experiment = entry?.experiment ?? resolveExperiment(run, {});
        const outcome = await uploadWithRetry(uri, run, record, extraTags, experiment, { ...opts, retries: opts.retries ?? { tries: 2 } });
        if (entry) await clearPending(resultsDir, key);
        (outcome.alreadyPresent ? report.alreadyPresent : report.uploaded).push(key);
      } catch (err) {
        report.failed.push({ run_key: key, error: (err as Error).message.split('\n')[0] });
      }
    }
  }
  return report;
}
