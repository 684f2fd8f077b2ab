// Hands a completed run folder to tracking: local record always, MLflow upload when a server is configured.
// An MLflow failure never fails the run: it is retried a few times, warned about once per process, and
// queued in results/mlflow-pending.jsonl for `scan-repro mlflow sync` (syncPending).
//
// Uploads are idempotent, so a retry or a sync never duplicates a run:
//   1. the run folder's sidecar mlflow.json says which MLflow run holds it, once the upload completed;
//   2. otherwise the server is searched for tag scan_repro.run_key (= run dir @ config hash), so a crash
//      between creating the MLflow run and writing the sidecar resumes that run instead of making a second;
//   3. re-sent params (same values) and metrics (same key/value/step/timestamp) are no-ops on the server.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { atomicWriteFile } from '@scan-repro/core';
import { parseJsonLines, readTextIfExists, withFileLock } from './files';
import { MLFLOW_LIMITS } from './batching';
import {
  MlflowClient,
  MlflowError,
  type MlflowMetric,
  type MlflowParam,
  type MlflowRunInfo,
  type MlflowTag,
} from './mlflow-client';
import { buildRunRecord, recordRunLocally, resultsPaths, runLabels, type RunRecord } from './records';
import { configToParams, getPath, readCompletedRun, type CompletedRun } from './run-folder';

export const RUN_KEY_TAG = 'scan_repro.run_key';
export const UPLOAD_COMPLETE_TAG = 'scan_repro.upload_complete';
export const SIDECAR_FILE = 'mlflow.json';

export interface TrackRunOptions {
  /** MLflow tracking URI; default config.tracking.uri, then env MLFLOW_TRACKING_URI. None: local record only. */
  uri?: string;
  /** MLflow experiment name; default config.tracking.experiment, then 'scan-repro'. */
  experiment?: string;
  /** Extra labels: experiment, table, row, ablation, ... (override those derived from the config). */
  tags?: Record<string, string>;
  /** Where runs.csv / runs.jsonl / mlflow-pending.jsonl live; default config.tracking.results_dir, then 'results'. */
  resultsDir?: string;
  /** Files larger than this are not uploaded (weights, checkpoints). Default 10 MiB. */
  maxArtifactBytes?: number;
  /** Whole-upload attempts and the first backoff delay (doubled each time). Default 3 tries, 500 ms. */
  retries?: { tries?: number; baseDelayMs?: number };
  /** Per-request timeout. Default 30 s. */
  requestTimeoutMs?: number;
}

export interface MlflowSidecar {
  tracking_uri: string;
  experiment_id: string;
  experiment_name: string;
  run_id: string;
  run_key: string;
  uploaded_at: string;
}

export interface PendingUpload {
  run_key: string;
  /** Absolute path of the run folder. */
  run_dir: string;
  tracking_uri: string;
  experiment: string;
  tags: Record<string, string>;
  queued_at: string;
  error: string;
}

export type MlflowOutcome =
  | { state: 'uploaded'; runId: string; experimentId: string; alreadyPresent: boolean }
  | { state: 'pending'; error: string }
  | { state: 'disabled' };

export interface TrackRunResult {
  record: RunRecord;
  mlflow: MlflowOutcome;
}

let warnedUnreachable = false;
/** Tests reset the once-per-process warning to observe it again. */
export function resetMlflowWarning(): void {
  warnedUnreachable = false;
}
function warnOnce(message: string): void {
  if (warnedUnreachable) return;
  warnedUnreachable = true;
  console.warn(message);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function resolveTrackingUri(run: CompletedRun, opts: TrackRunOptions): string | undefined {
  const fromConfig = getPath(run.config, 'tracking.uri');
  const uri =
    opts.uri ??
    (typeof fromConfig === 'string' && fromConfig ? fromConfig : undefined) ??
    process.env.MLFLOW_TRACKING_URI;
  return uri && uri.trim() ? uri.trim() : undefined;
}

export function resolveExperiment(run: CompletedRun, opts: TrackRunOptions): string {
  const fromConfig = getPath(run.config, 'tracking.experiment');
  return opts.experiment ?? (typeof fromConfig === 'string' && fromConfig ? fromConfig : 'scan-repro');
}

function resolveResultsDir(run: CompletedRun, opts: TrackRunOptions): string {
  const fromConfig = getPath(run.config, 'tracking.results_dir');
  return opts.resultsDir ?? (typeof fromConfig === 'string' && fromConfig ? fromConfig : 'results');
}

/** MLflow rejects over-long keys and values; long keys keep a hash suffix so two never collapse into one. */
function fitKey(key: string): string {
  if (key.length <= MLFLOW_LIMITS.keyLength) return key;
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 12);
  return `${key.slice(0, MLFLOW_LIMITS.keyLength - 13)}~${hash}`;
}
const fitValue = (value: string, limit: number) => (value.length <= limit ? value : value.slice(0, limit));

