// Reads what a completed run folder holds (written by @scan-repro/core's RunFolder): config.yaml,
// manifest.json, metrics.jsonl. Read defensively: every problem names the file, the key and what was expected.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseJsonLines, readTextIfExists } from './files';

export interface MetricPoint { key: string; value: number; step: number; timestamp: number }

export interface CompletedRun {
  /** Absolute path of the run folder. */
  dir: string;
  /** The resolved config, as parsed from config.yaml. */
  config: Record<string, unknown>;
  configHash: string;
  codeRevision?: string;
  stage?: string;
  backend?: string;
  /** The manifest's status as written ('completed', 'failed', ...), if any. */
  status?: string;
  /** Epoch milliseconds. */
  startTime?: number;
  endTime?: number;
  wallTimeS?: number;
  /** Final metrics of the stage (manifest.metrics). */
  finalMetrics: Record<string, number>;
  /** Per-step metrics from metrics.jsonl, in file order. */
  metrics: MetricPoint[];
}

type Json = Record<string, unknown>;

/** First present key among spellings (core may write camelCase or snake_case). */
function pick(obj: Json, ...keys: string[]): unknown {
  for (const k of keys) if (obj[k] !== undefined && obj[k] !== null) return obj[k];
  return undefined;
}

function asTimeMs(value: unknown, where: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return value < 1e11 ? Math.round(value * 1000) : Math.round(value); // seconds or ms
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new Error(`${where}: '${String(value)}' is not a time; expected an ISO 8601 string or epoch milliseconds`);
}

/** JSON cannot hold NaN/Infinity: accept the usual spellings a writer may have used for them. */
function asMetricValue(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value === null) return NaN;
  if (value === 'NaN' || value === 'nan') return NaN;
  if (value === 'Infinity' || value === 'inf') return Infinity;
  if (value === '-Infinity' || value === '-inf') return -Infinity;
  return undefined;
}

export async function readCompletedRun(runDir: string): Promise<CompletedRun> {
  const dir = resolve(runDir);
  const manifestPath = join(dir, 'manifest.json');
  const configPath = join(dir, 'config.yaml');
  const metricsPath = join(dir, 'metrics.jsonl');

  const manifestText = await readTextIfExists(manifestPath);
  if (manifestText === null) {
    throw new Error(`${manifestPath} does not exist: the run in ${dir} did not complete (manifest.json is written last), so there is nothing to record`);
  }
  let manifest: Json;
  try {
    manifest = JSON.parse(manifestText);
  } catch (err) {
    throw new Error(`${manifestPath}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) {
    throw new Error(`${manifestPath}: expected a JSON object, got ${Array.isArray(manifest) ? 'an array' : typeof manifest}`);
  }

  let configText: string;
  try {
    configText = await readFile(configPath, 'utf8');
  } catch {
    throw new Error(`${configPath} does not exist or cannot be read: a run folder must hold its resolved config`);
  }
  let config: unknown;
  try {
    config = parseYaml(configText);
  } catch (err) {
    throw new Error(`${configPath}: not valid YAML (${(err as Error).message})`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new Error(`${configPath}: expected a mapping of config groups at the top level`);
  }

  const configHash = pick(manifest, 'configHash', 'config_hash');
  if (typeof configHash !== 'string' || configHash.length === 0) {
    throw new Error(`${manifestPath}: key 'configHash' is ${JSON.stringify(configHash)}; expected the config hash string`);
  }
  const rawMetrics = pick(manifest, 'metrics') ?? {};
  if (typeof rawMetrics !== 'object' || Array.isArray(rawMetrics)) {
    throw new Error(`${manifestPath}: key 'metrics' should be an object of name → number, got ${JSON.stringify(rawMetrics).slice(0, 80)}`);
  }
  const finalMetrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(rawMetrics as Json)) {
    const value = asMetricValue(v);
    if (value === undefined) throw new Error(`${manifestPath}: metrics.${k} is ${JSON.stringify(v)}; expected a number`);
    finalMetrics[k] = value;
  }
  const backendRaw = pick(manifest, 'backend');
  const backend = typeof backendRaw === 'object' && backendRaw !== null ? (backendRaw as Json).name : backendRaw;
  const str = (v: unknown) => (v === undefined ? undefined : String(v));
  const wall = pick(manifest, 'wallTimeS', 'wall_time_s', 'wallTime', 'wall_time', 'wallTimeSec');

  const metrics: MetricPoint[] = [];
  const metricsText = await readTextIfExists(metricsPath);
  if (metricsText !== null) {
    const lines = parseJsonLines(metricsText, metricsPath);
    lines.forEach((line, i) => {
      const where = `${metricsPath}: entry ${i + 1}`;
      if (typeof line !== 'object' || line === null) throw new Error(`${where}: expected an object {"key","value","step","timestamp"}`);
      const { key, value, step, timestamp } = line as Json;
      if (typeof key !== 'string' || !key) throw new Error(`${where}: 'key' is ${JSON.stringify(key)}; expected a metric name`);
      const v = asMetricValue(value);
      if (v === undefined) throw new Error(`${where}: 'value' of ${key} is ${JSON.stringify(value)}; expected a number`);
      if (step !== undefined && !(typeof step === 'number' && Number.isInteger(step))) {
        throw new Error(`${where}: 'step' of ${key} is ${JSON.stringify(step)}; expected an integer`);
      }
      metrics.push({ key, value: v, step: (step as number | undefined) ?? 0, timestamp: asTimeMs(timestamp, `${where} 'timestamp'`) ?? 0 });
    });
  }

  return {
    dir,
    config: config as Record<string, unknown>,
    configHash,
    codeRevision: str(pick(manifest, 'codeRevision', 'code_revision', 'gitRevision', 'git_revision')),
    stage: str(pick(manifest, 'stage')),
    backend: str(backend),
    status: str(pick(manifest, 'status')),
    startTime: asTimeMs(pick(manifest, 'startTime', 'start_time', 'start', 'startedAt', 'started_at'), `${manifestPath} 'startTime'`),
    endTime: asTimeMs(pick(manifest, 'endTime', 'end_time', 'end', 'endedAt', 'ended_at'), `${manifestPath} 'endTime'`),
    wallTimeS: typeof wall === 'number' ? wall : undefined,
    finalMetrics,
    metrics,
  };
}

/**
 * Flattens the resolved config into MLflow params: nested keys joined with '.', lists and other
 * non-scalars as JSON, every value a string (MLflow params are strings).
 */
export function configToParams(config: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (value: unknown, prefix: string) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
      for (const [k, v] of Object.entries(value as Json)) walk(v, prefix ? `${prefix}.${k}` : k);
    } else {
      out[prefix] = typeof value === 'string' ? value : JSON.stringify(value);
    }
  };
  walk(config, '');
  return out;
}

/** Reads `a.b.c` from a nested object, undefined when any part is missing. */
export function getPath(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Json)[part];
  }
  return cur;
}
