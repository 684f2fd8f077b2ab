// Reads what a completed run folder holds, through @scan-repro/core (the owner of the format): manifest.json
// (readManifest: errors when missing or not complete), metrics.jsonl (readMetrics), and config.yaml.
// Each value is still checked here, and a problem names the file, the key and what was expected.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { readManifest, readMetrics } from '@scan-repro/core';

export interface MetricPoint {
  key: string;
  value: number;
  step: number;
  timestamp: number;
}

export interface CompletedRun {
  /** Absolute path of the run folder. */
  dir: string;
  /** The resolved config, as parsed from config.yaml. */
  config: Record<string, unknown>;
  /** The run's identity hash (manifest.configHash). */
  configHash: string;
  /** `<commit>` or `<commit>+dirty`; undefined outside git. */
  codeRevision?: string;
  /** The bare commit, for MLflow's mlflow.source.git.commit. */
  commit?: string;
  stage: string;
  backend?: string;
  status: string;
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

function timeMs(value: unknown, where: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new Error(`${where} is ${JSON.stringify(value)}; expected an ISO 8601 time`);
  return ms;
}

/** RunFolder.logMetric writes non-finite values as value null + raw 'NaN' | 'Infinity' | '-Infinity'. */
function metricValue(value: unknown, raw: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value === null) {
    if (raw === undefined || raw === 'NaN') return NaN;
    if (raw === 'Infinity') return Infinity;
    if (raw === '-Infinity') return -Infinity;
  }
  return undefined;
}

export async function readCompletedRun(runDir: string): Promise<CompletedRun> {
  const dir = resolve(runDir);
  const manifestPath = join(dir, 'manifest.json');
  const configPath = join(dir, 'config.yaml');
  const metricsPath = join(dir, 'metrics.jsonl');

  const manifest = await readManifest(dir); // throws, naming the folder, unless the run is complete

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

  if (typeof manifest.configHash !== 'string' || manifest.configHash.length === 0) {
    throw new Error(
      `${manifestPath}: key 'configHash' is ${JSON.stringify(manifest.configHash)}; expected the config hash string`,
    );
  }
  const finalMetrics: Record<string, number> = {};
  for (const [k, v] of Object.entries((manifest.metrics ?? {}) as Json)) {
    const value = metricValue(v, undefined);
    if (value === undefined)
      throw new Error(`${manifestPath}: metrics.${k} is ${JSON.stringify(v)}; expected a number`);
    finalMetrics[k] = value;
  }
  const rev = manifest.codeRevision;
  const commit = rev && typeof rev === 'object' ? rev.commit : undefined;

  const metrics: MetricPoint[] = [];
  (await readMetrics(dir)).forEach((line, i) => {
    const where = `${metricsPath}: record ${i + 1}`;
    const { key, value, step, time, raw } = line as Json;
    if (typeof key !== 'string' || !key)
      throw new Error(`${where}: 'key' is ${JSON.stringify(key)}; expected a metric name`);
    const v = metricValue(value, raw);
    if (v === undefined)
      throw new Error(
        `${where}: 'value' of ${key} is ${JSON.stringify(value)}; expected a number (or null with raw NaN/Infinity)`,
      );
    if (step !== undefined && step !== null && !(typeof step === 'number' && Number.isInteger(step))) {
      throw new Error(`${where}: 'step' of ${key} is ${JSON.stringify(step)}; expected an integer`);
    }
    metrics.push({
      key,
      value: v,
      step: typeof step === 'number' ? step : 0,
      timestamp: timeMs(time, `${where}: 'time' of ${key}`) ?? 0,
    });
  });

  return {
    dir,
    config: config as Record<string, unknown>,
    configHash: manifest.configHash,
    codeRevision: commit ? `${commit}${rev && typeof rev === 'object' && rev.dirty ? '+dirty' : ''}` : undefined,
    commit,
    stage: manifest.stage,
    backend: manifest.backend ?? undefined,
    status: manifest.status,
    startTime: timeMs(manifest.startedAt, `${manifestPath}: 'startedAt'`),
    endTime: timeMs(manifest.endedAt, `${manifestPath}: 'endedAt'`),
    wallTimeS: manifest.wallTimeS ?? undefined,
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