/** Everything logged to MLflow for a run, computed from the run folder alone (so a sync can redo it). */
export function mlflowPayload(run: CompletedRun, record: RunRecord, extraTags: Record<string, string>) {
  const params: MlflowParam[] = Object.entries(configToParams(run.config)).map(([k, v]) => ({
    key: fitKey(k),
    value: fitValue(v, MLFLOW_LIMITS.paramValueLength),
  }));
  const tagMap: Record<string, string | undefined> = {
    ...extraTags,
    dataset: record.dataset,
    stage: record.stage,
    profile: record.profile,
    experiment: record.experiment,
    table: record.table,
    row: record.row,
    ablation: record.ablation,
    seed: record.seed,
    config_hash: record.config_hash,
    code_revision: record.code_revision,
    backend: record.backend,
    run_dir: record.run_dir,
    'mlflow.source.git.commit': run.commit,
    [RUN_KEY_TAG]: record.run_key,
  };
  const tags: MlflowTag[] = Object.entries(tagMap)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([key, value]) => ({ key: fitKey(key), value: fitValue(value, MLFLOW_LIMITS.tagValueLength) }));
  const endTime = run.endTime ?? Date.now();
  const lastStep = run.metrics.reduce((s, m) => Math.max(s, m.step), 0);
  const metrics: MlflowMetric[] = run.metrics.map((m) => ({
    key: m.key,
    value: m.value,
    step: m.step,
    timestamp: m.timestamp || endTime,
  }));
  // Final metrics sit at the run's last step with its end time, so they read as the latest value of their key.
  for (const [key, value] of Object.entries(run.finalMetrics))
    metrics.push({ key, value, step: lastStep, timestamp: endTime });
  return { params, tags, metrics };
}

/** The run's own record, uploaded whatever its size; other files only up to maxArtifactBytes (skips weights). */
const ALWAYS_UPLOADED = new Set(['config.yaml', 'manifest.json', 'metrics.jsonl']);

/** The run folder's small files, relative paths with '/', skipping the sidecar, temp files and big files. */
async function listUploadableFiles(dir: string, maxBytes: number): Promise<{ path: string; relPath: string }[]> {
  const out: { path: string; relPath: string }[] = [];
  const walk = async (folder: string) => {
    const entries = await readdir(folder, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const full = join(folder, e.name);
      if (e.name.startsWith('.') || e.name.endsWith('.tmp')) continue;
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) {
        const relPath = relative(dir, full).split(sep).join('/');
        if (relPath === SIDECAR_FILE) continue;
        if (!ALWAYS_UPLOADED.has(relPath) && (await stat(full)).size > maxBytes) continue;
        out.push({ path: full, relPath });
      }
    }
  };
  await walk(dir);
  return out;
}

async function readSidecar(dir: string): Promise<MlflowSidecar | null> {
  const text = await readTextIfExists(join(dir, SIDECAR_FILE));
  if (text === null) return null;
  try {
    return JSON.parse(text) as MlflowSidecar;
  } catch {
    return null; // a damaged sidecar only costs a search on the server
  }
}

function quoteFilterValue(value: string): string {
  if (!value.includes("'")) return `'${value}'`;
  if (!value.includes('"')) return `"${value}"`;
  throw new Error(`run key ${value} holds both ' and " and cannot be searched for in MLflow; rename the run folder`);
}

/** Finds the MLflow runs that hold a run key, oldest first. */
export async function findRunsByKey(client: MlflowClient, experimentId: string, key: string) {
  return client.searchRuns({
    experimentIds: [experimentId],
    filter: `tags.${RUN_KEY_TAG} = ${quoteFilterValue(key)}`,
    orderBy: ['attributes.start_time ASC'],
  });
}

/** One upload attempt; safe to repeat (see the header comment). */
async function uploadRun(
  client: MlflowClient,
  run: CompletedRun,
  record: RunRecord,
  extraTags: Record<string, string>,
  experimentName: string,
  maxArtifactBytes: number,
): Promise<Extract<MlflowOutcome, { state: 'uploaded' }>> {
  const experiment = await client.ensureExperiment(experimentName);
  const sidecar = await readSidecar(run.dir);
  if (
    sidecar &&
    sidecar.run_key === record.run_key &&
    sidecar.tracking_uri === client.uri &&
    sidecar.experiment_id === experiment.experiment_id
  ) {
    try {
      await client.getRun(sidecar.run_id);
      return { state: 'uploaded', runId: sidecar.run_id, experimentId: experiment.experiment_id, alreadyPresent: true };
    } catch (err) {
      // The server lost that run (a fresh database): upload again below.
      if (!(err instanceof MlflowError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST')) throw err;
    }
  }

  const existing = await findRunsByKey(client, experiment.experiment_id, record.run_key);
  const done = existing.find((r) => r.data.tags.some((t) => t.key === UPLOAD_COMPLETE_TAG && t.value === 'true'));
  let info: MlflowRunInfo;
  if (done) {
    info = done.info;
  } else {
    const runName = getPath(run.config, 'tracking.run_name');
    info =
      existing[0]?.info ??
      (
        await client.createRun({
          experimentId: experiment.experiment_id,
          // MLflow stores run names in a 250-character column
          // the row tells a table's runs apart in the UI's compare view (their folders all end in seed-<n>)
          runName: fitValue(
            typeof runName === 'string' && runName
              ? runName
              : [record.stage, record.dataset, record.row, record.run_dir.split('/').pop()].filter(Boolean).join('-'),
            MLFLOW_LIMITS.keyLength,
          ),
          startTime: run.startTime ?? Date.now(),
          tags: [{ key: RUN_KEY_TAG, value: record.run_key }],
        })
      ).info;
    await client.logBatch(info.run_id, mlflowPayload(run, record, extraTags));
    for (const file of await listUploadableFiles(run.dir, maxArtifactBytes)) {
      await client.uploadArtifact(info, file.relPath, await readFile(file.path));
    }
    // Only complete runs get here (readManifest refuses others), hence FINISHED.
    await client.updateRun(info.run_id, { status: 'FINISHED', endTime: run.endTime ?? Date.now() });
    await client.setTag(info.run_id, UPLOAD_COMPLETE_TAG, 'true');
  }
  const newSidecar: MlflowSidecar = {
    tracking_uri: client.uri,
    experiment_id: experiment.experiment_id,
    experiment_name: experimentName,
    run_id: info.run_id,
    run_key: record.run_key,
    uploaded_at: new Date().toISOString(),
  };
  await atomicWriteFile(join(run.dir, SIDECAR_FILE), JSON.stringify(newSidecar, null, 2) + '\n');
  return {
    state: 'uploaded',
    runId: info.run_id,
    experimentId: experiment.experiment_id,
    alreadyPresent: Boolean(done),
  };
}

export async function uploadWithRetry(
  uri: string,
  run: CompletedRun,
  record: RunRecord,
  extraTags: Record<string, string>,
  experiment: string,
  opts: TrackRunOptions,
): Promise<Extract<MlflowOutcome, { state: 'uploaded' }>> {
  const client = new MlflowClient(uri, { timeoutMs: opts.requestTimeoutMs });
  const tries = Math.max(1, opts.retries?.tries ?? 3);
  const baseDelayMs = opts.retries?.baseDelayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    try {
      return await uploadRun(client, run, record, extraTags, experiment, opts.maxArtifactBytes ?? 10 * 1024 * 1024);
    } catch (err) {
      const transient = err instanceof MlflowError && err.transient;
      if (!transient || attempt >= tries) throw err;
      await sleep(baseDelayMs * 2 ** (attempt - 1));
    }
  }
}

async function readPendingFile(path: string): Promise<PendingUpload[]> {
  const text = await readTextIfExists(path);
  return text === null ? [] : (parseJsonLines(text, path) as PendingUpload[]);
}

async function writePendingFile(path: string, entries: PendingUpload[]): Promise<void> {
  await atomicWriteFile(path, entries.map((e) => JSON.stringify(e)).join('\n') + (entries.length ? '\n' : ''));
}

/** Adds (or refreshes) the run's entry in mlflow-pending.jsonl; one entry per run key. */
async function markPending(resultsDir: string, entry: PendingUpload): Promise<void> {
  const paths = resultsPaths(resultsDir);
  await withFileLock(paths.lock, async () => {
    const entries = (await readPendingFile(paths.pending)).filter((e) => e.run_key !== entry.run_key);
    await writePendingFile(paths.pending, [...entries, entry]);
  });
}

export async function clearPending(resultsDir: string, runKeyToClear: string): Promise<void> {
  const paths = resultsPaths(resultsDir);
  await withFileLock(paths.lock, async () => {
    const entries = await readPendingFile(paths.pending);
    const kept = entries.filter((e) => e.run_key !== runKeyToClear);
    if (kept.length !== entries.length) await writePendingFile(paths.pending, kept);
  });
}

export async function readPendingUploads(resultsDir = 'results'): Promise<PendingUpload[]> {
  return readPendingFile(resultsPaths(resultsDir).pending);
}

/**
 * Records a completed run folder locally and uploads it to MLflow. Throws only when the run folder itself
 * cannot be read (bad input); MLflow problems end as `mlflow.state === 'pending'` with a queued entry.
 */
export async function trackRun(runDir: string, opts: TrackRunOptions = {}): Promise<TrackRunResult> {
  const run = await readCompletedRun(runDir);
  const resultsDir = resolveResultsDir(run, opts);
  const { labels, extraTags } = runLabels(run, opts.tags ?? {});
  const record = buildRunRecord(run, labels, resultsDir);
  await recordRunLocally(record, resultsDir);

  const uri = resolveTrackingUri(run, opts);
  if (!uri) return { record, mlflow: { state: 'disabled' } };
  const experiment = resolveExperiment(run, opts);
  try {
    const uploaded = await uploadWithRetry(uri, run, record, extraTags, experiment, opts);
    await clearPending(resultsDir, record.run_key);
    return { record, mlflow: uploaded };
  } catch (err) {
    const error = (err as Error).message;
    const paths = resultsPaths(resultsDir);
    warnOnce(
      `[tracking] MLflow upload to ${uri} failed: ${error}\n` +
        `[tracking] runs are still recorded in ${paths.jsonl} and queued in ${paths.pending}; ` +
        `upload them later with: scan-repro mlflow sync   (this warning is shown once)`,
    );
    await markPending(resultsDir, {
      run_key: record.run_key,
      run_dir: run.dir,
      tracking_uri: uri,
      experiment,
      tags: opts.tags ?? {},
      queued_at: new Date().toISOString(),
      error,
    });
    return { record, mlflow: { state: 'pending', error } };
  }
}

export interface SyncOptions {
  resultsDir?: string;
  /** Upload to this server instead of the one each entry was queued for. */
  uri?: string;
  retries?: TrackRunOptions['retries'];
  maxArtifactBytes?: number;
  requestTimeoutMs?: number;
}

export interface SyncReport {
  /** Runs newly uploaded by this sync. */
  uploaded: string[];
  /** Runs the server already held completely (nothing sent but the sidecar refreshed). */
  alreadyPresent: string[];
  /** Runs still pending, with why. */
  failed: { run_key: string; error: string }[];
}

/**
 * Uploads every run queued in mlflow-pending.jsonl (`scan-repro mlflow sync`). Idempotent: a run the server
 * already holds is not uploaded again, and a second sync finds nothing to do.
 */
export async function syncPending(opts: SyncOptions = {}): Promise<SyncReport> {
  const resultsDir = opts.resultsDir ?? 'results';
  const report: SyncReport = { uploaded: [], alreadyPresent: [], failed: [] };
  for (const entry of await readPendingUploads(resultsDir)) {
    try {
      const run = await readCompletedRun(entry.run_dir);
      const { labels, extraTags } = runLabels(run, entry.tags ?? {});
      const record = buildRunRecord(run, labels, resultsDir);
      if (record.run_key !== entry.run_key) {
        throw new Error(
          `run folder ${entry.run_dir} now has config hash ${run.configHash}; the pending entry was for ${entry.run_key}. Re-run tracking for it`,
        );
      }
      const uri = opts.uri ?? entry.tracking_uri;
      const outcome = await uploadWithRetry(uri, run, record, extraTags, entry.experiment, {
        ...opts,
        retries: opts.retries ?? { tries: 1 },
      });
      await clearPending(resultsDir, entry.run_key);
      (outcome.alreadyPresent ? report.alreadyPresent : report.uploaded).push(entry.run_key);
    } catch (err) {
      const error = (err as Error).message;
      report.failed.push({ run_key: entry.run_key, error });
      await markPending(resultsDir, { ...entry, error });
    }
  }
  return report;
}
